"""The panel's other paths: a batch, the price question answered both ways, online access off."""

from __future__ import annotations

from typing import Any

import bpy
import scene
from harness import MODULE, Harness, Steps
from undo_redo import prepared


def _ended(h: Harness, count: int = 1) -> bool:
    views = h.jobs()
    return len(views) >= count and all(v.status not in ("running", "ready") for v in views)


def batch(h: Harness) -> Steps:
    """Upscale All Textures from the Image Editor's batch panel, then one Ctrl+Z."""
    yield from prepared(h, roughness=True)
    area = h.image_editor()
    h.note("invoke", sorted(h.invoke(area, bpy.ops.scenario.upscale_materials, "UI")))
    yield from h.wait_for(lambda: _ended(h, 2), "the batch to end")
    yield 0.5
    h.screenshot("batch_done")
    h.note("nodes", scene.images_in_nodes())
    batch = h.addon("bridge.batch_list").latest(h.runtime())
    h.note("items", sorted((i.image, str(i.status)) for i in batch.items))
    h.note("paid", h.paid_generates())
    h.key(area, "ctrl+z")
    yield 1.0
    h.note("nodes_after_undo", scene.images_in_nodes())


def _asking(h: Harness, pay: bool) -> Steps:
    prefs = bpy.context.preferences.addons[MODULE].preferences
    prefs.confirm_expensive, prefs.confirm_above_credits = True, 0.5
    yield from prepared(h)
    area = h.image_editor()
    h.invoke(area, bpy.ops.scenario.upscale_image, "UI")
    yield from h.wait_for(lambda: any(v.question is not None for v in h.jobs()), "the question")
    yield 0.5
    h.screenshot("panel_asking_price", h.region(area, "UI"))
    [view] = h.jobs()
    h.note("asked", {"cost": view.question.cost, "limit": view.question.limit})
    h.note("paid_while_asking", h.paid_generates())
    operator = h.addon("operators.upscale_image").SCENARIO_OT_upscale_image
    levels: list[str] = []
    plain = operator.job_ended

    def job_ended(self: Any, context: bpy.types.Context, ended: Any) -> None:
        plain(self, context, ended)
        levels.append(self._outcome.level)

    operator.job_ended = job_ended
    h.invoke(area, bpy.ops.scenario.answer_price, "UI", local_id=view.local_id, pay=pay)
    yield from h.wait_for(lambda: _ended(h), "the job to end")
    yield 0.3
    operator.job_ended = plain
    h.note("status", view.status)
    h.note("message", view.message)
    h.note("report_levels", levels)
    h.note("declined", h.runtime().journal.load(view.local_id).declined)
    h.note("nodes", scene.images_in_nodes())
    h.note("paid", h.paid_generates())


def pay(h: Harness) -> Steps:
    yield from _asking(h, True)


def dont_pay(h: Harness) -> Steps:
    yield from _asking(h, False)


def online_off(h: Harness) -> Steps:
    yield from prepared(h)
    # The real service: online access does not govern the emulator on loopback.
    prefs = bpy.context.preferences.addons[MODULE].preferences
    prefs.base_url = "https://api.cloud.scenario.com/v1"
    bpy.context.preferences.system.use_online_access = False
    area = h.image_editor()
    yield 0.5
    h.screenshot("online_off")
    with h.over(area, "UI"):
        h.note("poll", bpy.ops.scenario.upscale_image.poll())
        h.note("reason", h.addon("bridge.availability").why_cannot_upscale(bpy.context))
    try:
        h.invoke(area, bpy.ops.scenario.upscale_image, "UI")
        h.note("refused", False)
    except RuntimeError as exc:
        h.note("refused", str(exc))
    h.note("requests", h.requests_count())
