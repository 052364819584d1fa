"""The crop a preview would send, found from the Image Editor's view and drawn over the image.

The crop is centred on the view (its middle, in the texture's pixels) and sized by Preview Size;
for a UDIM set, it lies in the tile under the view's middle. The frame is a draw handler of the
Image Editor (``gpu``), so it follows every pan and zoom. What is drawn is what
``scenario.preview_upscale`` sends: both ask ``view_crop``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import blf
import bpy
import gpu
from gpu_extras.batch import batch_for_shader

from ..core import crop
from . import addon_data, rna, snapshot
from .preview_request import is_preview

COLOR = (1.0, 0.62, 0.0, 1.0)  # Blender's active-object orange: seen over most textures
SHADOW = (0.0, 0.0, 0.0, 0.75)
LINE_WIDTH = 2.0


@dataclass(frozen=True)
class ViewCrop:
    tile: int  # the UDIM tile, 0 for an ordinary image
    region: crop.Region  # in the image's (tile's) pixels, from its bottom left
    size: tuple[int, int]  # of the image (tile)
    offset: tuple[int, int]  # the tile's place in the view, in whole tiles


def image_size(image: bpy.types.Image) -> tuple[int, int] | None:
    """The image's size without loading it: Blender's when it is on screen, else its header."""
    if image.has_data:
        width, height = rna.size(image)
        if width and height:
            return int(width), int(height)
    try:
        facts = snapshot.describe_cached(image)
    except Exception:  # noqa: BLE001 - drawing code: no frame rather than an error
        return None
    return facts.width, facts.height


def visible_middle(area: bpy.types.Area | None, region: bpy.types.Region) -> tuple[float, float]:
    """The middle of what the artist sees of ``region`` (region pixels): sidebars drawn over it
    (Region Overlap) are left out."""
    left, right = 0.0, float(region.width)
    for other in area.regions if area is not None else ():
        if other.type not in ("UI", "TOOLS") or other.width <= 1 or other.height <= 1:
            continue
        start = other.x - region.x
        if not (start < region.width and start + other.width > 0):
            continue  # beside the region, not over it
        if start > region.width / 2:
            right = min(right, float(start))
        else:
            left = max(left, float(start + other.width))
    if right - left < 32:  # nothing much left: the region's middle
        left, right = 0.0, float(region.width)
    return (left + right) / 2, region.height / 2


def view_crop(region: bpy.types.Region, image: bpy.types.Image, size: int,
              area: bpy.types.Area | None = None) -> ViewCrop | None:
    """The crop centred on the middle of what ``region`` shows (an Image Editor's main region
    showing ``image``; ``area`` its editor, for the sidebars over it), or None when it cannot be
    told (nothing under the view, no size)."""
    u, v = rna.pair(region.view2d.region_to_view(*visible_middle(area, region)))
    if image.source == "TILED":
        column, row = math.floor(u), math.floor(v)
        number = 1001 + column + 10 * row
        tile = image.tiles.get(number) if 0 <= column < 10 and row >= 0 else None
        if tile is None:
            tile = image.tiles.active or image.tiles[0]
            number = int(tile.number)
            column, row = (number - 1001) % 10, (number - 1001) // 10
        width, height = rna.size(tile)
        if not (width and height):
            return None
        center = ((u - column) * width, (v - row) * height)
        return ViewCrop(number, crop.around(*center, size, width, height), (width, height),
                        (column, row))
    found = image_size(image)
    if found is None:
        return None
    width, height = found
    return ViewCrop(0, crop.around(u * width, v * height, size, width, height), found, (0, 0))


def _corners(region: bpy.types.Region, found: ViewCrop) -> list[tuple[float, float]]:
    """The crop's corners in region pixels."""
    width, height = found.size
    box = found.region
    corners = []
    for x, y in ((box.x, box.y), (box.x + box.width, box.y),
                 (box.x + box.width, box.y + box.height), (box.x, box.y + box.height)):
        corners.append(rna.pair(region.view2d.view_to_region(
            found.offset[0] + x / width, found.offset[1] + y / height, clip=False)))
    return corners


_shader: Any = None


def draw() -> None:
    """The Image Editor's draw handler (POST_PIXEL, main region)."""
    context = bpy.context
    space, region = context.space_data, context.region
    image = getattr(space, "image", None)
    settings = addon_data.upscale_settings_if_registered(context.scene)
    if (image is None or region is None or settings is None or not settings.show_preview_frame
            or is_preview(image)):
        return
    if image.type not in {"IMAGE", "UV_TEST"}:
        return
    found = view_crop(region, image, int(settings.preview_size), context.area)
    if found is None:
        return
    corners = _corners(region, found)
    global _shader
    if _shader is None:
        _shader = gpu.shader.from_builtin("POLYLINE_UNIFORM_COLOR")
    lines = [corners[i] for i in (0, 1, 1, 2, 2, 3, 3, 0)]
    gpu.state.blend_set("ALPHA")
    _shader.bind()
    _shader.uniform_float("viewportSize", (region.width, region.height))
    for color, width in ((SHADOW, LINE_WIDTH + 2.0), (COLOR, LINE_WIDTH)):
        _shader.uniform_float("lineWidth", width * rna.preferences(context).system.ui_scale)
        _shader.uniform_float("color", color)
        batch_for_shader(_shader, "LINES", {"pos": lines}).draw(_shader)
    gpu.state.blend_set("NONE")
    _label(context, corners, found, int(settings.upscale_factor))


def _label(context: bpy.types.Context, corners: list[tuple[float, float]], found: ViewCrop,
           factor: int) -> None:
    box = found.region
    text = f"Preview {box.width}×{box.height} → {box.width * factor}×{box.height * factor}"
    if found.tile:
        text += f" (tile {found.tile})"
    scale = rna.preferences(context).system.ui_scale
    font = 0
    blf.size(font, 11 * scale)
    x, y = corners[3][0], corners[3][1] + 4 * scale
    blf.color(font, *SHADOW)
    blf.position(font, x + 1, y - 1, 0)
    blf.draw(font, text)
    blf.color(font, *COLOR)
    blf.position(font, x, y, 0)
    blf.draw(font, text)


_handle: Any = None


def register() -> None:
    global _handle
    if _handle is None:
        _handle = bpy.types.SpaceImageEditor.draw_handler_add(draw, (), "WINDOW", "POST_PIXEL")


def unregister() -> None:
    global _handle, _shader
    if _handle is not None:
        bpy.types.SpaceImageEditor.draw_handler_remove(_handle, "WINDOW")
        _handle = None
    _shader = None
