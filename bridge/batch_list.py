"""The batch list the panels and the command line show: its rows, filled once per batch, and each
line's live status, read from the job's view when drawn: the view's own words
(``JobView.stage_text``), so the list and every other place say the same."""

from __future__ import annotations

import bpy

from ..core import job_view
from ..core.batch import Batch, BatchItem, item_text, live_text
from ..core.states import ItemStatus, ViewStatus
from . import addon_data, runtime


def latest(rt: runtime.Runtime | None) -> Batch | None:
    return next(reversed(rt.batches.values()), None) if rt and rt.batches else None


def live_view(rt: runtime.Runtime, item: BatchItem) -> job_view.JobView | None:
    if item.status != ItemStatus.RUNNING:
        return None
    return rt.jobs.get(item.local_id)


def status_text(rt: runtime.Runtime, item: BatchItem, step: int = 1) -> str:
    view = live_view(rt, item)
    if view is None:
        return item_text(item)
    question = getattr(view, "question", None)
    if question is not None:
        return view.stage_text
    if step == 1:
        return item_text(item, view.stage_text)
    # The command line prints a line per change: its percentages in coarser steps.
    fraction = view.fraction if view.status == ViewStatus.RUNNING else None
    return item_text(item, view.stage_text if fraction is None else
                     live_text(view.stage, view.label, fraction, step))


def status_word(rt: runtime.Runtime, item: BatchItem) -> str:
    """The list's short status column (the active row's details say the rest)."""
    view = live_view(rt, item)
    if view is None:
        return item.status.title()
    return view.stage_word


def batch_ids(rt: runtime.Runtime | None) -> set[str]:
    """The jobs of every batch: the batch list shows them, no other place."""
    if rt is None:
        return set()
    return {item.local_id for batch in rt.batches.values() for item in batch.items}


def show(wm: bpy.types.WindowManager, batch: Batch) -> None:
    """Fills the list the panels draw (once per batch; live status is read when drawing)."""
    state = addon_data.batch_list(wm)
    state.rows.clear()
    state.batch_id = batch.batch_id
    for item in batch.items:
        row = state.rows.add()
        row.image, row.role, row.local_id = item.image, item.role, item.local_id
    state.active = 0
