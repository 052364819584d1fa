"""A batch larger than Scenario's team limit, from the Image Editor's sidebar: the jobs that wait
for a slot say so in the batch list (not twice: the job boxes leave them to it), and every
texture is upscaled."""

from __future__ import annotations

from typing import Any

import bpy
import scene
from harness import Harness, Steps

WAITING = "Waiting for a free slot at Scenario"


def _recording(module: Any, drawn: list[str]) -> Any:
    """Wraps ``module.label_lines`` so every text it is asked to draw is kept."""
    plain = module.label_lines

    def label_lines(layout: Any, context: Any, text: str, icon: str = "NONE") -> None:
        drawn.append(text)
        plain(layout, context, text, icon)

    module.label_lines = label_lines
    return plain


def _as_shader_editor(area: bpy.types.Area) -> None:
    area.type = "NODE_EDITOR"
    area.spaces.active.tree_type = "ShaderNodeTree"
    area.spaces.active.show_region_ui = True


def waiting_shown(h: Harness) -> Steps:
    scene.build(h.case, roughness=True)  # Wall has brick and brick_rough: two textures
    bpy.ops.wm.open_mainfile(filepath=str(h.case / "scene.blend"))
    yield 0.5
    area = h.image_editor(bpy.data.images[scene.TEXTURE])
    # The same area as a Shader Editor shows the batch list (open by default) in its sidebar:
    # its tab is chosen now, so that later a switch of the area's type shows it at once.
    _as_shader_editor(area)
    yield 1.0
    yield from h.sidebar_tab(area, "Scenario")
    area.type = "IMAGE_EDITOR"
    yield 0.5
    yield from h.sidebar_tab(area, "Scenario")
    boxes, listed = h.addon("ui.panel_upscale"), h.addon("ui.panel_batch")
    drawn_boxes: list[str] = []
    drawn_list: list[str] = []
    plain = (_recording(boxes, drawn_boxes), _recording(listed, drawn_list))
    batch_list = h.addon("bridge.batch_list")
    words: list[str] = []
    word = batch_list.status_word

    def recorded_word(rt: Any, item: Any) -> str:
        words.append(word(rt, item))
        return words[-1]

    batch_list.status_word = recorded_word
    h.note("invoke", sorted(h.invoke(area, bpy.ops.scenario.upscale_materials, "UI",
                                     scope="SELECTED_OBJECTS")))
    yield from h.wait_for(lambda: any(v.stage == "waiting-slot" for v in h.jobs()),
                          "a job waiting for a slot")
    yield 1.0
    h.screenshot("team_limit_boxes", h.region(area, "UI"))
    _as_shader_editor(area)
    # A click on the waiting row makes it the active one, whose status is shown in full.
    state = bpy.context.window_manager.scenario_batch
    waiting = {v.local_id for v in h.jobs() if v.stage == "waiting-slot"}
    state.active = next(i for i, row in enumerate(state.rows) if row.local_id in waiting)
    yield 1.0
    h.note("still_waiting", any(v.stage == "waiting-slot" for v in h.jobs()))
    h.screenshot("team_limit_list", h.region(area, "UI"))
    yield from h.wait_for(lambda: h.jobs() and all(v.status not in ("running", "ready")
                                                   for v in h.jobs()), "the batch's end")
    boxes.label_lines, listed.label_lines = plain
    batch_list.status_word = word
    h.note("boxes", sorted({t for t in drawn_boxes if WAITING in t}))
    h.note("list", sorted({t for t in drawn_list if WAITING in t}))
    h.note("words", sorted(set(words)))
    h.note("statuses", sorted(v.status for v in h.jobs()))
    h.note("paid", h.paid_generates())
    h.note("reports", h.reports())
