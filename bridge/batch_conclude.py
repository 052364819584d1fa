"""Main thread: the end of each job of a batch — applied and recorded in its line — and the
cancel of all of them."""

from __future__ import annotations

from ..core.batch import Batch
from ..core.states import ItemStatus, ViewStatus
from . import apply, runtime


def conclude(rt: runtime.Runtime, batch: Batch, view: runtime.JobView) -> apply.Outcome:
    """Applies one ended job of ``batch`` (main thread) and records how it went."""
    item = batch.item_for(view.local_id)
    if view.record is None:  # ended before its job started: skipped or cancelled
        if item is not None and item.status != ItemStatus.SKIPPED:
            item.status, item.reason = ItemStatus.CANCELLED, runtime.NOT_STARTED
        batch.finish_if_done()
        reason = item.reason if item is not None else view.message
        skipped = item is not None and item.status == ItemStatus.SKIPPED
        return apply.Outcome("WARNING", f"Skipped: {reason}" if skipped else runtime.NOT_STARTED)
    outcome = apply.conclude(rt, view)
    if item is not None:
        record = view.record
        item.seconds = view.elapsed
        if record is not None:
            item.job_id, item.cost = record.job_id, record.cost
        if outcome.applied is not None:
            item.status = ItemStatus.DONE
            item.result_image, item.result_path = outcome.applied.image_name, outcome.applied.path
        elif view.status == ViewStatus.CANCELLED:
            item.status, item.reason = ItemStatus.CANCELLED, outcome.message
        else:
            item.status, item.reason = ItemStatus.FAILED, view.message or outcome.message
    batch.finish_if_done()
    return outcome


def cancel(rt: runtime.Runtime, batch: Batch) -> int:
    """Stops waiting for every running job of the batch; returns how many were stopped."""
    return sum(1 for item in batch.pending if rt.cancel(item.local_id))
