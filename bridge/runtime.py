"""The add-on's running state: one worker pool, the journal, and a view of every job for the UI.

Created on first use and shut down by unregister(). Workers report through events; ``pump``
(main thread only) folds them into the job views the panels draw.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bpy

from ..core import pipeline, worker
from ..core.journal import JobRecord, Journal
from . import ADDON_PACKAGE

RUNNING = "running"
READY = "ready"  # downloaded, waiting to be applied on the main thread
DONE = "done"
FAILED = "failed"
CANCELLED = "cancelled"

STAGE_TEXT = {
    "preparing": "Preparing",
    "uploading": "Uploading",
    "submitting": "Submitting",
    "generating": "Generating",
    "downloading": "Downloading",
    "processing": "Processing",
    "applying": "Applying",
}


@dataclass
class JobView:
    """What the UI shows of one job; updated only on the main thread."""

    local_id: str
    title: str
    record: JobRecord | None = None
    status: str = RUNNING
    stage: str = "preparing"
    label: str = ""
    fraction: float | None = None
    message: str = ""
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    result: Any = None
    error: BaseException | None = None

    @property
    def elapsed(self) -> float:
        return (self.ended or time.monotonic()) - self.started

    @property
    def stage_text(self) -> str:
        text = self.label or STAGE_TEXT.get(self.stage, self.stage.title())
        if self.fraction is not None and self.status == RUNNING:
            text = f"{text} {round(self.fraction * 100)} %"
        return text


class Runtime:
    def __init__(self, user_dir: Path, max_workers: int = 4) -> None:
        self.user_dir = user_dir
        self.journal = Journal(user_dir / "journal")
        self.work_dir = user_dir / "work"
        self.pool = worker.WorkerPool(max_workers, error_message=_user_message)
        self.jobs: dict[str, JobView] = {}

    def start(self, view: JobView, job: Callable[[worker.JobContext], Any]) -> JobView:
        self.jobs[view.local_id] = view
        self.pool.submit(view.local_id, job)
        return view

    def start_upscale(self, upscale: pipeline.UpscaleJob, connect: pipeline.ClientFactory,
                      title: str) -> JobView:
        record = upscale.record
        self.journal.save(record)
        view = JobView(record.local_id, title, record=record)
        return self.start(view, lambda ctx: pipeline.run(upscale, ctx, self.journal, connect))

    def pump(self, timeout: float | None = None) -> bool:
        """Folds pending worker events into the views; True when anything changed."""
        events = self.pool.drain(timeout)
        for event in events:
            view = self.jobs.get(event.local_id)
            if view is None:
                continue
            if event.kind == worker.PROGRESS:
                view.stage, view.fraction, view.label = event.stage, event.fraction, event.message
            elif event.kind == worker.FINISHED:
                view.status, view.result, view.fraction = READY, event.payload, None
            elif event.kind == worker.FAILED:
                view.status, view.message, view.error = FAILED, event.message, event.payload
                view.ended = time.monotonic()
            elif event.kind == worker.CANCELLED:
                view.status, view.ended = CANCELLED, time.monotonic()
        return bool(events)

    def wait(self, local_id: str, tick: float = 0.05) -> JobView:
        """Blocks until the job leaves RUNNING: for background mode (``blender -b``) only."""
        view = self.jobs[local_id]
        while view.status == RUNNING:
            self.pump(timeout=tick)
        return view

    def cancel(self, local_id: str) -> bool:
        return self.pool.cancel(local_id)

    def running(self) -> list[JobView]:
        return [v for v in self.jobs.values() if v.status in (RUNNING, READY)]

    def shutdown(self, timeout: float = 5.0) -> bool:
        return self.pool.shutdown(timeout)


def _user_message(exc: BaseException) -> str:
    return str(exc) or f"Unexpected error ({type(exc).__name__}); see the system console."


_runtime: Runtime | None = None


def get() -> Runtime:
    global _runtime
    if _runtime is None:
        user_dir = Path(bpy.utils.extension_path_user(ADDON_PACKAGE, create=True))
        _runtime = Runtime(user_dir, max_workers=_concurrency())
    return _runtime


def peek() -> Runtime | None:
    """The runtime if it exists; drawing code must not create one."""
    return _runtime


def shutdown() -> None:
    global _runtime
    if _runtime is not None:
        _runtime.shutdown()
        _runtime = None


def _concurrency() -> int:
    prefs = bpy.context.preferences
    addon = prefs.addons.get(ADDON_PACKAGE)
    wanted = int(getattr(addon.preferences, "max_concurrent_jobs", 0)) if addon else 0
    if wanted <= 0:
        wanted = int(getattr(prefs.system, "network_connection_limit", 0) or 4)
    return max(1, min(wanted, 16))
