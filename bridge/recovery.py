"""Collecting the results of jobs a previous session (or a cancelled wait) left behind.

Never sends a new generate request: a job that was sent but whose id was never learned is marked
uncertain by the pipeline instead.
"""

from __future__ import annotations

import os

import bpy

from ..api.params import UpscaleParams
from ..core import journal as J
from ..core.pipeline import UpscaleJob
from . import connection, request, runtime, set_recovery


def resume(rt: runtime.Runtime, record: J.JobRecord) -> runtime.JobView:
    """Starts collecting ``record``'s result; a downloaded one is ready at once."""
    if not rt.pool.wait_until_idle(record.local_id):
        raise RuntimeError(f"The job for '{record.source_image}' is still running.")
    if record.state in (J.DOWNLOADED, J.APPLIED):
        gone = [path for path in record.result_files if not os.path.isfile(path)]
        if gone:
            raise FileNotFoundError(
                f"The result of '{record.source_image}' is no longer at {gone[0]}."
            )
        view = runtime.JobView(record.local_id, record.source_image, record=record,
                               status=runtime.READY)
        rt.jobs[record.local_id] = view
        return view
    if record.is_set:
        return set_recovery.resume(rt, record)
    conn = connection.connection()
    job = UpscaleJob(record=record, params=UpscaleParams(), work_dir=rt.work_dir / record.local_id,
                     timeout_s=request.timeout_seconds(connection.preferences()))
    return rt.start_upscale(job, conn.connect, record.source_image)


def current_file() -> str:
    return bpy.data.filepath
