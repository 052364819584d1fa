"""What an artist meets in the window: the menu entries (found with F3 and the context menu),
the result shown in the editor, Show Result / Show Original, and the two answers to Cancel."""

from __future__ import annotations

import bpy
import scene
from harness import MODULE, Harness, Steps
from undo_redo import _shown, prepared


def _done(h: Harness) -> bool:
    return any(v.status == "done" for v in h.jobs())


def image_menu(h: Harness) -> Steps:
    """Image ▸ Upscale with Scenario… through F3; the editor then shows the result; Show
    Original, Show Result, Difference; then Image ▸ Revert to Original through F3."""
    yield from prepared(h)
    area = h.image_editor()
    sidebar = h.region(area, "UI")
    yield from h.search(area, "Upscale with Scenario")
    yield from h.wait_for(lambda: _done(h), "the result applied")
    yield 0.5
    h.note("shown_after_upscale", _shown(area))
    h.note("nodes_after_upscale", scene.images_in_nodes())
    h.screenshot("panel_done", sidebar)
    h.screenshot("window_done")
    for mode in ("ORIGINAL", "RESULT"):
        h.invoke(area, bpy.ops.scenario.compare_images, "UI", mode=mode)
        yield 0.4
        h.note(f"shown_after_{mode.lower()}", _shown(area))
    h.invoke(area, bpy.ops.scenario.compare_images, "UI", mode="DIFFERENCE")
    yield from h.wait_for(lambda: _shown(area).endswith("(difference)"), "the difference image")
    yield 0.5
    h.screenshot("panel_comparing", sidebar)
    h.screenshot("window_comparing")
    h.invoke(area, bpy.ops.scenario.compare_images, "UI", mode="RESULT")
    yield 0.4
    yield from h.search(area, "Revert to Original")
    yield 0.5
    h.note("shown_after_revert", _shown(area))
    h.note("nodes_after_revert", scene.images_in_nodes())
    h.note("paid", h.paid_generates())


def node_menu(h: Harness) -> Steps:
    """Shader Editor: right-click on the active Image Texture node ▸ Upscale This Texture."""
    yield from prepared(h)
    image_area = h.image_editor()
    area = h.shader_editor()
    tree = bpy.data.materials[scene.SELECTED[0]].node_tree
    tree.nodes.active = next(n for n in tree.nodes if n.type == "TEX_IMAGE")
    yield 0.5
    region = h.region(area)
    h.xdotool("mousemove", *map(str, h.screen_point(region, region.width / 2,
                                                     region.height / 2)), "click", "3")
    yield 0.8
    h.screenshot("node_context_menu")
    # Our two entries are the menu's last: End goes to the last item, Up to the one above.
    h.xdotool("key", "End", "Up")
    yield 0.3
    h.screenshot("node_context_menu_chosen")
    h.xdotool("key", "Return")
    yield from h.wait_for(lambda: _done(h), "the result applied")
    yield 0.5
    h.note("titles", [v.title for v in h.jobs()])
    h.note("nodes", scene.images_in_nodes())
    h.note("image_editor_shows", _shown(image_area))
    h.note("paid", h.paid_generates())
    # The last entry: the active material's batch (Wall's texture is now a result: skipped).
    h.xdotool("mousemove", *map(str, h.screen_point(region, region.width / 2,
                                                     region.height / 2)), "click", "3")
    yield 0.8
    h.xdotool("key", "End", "Return")
    rt = h.runtime()
    yield from h.wait_for(lambda: rt.batches, "the batch")
    batch = next(iter(rt.batches.values()))
    h.note("batch", {"scope": batch.scope, "images": sorted(i.image for i in batch.items)})


def editor_kept(h: Harness) -> Steps:
    """With Show Result in Editor off, the editor keeps the original."""
    bpy.context.preferences.addons[MODULE].preferences.show_result_in_editor = False
    yield from prepared(h)
    area = h.image_editor()
    h.invoke(area, bpy.ops.scenario.upscale_image, "UI")
    yield from h.wait_for(lambda: _done(h), "the result applied")
    yield 0.5
    h.note("shown", _shown(area))
    h.note("nodes", scene.images_in_nodes())


def escape_at_scenario(h: Harness) -> Steps:
    """Esc once Scenario is paid; the emulator accepts or refuses the cancel (its flag)."""
    yield from prepared(h)
    area = h.image_editor()
    h.invoke(area, bpy.ops.scenario.upscale_image, "UI")
    yield from h.wait_for(lambda: h.paid_generates() == 1, "the paid generate", every=0.2)
    yield from h.wait_for(lambda: any(v.record and v.record.job_id for v in h.jobs()),
                          "the job id")
    h.key(area, "Escape")
    yield 0.1  # the key reaches Blender's event loop
    h.note("stage_at_once", [v.stage for v in h.jobs()])
    h.screenshot("panel_cancelling", h.region(area, "UI"))
    yield from h.wait_for(lambda: all(v.status != "running" for v in h.jobs()), "the job to stop",
                          timeout=20)
    yield 0.5
    [view] = h.jobs()
    h.note("status", view.status)
    h.note("state", view.record.state)
    h.note("job_id", view.record.job_id)
    h.note("reports", h.reports())
    h.note("cancel_answers", [r["status"] for r in h.requests()
                              if r["path"].endswith("/action") and "/jobs/" in r["path"]])
    h.note("recoverable", len(h.runtime().recoverable(bpy.data.filepath)))
    h.note("nodes", scene.images_in_nodes())
