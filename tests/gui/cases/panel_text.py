"""The panels in every state an artist sees, photographed at 1× and 2× resolution scale at
the default sidebar width, for the host to look for cut lines (tests/gui/cut_text.py). A
control panel with a line known to be too long proves the look can find one."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import bpy
import scene
from harness import MODULE, Harness, Steps
from undo_redo import prepared

CONTROL_TEXT = "A line far too long for the sidebar, so Blender cuts it in its middle"


class IMAGE_PT_cut_text_control(bpy.types.Panel):
    bl_space_type = "IMAGE_EDITOR"
    bl_region_type = "UI"
    bl_category = "Control"
    bl_label = "Control"

    def draw(self, context: bpy.types.Context) -> None:
        self.layout.label(text=CONTROL_TEXT, icon="INFO")


def _photograph(h: Harness, area: bpy.types.Area, name: str) -> Steps:
    """The sidebar; at 2× also scrolled to its end, since it is then taller than the window."""
    sidebar = h.region(area, "UI")
    yield 0.4
    h.screenshot(name, sidebar)
    if bpy.context.preferences.view.ui_scale > 1:
        # At the panel's left margin: over a list the wheel would scroll the list instead.
        x, y = h.screen_point(sidebar, 4, sidebar.height / 2)
        h.xdotool("mousemove", str(x), str(y), "click", "--repeat", "25", "5")
        yield 0.6
        h.screenshot(f"{name}_end", sidebar)
        h.xdotool("click", "--repeat", "25", "4")
        yield 0.4


def _new_jobs(h: Harness) -> Callable[[], list[Any]]:
    """The views of the jobs started from now on."""
    before = {v.local_id for v in h.jobs()}
    return lambda: [v for v in h.jobs() if v.local_id not in before]


def _ended(views: list[Any]) -> bool:
    return bool(views) and all(v.status not in ("running", "ready") for v in views)


def panel_text(h: Harness) -> Steps:
    prefs = bpy.context.preferences.addons[MODULE].preferences
    yield from prepared(h, roughness=True)
    area = h.image_editor()
    brick = bpy.data.images[scene.TEXTURE]
    for scale in (1.0, 2.0):
        tag = f"{scale:g}x"
        bpy.context.preferences.view.ui_scale = scale
        area.spaces.active.image = brick
        yield 1.0
        bpy.utils.register_class(IMAGE_PT_cut_text_control)
        yield from h.sidebar_tab(area, "Control")
        h.screenshot(f"control_{tag}", h.region(area, "UI"))
        bpy.utils.unregister_class(IMAGE_PT_cut_text_control)
        yield from h.sidebar_tab(area, "Scenario")
        yield from _photograph(h, area, f"idle_{tag}")

        key = os.environ.pop("SCENARIO_SDK_API_KEY")
        yield from _photograph(h, area, f"no_keys_{tag}")
        os.environ["SCENARIO_SDK_API_KEY"] = key

        prefs.confirm_expensive, prefs.confirm_above_credits = True, 0.5
        jobs = _new_jobs(h)
        h.invoke(area, bpy.ops.scenario.upscale_image, "UI")
        yield from h.wait_for(lambda jobs=jobs: any(v.question for v in jobs()), "the price question")
        yield from _photograph(h, area, f"asking_{tag}")
        [view] = jobs()
        h.invoke(area, bpy.ops.scenario.answer_price, "UI", local_id=view.local_id, pay=True)
        yield from h.wait_for(lambda jobs=jobs: _ended(jobs()), "the upscale")
        yield from _photograph(h, area, f"done_{tag}")
        h.invoke(area, bpy.ops.scenario.compare_images, "UI", mode="DIFFERENCE")
        yield from h.wait_for(lambda: area.spaces.active.image.name.endswith("(difference)"),
                              "the difference")
        yield from _photograph(h, area, f"comparing_{tag}")

        prefs.confirm_expensive = False
        area.type = "NODE_EDITOR"
        area.spaces.active.tree_type = "ShaderNodeTree"
        area.spaces.active.show_region_ui = True
        yield 0.5
        yield from h.sidebar_tab(area, "Scenario")
        jobs = _new_jobs(h)
        h.invoke(area, bpy.ops.scenario.upscale_materials, "UI")
        yield from h.wait_for(lambda jobs=jobs: _ended(jobs()), "the batch")
        yield from _photograph(h, area, f"batch_{tag}")
        area.type = "IMAGE_EDITOR"
        yield 0.5
    h.note("paid", h.paid_generates())
