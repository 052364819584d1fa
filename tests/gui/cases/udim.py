"""A UDIM set upscaled from the sidebar: each tile's progress drawn, one tiled result on
screen, and one Ctrl+Z for the whole set."""

from __future__ import annotations

import bpy
import scene
from harness import Harness, Steps


def _tiles(image: bpy.types.Image | None) -> dict[str, list[object]]:
    if image is None:
        return {}
    return {str(t.number): [list(t.size), t.label] for t in image.tiles}


def udim_flow(h: Harness) -> Steps:
    scene.build_udim(h.case)
    bpy.ops.wm.open_mainfile(filepath=str(h.case / "scene.blend"))
    yield 0.5
    area = h.image_editor(bpy.data.images[scene.UDIM])
    yield 0.5
    yield from h.sidebar_tab(area, "Scenario")
    panel = h.addon("ui.panel_upscale")
    draw_jobs = panel._draw_jobs
    drawn: list[list[str]] = []

    def recording(layout: bpy.types.UILayout, context: bpy.types.Context) -> None:
        for view in h.jobs():
            if view.tiles:
                drawn.append([view.stage_text] + [f"{t.tile}: {t.text}" for t in view.tiles])
        draw_jobs(layout, context)

    panel._draw_jobs = recording
    h.note("before", scene.images_in_nodes())
    h.note("invoke", sorted(h.invoke(area, bpy.ops.scenario.upscale_image, "UI")))
    yield from h.wait_for(lambda: any(v.stage == "generating" or v.tiles for v in h.jobs()),
                          "the tiles running")
    yield 0.6
    h.screenshot("udim_running", h.region(area, "UI"))
    yield from h.wait_for(lambda: any(v.status == "done" for v in h.jobs()), "the set applied")
    panel._draw_jobs = draw_jobs
    yield 0.3
    h.note("tiles_drawn", drawn)
    h.note("after_upscale", scene.images_in_nodes())
    shown = area.spaces.active.image
    h.note("editor_image", shown.name if shown else "")
    h.note("result_tiles", _tiles(shown))
    h.note("result_source", shown.source if shown else "")
    with h.over(area):
        bpy.ops.image.view_all(fit_view=True)
    yield 0.5
    h.screenshot("udim_done")
    h.note("reports", h.reports())
    sent = h.requests_count()
    h.key(area, "ctrl+z")
    yield 1.0
    h.note("after_undo", scene.images_in_nodes())
    h.key(area, "ctrl+shift+z")
    yield 1.0
    h.note("after_redo", scene.images_in_nodes())
    h.note("requests_by_undo_and_redo", h.requests_count() - sent)
    h.note("paid", h.paid_generates())
