"""Try before you pay, in a real window: the frame drawn over a 1K JPEG texture, three presets
previewed in one go (the crop cut by a helper Blender), their thumbnails, a click showing one
where its crop lies, A/B against the original's crop, Use These Settings, Clear Previews."""

from __future__ import annotations

from typing import Any

import bpy
import numpy as np
from harness import Harness, Steps

TEXTURE = "bricks"
SIZE = 1024


def _texture(h: Harness) -> bpy.types.Image:
    """A 1K JPEG of bricks with a gradient, so every crop looks different."""
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    course = (y // 64).astype(int)
    mortar = (y % 64 < 6) | (((x + 64 * (course % 2)) % 128) < 6)
    rgba = np.ones((SIZE, SIZE, 4), dtype=np.float32)
    rgba[..., 0] = 0.45 + 0.3 * x / SIZE
    rgba[..., 1] = 0.18 + 0.15 * y / SIZE
    rgba[..., 2] = 0.12
    rgba[mortar, :3] = 0.78
    maker = bpy.data.images.new("maker", SIZE, SIZE)
    maker.pixels.foreach_set(rgba.ravel())
    path = h.case / "textures" / f"{TEXTURE}.jpg"
    path.parent.mkdir(parents=True, exist_ok=True)
    maker.filepath_raw = str(path)
    maker.file_format = "JPEG"
    maker.save()
    bpy.data.images.remove(maker)
    image = bpy.data.images.load(str(path))
    image.name = TEXTURE
    image.use_fake_user = True  # kept in the saved file
    return image


def _rect(area: bpy.types.Area, h: Harness, corners_uv: list[tuple[float, float]]
          ) -> list[int]:
    """A rectangle given in the view's units as screen pixels: [left, top, right, bottom]."""
    region = h.region(area)
    points = [region.view2d.view_to_region(u, v, clip=False) for u, v in corners_uv]
    xs = [region.x + p[0] for p in points]
    ys = [h.window().height - (region.y + p[1]) for p in points]
    return [round(min(xs)), round(min(ys)), round(max(xs)), round(max(ys))]


def _image_rect(area: bpy.types.Area, h: Harness) -> list[int]:
    return _rect(area, h, [(0.0, 0.0), (1.0, 1.0)])


def _thumbnails(images: list[bpy.types.Image]) -> list[dict[str, Any]]:
    found = []
    for image in images:
        preview = image.preview
        pixels = np.asarray(preview.icon_pixels_float[:]) if preview else np.zeros(1)
        found.append({"name": image.name, "label": image.get("scenario_preview_label"),
                      "icon_size": list(preview.icon_size) if preview else [0, 0],
                      "spread": float(pixels.max() - pixels.min()) if pixels.size else 0.0})
    return found


def _sidebar_end(h: Harness, area: bpy.types.Area, name: str) -> Steps:
    """The sidebar scrolled to its end (the previews are below the upscale panel), shot."""
    sidebar = h.region(area, "UI")
    x, y = h.screen_point(sidebar, 4, sidebar.height / 2)
    h.xdotool("mousemove", str(x), str(y))
    yield 0.3
    h.xdotool("click", "--repeat", "30", "--delay", "20", "5")
    yield 0.8
    h.screenshot(name, sidebar)
    h.xdotool("click", "--repeat", "30", "--delay", "20", "4")
    yield 0.5


def preview_flow(h: Harness) -> Steps:
    _texture(h)
    bpy.ops.wm.save_as_mainfile(filepath=str(h.case / "scene.blend"))
    # Opened as a file, as an artist's session starts.
    bpy.ops.wm.open_mainfile(filepath=str(h.case / "scene.blend"))
    yield 0.5
    image = bpy.data.images[TEXTURE]
    area = h.image_editor(image)
    settings = bpy.context.scene.scenario_upscale
    settings.preview_size = "256"
    yield 0.5
    with h.over(area):
        bpy.ops.image.view_all(fit_view=True)
    yield 0.3
    yield from h.sidebar_tab(area, "Scenario")
    yield 1.0
    # The frame the operator would send, and where it is drawn.
    frame = h.addon("bridge.preview_frame")
    found = frame.view_crop(h.region(area), image, 256, area)
    box = found.region
    h.note("framed", box.as_list())
    h.note("frame_on_screen", _rect(area, h, [(box.x / SIZE, box.y / SIZE),
                                               ((box.x + box.width) / SIZE,
                                                (box.y + box.height) / SIZE)]))
    h.screenshot("window_preview_frame")
    # Pan: the frame follows the view.
    with h.over(area):
        bpy.ops.image.view_pan(offset=(200.0, 120.0))
    yield 0.6
    moved = frame.view_crop(h.region(area), image, 256, area).region
    h.note("framed_after_pan", moved.as_list())
    h.note("frame_after_pan_on_screen", _rect(area, h, [
        (moved.x / SIZE, moved.y / SIZE),
        ((moved.x + moved.width) / SIZE, (moved.y + moved.height) / SIZE)]))
    h.screenshot("window_preview_frame_panned")

    settings.variant_field = "PRESET"
    yield 0.3
    sidebar = h.region(area, "UI")
    h.screenshot("panel_preview_idle_1x", sidebar)
    zoom_before = float(area.spaces.active.zoom[0])
    h.note("invoke", sorted(h.invoke(area, bpy.ops.scenario.preview_upscale, "UI")))
    yield from h.wait_for(lambda: any(v.status in ("done", "failed", "cancelled")
                                      for v in h.jobs()), "the previews", timeout=120)
    yield 2.0  # the thumbnails render in the background
    [view] = h.jobs()
    h.note("status", str(view.status))
    h.note("message", view.message)
    made = h.addon("bridge.previews").of_texture(TEXTURE)
    h.note("previews", [i.name for i in made])
    h.note("labels", [i.get("scenario_preview_label") for i in made])
    h.note("sent", [{k: r["body"].get(k) for k in ("preset", "seed")}
                    for r in h.requests() if r["method"] == "POST" and r["status"] == 200
                    and r["path"].startswith("/v1/generate")
                    and "dryRun" not in (r.get("query") or {})])
    yield from h.wait_for(lambda: all(t["spread"] > 0 for t in _thumbnails(made)),
                          "the thumbnails drawn", timeout=20)
    h.note("thumbnails", _thumbnails(made))
    yield from _sidebar_end(h, area, "panel_previews_1x")
    h.note("editor_after_previews", area.spaces.active.image.name)

    # A click on a thumbnail's button: the preview where its crop was, at its size on screen.
    chosen = made[2]
    h.note("texture_on_screen_before", _image_rect(area, h))
    h.invoke(area, bpy.ops.scenario.show_preview, "UI", image_name=chosen.name, mode="PREVIEW")
    yield 0.8
    h.note("shown", area.spaces.active.image.name)
    h.note("shown_on_screen", _image_rect(area, h))
    h.screenshot("window_preview_shown")
    yield from _sidebar_end(h, area, "panel_preview_shown_1x")
    bpy.context.preferences.view.ui_scale = 2.0
    yield 1.0
    yield from _sidebar_end(h, area, "panel_preview_shown_2x")
    bpy.context.preferences.view.ui_scale = 1.0
    yield 1.0
    h.invoke(area, bpy.ops.scenario.show_preview, "UI", mode="AB")
    yield 0.8
    h.note("ab", area.spaces.active.image.name)
    h.note("ab_role", area.spaces.active.image.get("scenario_preview_role"))
    h.note("ab_on_screen", _image_rect(area, h))
    h.screenshot("window_preview_ab")
    h.invoke(area, bpy.ops.scenario.show_preview, "UI", mode="AB")
    yield 0.6
    h.note("ab_back", area.spaces.active.image.name)

    h.invoke(area, bpy.ops.scenario.use_preview_settings, "UI", image_name=chosen.name)
    yield 0.6
    h.note("settings", {"preset": settings.preset, "seed": settings.seed,
                        "random_seed": settings.random_seed})
    h.note("editor_after_use", area.spaces.active.image.name)
    h.note("zoom", [zoom_before, float(area.spaces.active.zoom[0])])
    h.note("texture_on_screen_after_use", _image_rect(area, h))
    files = sorted(p.name for p in (h.case / "textures" / "upscaled" / "previews").glob("*"))
    h.note("files_before_clear", files)
    h.invoke(area, bpy.ops.scenario.clear_previews, "UI")
    yield 0.5
    h.note("images_after_clear", sorted(i.name for i in bpy.data.images
                                        if "scenario_preview_of" in i or i.name == TEXTURE))
    folder = h.case / "textures" / "upscaled" / "previews"
    h.note("files_after_clear", sorted(p.name for p in folder.glob("*")) if folder.is_dir()
           else [])
    h.note("paid", h.paid_generates())
