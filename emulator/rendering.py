"""The upscale of a job: its input asset in, its result asset out.

Runs on a render worker (see scheduler.py) outside the lock; the result becomes an asset only
when the scheduler declares the job a success, through the returned publish step.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from . import formats, imaging
from .ids import new_id
from .scheduler import Job, Publish
from .store import Asset, Store


class Renderer:
    def __init__(self, store: Store, *, keep_alpha: bool, break_tiling: bool,
                 result_format: str = "png") -> None:
        self._store = store
        self._keep_alpha = keep_alpha
        self._break_tiling = break_tiling
        self._result_format = result_format

    def __call__(self, job: Job) -> Publish:
        source = self._store.asset(job.source_asset_id)
        if source is None:
            raise RuntimeError(f"input asset {job.source_asset_id} no longer exists")
        data = imaging.upscale(source.data, job.factor, keep_alpha=self._keep_alpha,
                               break_tiling=self._break_tiling)
        if self._result_format != "png":
            data = imaging.convert(data, self._result_format)
        mime_type = formats.MIME_TYPES[self._result_format]
        stem = PurePosixPath(source.name).stem or source.id
        result = Asset(
            id=new_id("asset"), name=f"{stem}_x{job.factor}.{formats.extension_for(mime_type)}",
            mime_type=mime_type, data=data,
            width=source.width * job.factor, height=source.height * job.factor,
            source="upscale-texture", owner_id=job.owner_id, parent_id=source.id, job_id=job.id,
        )
        # Called under the scheduler's lock, and only for a job still in its slot (a reset
        # that cleared the jobs also drops the result).
        return lambda: self._store.add_asset(result).id
