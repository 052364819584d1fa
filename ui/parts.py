"""Pieces more than one panel draws: why nothing can be sent, and a batch's price question."""

from __future__ import annotations

import bpy

from ..api.prices import credits_text
from ..api.wording import counted, verb
from ..bridge import ADDON_PACKAGE, availability
from ..core.batch import Batch
from .lines import label_lines
from .widgets import button


def draw_connection_problem(layout: bpy.types.UILayout, context: bpy.types.Context) -> bool:
    """Why nothing can be sent, with the way out; False when Scenario can be reached. Missing
    keys get one button to where they go, not the whole story."""
    problem = availability.why_cannot_connect()
    if problem == availability.NO_KEYS:
        layout.label(text="No Scenario API key yet", icon="ERROR")
        button(layout, "preferences.addon_show", text="Enter API Keys",
               icon="PREFERENCES").module = ADDON_PACKAGE
    elif problem:
        label_lines(layout, context, problem, icon="ERROR")
    return bool(problem)


def draw_batch_question(col: bpy.types.UILayout, context: bpy.types.Context,
                        batch: Batch) -> None:
    """A batch priced whole whose total passes Confirm Above: pay for all of it, or none."""
    question = batch.question
    assert question is not None
    col.alert = True
    label_lines(col, context, f"{counted(question.images, 'image')} "
                              f"{verb(question.images, 'costs', 'cost')} "
                              f"{credits_text(question.cost)} in all (your limit: "
                              f"{credits_text(question.limit)})")
    pay = button(col, "scenario.answer_price", text="Pay and Upscale All", icon="CHECKMARK")
    pay.batch_id, pay.pay = batch.batch_id, True
    stop = button(col, "scenario.answer_price", text="Don't Pay", icon="CANCEL")
    stop.batch_id, stop.pay = batch.batch_id, False
