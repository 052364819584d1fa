"""What endpoint code works with: the emulator's parts, each owning its own logic and locking.

The app (app.py) builds one ``Services`` and hands it to every endpoint; endpoints never see
the app, the HTTP layer or each other.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from .asset_urls import AssetUrls
from .faults import FaultPlan
from .model_catalog import ModelCatalog
from .options import EmulatorOptions
from .request_log import RequestLog
from .scheduler import JobScheduler
from .store import Store
from .upload_flow import UploadFlow
from .wire import job_json


@dataclass(frozen=True)
class Services:
    options: EmulatorOptions
    assets: Store
    urls: AssetUrls
    jobs: JobScheduler
    uploads: UploadFlow
    faults: FaultPlan
    log: RequestLog
    models: ModelCatalog

    def reset(self, *, clear_state: bool = False) -> None:
        self.faults.clear()
        self.log.clear()
        self.jobs.end_stuck()
        if clear_state:
            self.jobs.clear()
            self.uploads.clear()
            self.assets.clear()

    def state(self) -> dict[str, Any]:
        """Everything the emulator holds, for the control API and tests."""
        # Read in the order things are produced (a job or an upload before the asset it makes),
        # so a finished job or import never points at an asset missing from the list.
        jobs = [job_json(job) for job in self.jobs.jobs()]
        counts = self.jobs.counts()
        uploads = [{"id": u.id, "status": u.status, "entityId": u.entity_id,
                    "errorMessage": u.error_message, "fileName": u.file_name}
                   for u in self.uploads.uploads()]
        assets = [{"id": a.id, "name": a.name, "mimeType": a.mime_type, "width": a.width,
                   "height": a.height, "size": len(a.data), "source": a.source}
                  for a in self.assets.assets()]
        return {"time": time.time(), "jobs": jobs, "jobCounts": counts, "uploads": uploads,
                "assets": assets, "faults": self.faults.describe(),
                "otherRoot": self.urls.other_root}
