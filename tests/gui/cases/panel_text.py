"""Every panel and state an artist meets, photographed whole (scrolled page by page) at 1× and
2× resolution scale at the default sidebar width, for the host to look for cut lines
(tests/gui/cut_text.py). Panels that start folded (Advanced, Recent Jobs, All Textures of
Selection, Material Properties' Scenario Upscale, the preferences' Advanced group) are opened
with a click on their header, found on screen. A control panel with a line known to be too long
proves the look can find one."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import bpy
import scene
from harness import MODULE, Harness, Steps
from headers import open_chevrons
from undo_redo import prepared

CONTROL_TEXT = "A line far too long for the sidebar, so Blender cuts it in its middle"


class IMAGE_PT_cut_text_control(bpy.types.Panel):
    bl_space_type = "IMAGE_EDITOR"
    bl_region_type = "UI"
    bl_category = "Control"
    bl_label = "Control"

    def draw(self, context: bpy.types.Context) -> None:
        self.layout.label(text=CONTROL_TEXT, icon="INFO")


def _new_jobs(h: Harness) -> Callable[[], list[Any]]:
    """The views of the jobs started from now on."""
    before = {v.local_id for v in h.jobs()}
    return lambda: [v for v in h.jobs() if v.local_id not in before]


def _ended(views: list[Any]) -> bool:
    return bool(views) and all(v.status not in ("running", "ready", "priced") for v in views)


def _latest_batch(h: Harness) -> Any:
    return h.addon("bridge.batch_list").latest(h.runtime())


def panel_text(h: Harness) -> Steps:
    seen: dict[str, Any] = {}
    for scale in (1.0, 2.0):
        yield from _at_scale(h, scale, seen)
    h.note("seen", seen)
    h.note("paid", h.paid_generates())


def _at_scale(h: Harness, scale: float, seen: dict[str, Any]) -> Steps:
    """Every state, at one resolution scale."""
    prefs = bpy.context.preferences.addons[MODULE].preferences
    upscale_panels = h.addon("ui.panel_upscale")
    recent_panel = h.addon("ui.panel_recent_jobs").IMAGE_PT_scenario_recent_jobs
    batch_panels = h.addon("ui.panel_batch")
    tag = f"{scale:g}x"
    bpy.context.preferences.view.ui_scale = scale
    prefs.confirm_expensive = False
    # The same file each time (opened again: its panels start folded, as an artist's do),
    # made from an empty one (no image of the last round left to rename the new ones).
    bpy.ops.wm.read_homefile(use_empty=True)
    yield 0.5
    yield from prepared(h, roughness=True)
    area = h.image_editor()
    brick = bpy.data.images[scene.TEXTURE]
    area.spaces.active.image = brick
    yield 1.0
    bpy.utils.register_class(IMAGE_PT_cut_text_control)
    yield from h.sidebar_tab(area, "Control")
    h.screenshot(f"control_{tag}", h.region(area, "UI"))
    bpy.utils.unregister_class(IMAGE_PT_cut_text_control)
    yield from h.sidebar_tab(area, "Scenario")
    yield from h.photograph(area, f"idle_{tag}")

    # Advanced, opened with a click on its header, with a LoRA row.
    bpy.ops.scenario.edit_settings_list(list_name="loras", action="ADD")
    with h.drawing(upscale_panels.IMAGE_PT_scenario_upscale_advanced) as calls:
        yield from h.open_panel(area, calls, "Advanced")
    yield from h.photograph(area, f"advanced_{tag}")
    bpy.ops.scenario.edit_settings_list(list_name="loras", action="REMOVE", index=0)

    key = os.environ.pop("SCENARIO_SDK_API_KEY")
    yield from h.photograph(area, f"no_keys_{tag}")
    os.environ["SCENARIO_SDK_API_KEY"] = key

    # Check Price: the price on the button before the click (a price check is no job: it
    # leaves its price, not a view).
    rt = h.runtime()
    rt.quotes.clear()
    h.invoke(area, bpy.ops.scenario.price_image, "UI")
    yield from h.wait_for(lambda: rt.quotes, "the price check")
    yield from h.photograph(area, f"priced_{tag}")

    # The price question, then Don't Pay: said calmly, listed as declined.
    prefs.confirm_expensive, prefs.confirm_above_credits = True, 0.5
    jobs = _new_jobs(h)
    h.invoke(area, bpy.ops.scenario.upscale_image, "UI")
    yield from h.wait_for(lambda jobs=jobs: any(v.question for v in jobs()),
                          "the price question")
    yield from h.photograph(area, f"asking_{tag}")
    [view] = jobs()
    h.invoke(area, bpy.ops.scenario.answer_price, "UI", local_id=view.local_id, pay=False)
    yield from h.wait_for(lambda jobs=jobs: _ended(jobs()), "the declined job")
    with h.drawing(recent_panel) as calls:
        yield from h.open_panel(area, calls, "Recent Jobs")
    yield from h.photograph(area, f"declined_{tag}")
    seen["declined"] = (view.status, h.runtime().journal.load(view.local_id).declined)

    # Running, then done (the editor shows the result), then comparing.
    prefs.confirm_expensive = False
    jobs = _new_jobs(h)
    h.invoke(area, bpy.ops.scenario.upscale_image, "UI")
    yield from h.wait_for(lambda jobs=jobs: any(v.stage == "generating" for v in jobs()),
                          "generating")
    yield from h.photograph(area, f"running_{tag}")
    yield from h.wait_for(lambda jobs=jobs: _ended(jobs()), "the upscale")
    yield from h.photograph(area, f"done_{tag}")
    h.invoke(area, bpy.ops.scenario.compare_images, "UI", mode="DIFFERENCE")
    yield from h.wait_for(lambda: area.spaces.active.image.name.endswith("(difference)"),
                          "the difference")
    yield from h.photograph(area, f"comparing_{tag}")

    # A batch from the Image Editor: priced whole, asked once, its list while it runs.
    area.spaces.active.image = brick
    with h.drawing(batch_panels.IMAGE_PT_scenario_batch) as calls:
        yield from h.open_panel(area, calls, "All Textures of Selection")
    prefs.confirm_expensive, prefs.confirm_above_credits = True, 0.5
    h.invoke(area, bpy.ops.scenario.upscale_materials, "UI", scope="ALL_MATERIALS")
    yield from h.wait_for(lambda: _latest_batch(h) is not None
                          and _latest_batch(h).question is not None, "the batch's price")
    yield from h.photograph(area, f"batch_asking_{tag}")
    batch = _latest_batch(h)
    h.invoke(area, bpy.ops.scenario.answer_price, "UI", batch_id=batch.batch_id, pay=True)
    yield from h.wait_for(lambda: any(h.runtime().jobs[i.local_id].stage == "generating"
                                      for i in batch.items if i.status == "running"),
                          "the batch generating")
    yield from h.photograph(area, f"batch_running_{tag}")
    seen["batch_running_boxes"] = _job_boxes(h, area)
    yield from h.wait_for(lambda: not batch.pending, "the batch")
    yield 0.5
    yield from h.photograph(area, f"batch_done_{tag}")
    prefs.confirm_expensive = False

    # The same batch in the Shader Editor's sidebar, and in Material Properties.
    area.type = "NODE_EDITOR"
    area.spaces.active.tree_type = "ShaderNodeTree"
    area.spaces.active.show_region_ui = True
    yield 0.5
    # The sidebar overlaps the canvas: the nodes zoomed out of the way, so that Blender's own
    # node labels under it are not taken for the panel's.
    with h.over(area):
        for _click in range(12):
            bpy.ops.view2d.zoom_out()
    yield from h.sidebar_tab(area, "Scenario")
    yield from h.photograph(area, f"node_batch_{tag}")
    area.type = "IMAGE_EDITOR"
    # Material Properties in the window's own Properties editor, at its width; at 2× that
    # editor is half as wide for its content, narrower than anyone works in (Blender's own
    # labels are cut there), so the largest area shows it instead.
    if scale == 1.0:
        properties = next(a for a in h.window().screen.areas if a.type == "PROPERTIES")
    else:
        properties = area
        properties.type = "PROPERTIES"
        yield 0.5  # its tabs exist once it has been drawn
    properties.spaces.active.context = "MATERIAL"
    yield 0.5
    # Ctrl+click: Blender's own material panels fold (their labels are Blender's).
    with h.drawing(batch_panels.MATERIAL_PT_scenario_batch) as calls:
        yield from h.open_panel(properties, calls, "Material Properties' Scenario Upscale",
                                kind="WINDOW", alone=True)
    yield from h.photograph(properties, f"material_{tag}", kind="WINDOW")
    area.type = "IMAGE_EDITOR"
    yield 0.5
    yield from _preferences(h, tag)


def _job_boxes(h: Harness, area: bpy.types.Area) -> list[str]:
    """The job boxes the main panel draws while a batch runs: none, its list shows them."""
    rt = h.runtime()
    in_batches = h.addon("bridge.batch_list").batch_ids(rt)
    return [v.title for v in rt.running() if v.record is not None and v.local_id not in in_batches]


def _preferences(h: Harness, tag: str) -> Steps:
    """The add-on's preferences in Blender's Preferences window, the Advanced group opened
    with a click on its header. At 2× Blender opens that window larger than this 1600×900
    screen: there the same editor fills the main window's largest area, as wide."""
    context = bpy.context
    context.preferences.active_section = "ADDONS"
    context.window_manager.addon_search = "Scenario"
    own_window = context.preferences.view.ui_scale == 1.0
    if own_window:
        before = set(context.window_manager.windows)
        with context.temp_override(window=h.window()):
            bpy.ops.screen.userpref_show(section="ADDONS")
        yield 1.5
        [window] = [w for w in context.window_manager.windows if w not in before]
        h.place(window, 40, 20)
        area = next(a for a in window.screen.areas if a.type == "PREFERENCES")
    else:
        window = h.window()
        area = h.image_editor()
        area.type = "PREFERENCES"
    yield 1.0
    if not _expanded():
        with context.temp_override(window=window, area=area):
            bpy.ops.preferences.addon_expand(module=MODULE)
    area.tag_redraw()
    yield 1.5  # drawn expanded, so that the region knows how far it scrolls
    prefs_ui = h.addon("ui.preferences")
    groups = prefs_ui.GROUPS
    drawn: list[int] = []
    advanced = groups[-1]

    def counting(prefs: Any, layout: bpy.types.UILayout, ctx: bpy.types.Context) -> None:
        drawn.append(1)
        advanced[2](prefs, layout, ctx)

    prefs_ui.GROUPS = (*groups[:-1], (*advanced[:2], counting, advanced[3]))
    try:
        yield from h.open_panel(area, drawn, "the preferences' Advanced group", kind="WINDOW",
                                window=window)
    finally:
        prefs_ui.GROUPS = groups
    # From its first group on: the rows above (website, version, its file's path) are
    # Blender's own, the same for every add-on.
    yield from h.wheel(area, "WINDOW", -100, window)
    scale = context.preferences.view.ui_scale
    opened = open_chevrons(h.gray(h.region(area, "WINDOW"), window), scale)
    row = min(x for x, _ in opened)  # the add-on's own row, its groups indented under it
    first = next(y for x, y in opened if row + 2 * scale < x < row + 40 * scale)
    yield from h.photograph(area, f"preferences_{tag}", kind="WINDOW", window=window,
                            start=first - 12 * scale)
    if own_window:
        with context.temp_override(window=window):
            bpy.ops.wm.window_close()
    else:
        area.type = "IMAGE_EDITOR"
    yield 0.8


def _expanded() -> bool:
    import addon_utils

    module = next((m for m in addon_utils.modules() if m.__name__ == MODULE), None)
    return bool(module and addon_utils.module_bl_info(module).get("show_expanded"))
