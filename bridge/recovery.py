"""Collecting the results of jobs a previous session (or a cancelled wait) left behind.

Sends a new generate request only for a UDIM set's tiles that have no result (failed, or never
sent: ``udim_recovery.py``), priced and confirmed as an upscale is. A job that was sent but whose
id was never learned is marked uncertain by the pipeline and never sent again by itself.
"""

from __future__ import annotations

import os

import bpy

from ..api.params import UpscaleParams
from ..core import job_view
from ..core.journal import JobRecord
from ..core.refusal import Refusal
from ..core.states import JobState
from ..core.upscale_job import UpscaleJob
from . import addon_data, connection, preview_request, request, runtime, udim_recovery

WINDING_DOWN = "Stopping: Recover is possible again in a moment."
STILL_RUNNING = "Still running in this session."


def why_not_now(rt: runtime.Runtime, local_id: str) -> str:
    """Why the job cannot be recovered at this moment ("" when it can). Never waits: a stopped
    job's thread takes a second or two to return, and the UI must not freeze meanwhile."""
    if local_id in rt.winding_down():
        return WINDING_DOWN
    return STILL_RUNNING if rt.is_busy(local_id) else ""


def resume(rt: runtime.Runtime, record: JobRecord) -> job_view.JobView:
    """Starts collecting ``record``'s result; a downloaded one is ready at once."""
    reason = why_not_now(rt, record.local_id)
    if reason:
        raise Refusal(f"'{record.source_image}': {reason}")
    if record.state in (JobState.DOWNLOADED, JobState.APPLIED):
        gone = [path for path in record.result_files if not os.path.isfile(path)]
        if gone:
            raise FileNotFoundError(
                f"The result of '{record.source_image}' is no longer at {gone[0]}."
            )
        return rt.ready_view(record)
    if record.is_set:
        return udim_recovery.resume(rt, record)
    if record.is_preview_set:
        return preview_request.resume(rt, record)
    conn = connection.connection()
    prefs = addon_data.preferences()
    job = UpscaleJob(record=record, params=UpscaleParams(), work_dir=rt.work_dir / record.local_id,
                     timeout_s=request.timeout_seconds(prefs),
                     limits=request.result_limits(prefs))
    return rt.start_upscale(job, conn.connect, record.source_image)


def current_file() -> str:
    return bpy.data.filepath
