"""The batch list the panels and the command line show: its rows, filled once per batch, and each
line's live status, read from the job's view when drawn."""

from __future__ import annotations

import bpy

from ..api.prices import credits_text
from ..core.batch import Batch, BatchItem, item_text, live_text
from ..core.states import ItemStatus, Stage, ViewStatus
from . import runtime


def latest(rt: runtime.Runtime | None) -> Batch | None:
    return next(reversed(rt.batches.values()), None) if rt and rt.batches else None


def live_view(rt: runtime.Runtime, item: BatchItem) -> runtime.JobView | None:
    if item.status != ItemStatus.RUNNING:
        return None
    return rt.jobs.get(item.local_id)


def status_text(rt: runtime.Runtime, item: BatchItem, step: int = 1) -> str:
    view = live_view(rt, item)
    if view is None:
        return item_text(item)
    question = getattr(view, "question", None)
    if question is not None:
        total = question.batch_total
        return (f"Confirm batch: {credits_text(total)}" if total is not None
                else f"Confirm price: {credits_text(question.cost)}")
    if view.status == ViewStatus.READY:
        return item_text(item, "Applying")
    return item_text(item, live_text(view.stage, view.label, view.fraction, step))


def status_word(rt: runtime.Runtime, item: BatchItem) -> str:
    """The list's short status column (the active row's details say the rest)."""
    view = live_view(rt, item)
    if view is None:
        return item.status.title()
    if getattr(view, "question", None) is not None:
        return "Confirm"
    if view.status == ViewStatus.READY:
        return "Applying"
    if view.fraction is not None:
        return f"{round(view.fraction * 100)} %"
    if view.stage == Stage.WAITING_SLOT:
        return "Waiting"  # for a slot at Scenario: the details say so in full
    return live_text(view.stage)


def show(wm: bpy.types.WindowManager, batch: Batch) -> None:
    """Fills the list the panels draw (once per batch; live status is read when drawing)."""
    state = wm.scenario_batch
    state.rows.clear()
    state.batch_id = batch.batch_id
    for item in batch.items:
        row = state.rows.add()
        row.image, row.role, row.local_id = item.image, item.role, item.local_id
    state.active = 0
