"""After an upscale: Ctrl+Z / Shift+Ctrl+Z, Adjust Last Operation, Repeat Last, Undo History."""

from __future__ import annotations

import bpy
import scene
from harness import Harness, Steps, ui_call


def upscaled(h: Harness, area: bpy.types.Area, kind: str = "UI") -> Steps:
    """Starts the upscale as the panel's button does and waits until its result is applied."""
    h.note("invoke", sorted(h.invoke(area, bpy.ops.scenario.upscale_image, kind)))
    yield from h.wait_for(lambda: any(v.status == "done" for v in h.jobs()), "the result applied")
    yield 0.3


def prepared(h: Harness, roughness: bool = False) -> Steps:
    scene.build(h.case, roughness)
    # Opened as a file, so that undo starts at this scene as it would for an artist.
    bpy.ops.wm.open_mainfile(filepath=str(h.case / "scene.blend"))
    yield 0.5
    area = h.image_editor(bpy.data.images[scene.TEXTURE])
    yield 0.5
    yield from h.sidebar_tab(area, "Scenario")


def _shown(area: bpy.types.Area) -> str:
    image = area.spaces.active.image
    return image.name if image else ""


def nodes(h: Harness, key: str) -> None:
    h.note(key, scene.images_in_nodes())


def main_flow(h: Harness) -> Steps:
    yield from prepared(h)
    area = h.image_editor()
    drawn: list[str] = []
    panel = h.addon("ui.panel_upscale")
    draw_jobs = panel._draw_jobs

    def recording(layout: bpy.types.UILayout, context: bpy.types.Context) -> None:
        rt = h.runtime()
        drawn.extend(v.stage_text for v in rt.running() if v.record is not None) if rt else None
        draw_jobs(layout, context)

    panel._draw_jobs = recording
    nodes(h, "before")
    sidebar = h.region(area, "UI")
    h.screenshot("panel_idle", sidebar)
    h.note("invoke", sorted(h.invoke(area, bpy.ops.scenario.upscale_image, "UI")))
    yield from h.wait_for(lambda: any(v.stage == "generating" for v in h.jobs()), "generating")
    yield 0.6
    h.screenshot("panel_running", sidebar)
    yield from h.wait_for(lambda: any(v.status == "done" for v in h.jobs()), "the result applied")
    yield 0.3
    h.screenshot("panel_done", sidebar)
    panel._draw_jobs = draw_jobs
    h.note("progress_drawn", drawn)
    nodes(h, "after_upscale")
    h.note("editor_image", _shown(area))
    h.screenshot("done")
    sent = h.requests_count()
    h.key(area, "ctrl+z")
    yield 1.0
    nodes(h, "after_undo")
    h.note("editor_image_after_undo", _shown(area))
    h.key(area, "ctrl+shift+z")
    yield 1.0
    nodes(h, "after_redo")
    h.note("editor_image_after_redo", _shown(area))
    h.note("requests_by_undo_and_redo", h.requests_count() - sent)
    h.note("paid", h.paid_generates())


def adjust_last(h: Harness) -> Steps:
    """Each value of each property the Adjust Last Operation panel shows after an upscale."""
    yield from prepared(h)
    area = h.image_editor()
    yield from upscaled(h, area)
    operators = bpy.context.window_manager.operators
    last = operators[-1]
    h.note("last_operator", last.bl_idname)
    shown = [p.identifier for p in last.properties.bl_rna.properties
             if p.identifier != "rna_type" and not p.is_hidden]
    h.note("redo_properties", shown)
    changes = []
    for name in shown:
        rna = last.properties.bl_rna.properties[name]
        values = ([i.identifier for i in rna.enum_items] if rna.type == "ENUM"
                  else [not getattr(last.properties, name)] if rna.type == "BOOLEAN" else [])
        for value in values:
            setattr(operators[-1].properties, name, value)
            with h.over(area):
                ui_call(bpy.ops.ed.undo_redo)
            yield 0.8
            changes.append({"property": name, "value": value, "nodes": scene.images_in_nodes(),
                            "paid": h.paid_generates(),
                            "results": sorted(i.name for i in bpy.data.images
                                              if i.get("scenario_source_image"))})
    h.note("changes", changes)
    h.note("paid", h.paid_generates())


def repeat_last(h: Harness) -> Steps:
    """Shift+R over the editor after an upscale, then once more."""
    yield from prepared(h)
    area = h.image_editor()
    yield from upscaled(h, area)
    nodes(h, "after_upscale")
    for round_ in (1, 2):
        h.key(area, "shift+r")
        yield 3.0
        nodes(h, f"after_repeat_{round_}")
    h.note("results", sorted(i.name for i in bpy.data.images if i.get("scenario_source_image")))
    h.note("paid", h.paid_generates())


def undo_history(h: Harness) -> Steps:
    """Jumps back and forth through Edit > Undo History: the scene, the upscale, a revert."""
    yield from prepared(h)
    area = h.image_editor()
    yield from upscaled(h, area)
    h.invoke(area, bpy.ops.scenario.revert_image, "UI", image_name=scene.TEXTURE)
    yield 0.5
    visits = []
    # 0 is the file as loaded, 1 the upscale applied, 2 the revert.
    for item in (1, 0, 2, 1, 0, 2):
        with h.over(area):
            ui_call(bpy.ops.ed.undo_history, item=item)
        yield 0.6
        visits.append({"item": item, "nodes": scene.images_in_nodes(),
                       "paid": h.paid_generates()})
    h.note("visits", visits)
    h.note("paid", h.paid_generates())
