"""Main-thread snapshot of an image: what to upload and the facts the result must keep.

Kept cheap: file-backed and packed images are described from their headers (touching
``image.size`` would decode the whole file on the main thread); only images without usable bytes
(generated, painted and unsaved, or in a format Scenario does not take) have their pixels read.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import bpy
import numpy as np
import numpy.typing as npt

from ..core.fidelity import can_decode
from ..core.imagefile import (
    SCENARIO_UPLOAD_FORMATS,
    ImageHeaderError,
    read_image_header,
    sniff_format,
)
from ..core.naming import sanitize_stem
from ..core.refusal import Refusal, check_min_side
from ..core.source import FileSource, PixelSource, Source
from . import lookup, packed_bytes, rna, udim_tiles


@dataclass
class ImageFacts:
    name: str
    width: int
    height: int
    kind: str  # file, packed, generated, edited, memory
    colorspace: str
    alpha_mode: str
    is_data: bool
    is_float: bool
    notes: list[str] = field(default_factory=list)
    # A packed file's bytes when describe() had to copy them whole (Blender versions whose
    # packed files are not read in steps): take_source() reuses this copy.
    packed_data: bytes | None = field(default=None, repr=False, compare=False)
    tiles: list[udim_tiles.Tile] = field(default_factory=list)  # a UDIM set's, in order


PREVIEW_OF = "scenario_preview_of"  # on a preview's images (bridge/previews.py): its texture


def describe(image: bpy.types.Image) -> ImageFacts:
    """Facts about ``image`` without decoding it; raises Refusal for images that cannot be sent."""
    if lookup.has_property(image, PREVIEW_OF):
        raise Refusal(f"'{image.name}' is a preview of '{image[PREVIEW_OF]}': previews are "
                      f"never upscaled nor put into a material. Back to Texture shows "
                      f"'{image[PREVIEW_OF]}' again.")
    if image.source in {"MOVIE", "SEQUENCE"}:
        raise Refusal(
            f"'{image.name}' is a {image.source.lower()}; only still images can be upscaled. "
            "Export the frame you need as an image first."
        )
    if image.type not in {"IMAGE", "UV_TEST"}:
        kind = image.type.replace("_", " ").lower()
        raise Refusal(f"'{image.name}' is a {kind}; save it as an image first.")
    facts = ImageFacts(
        name=image.name, width=0, height=0, kind="file",
        colorspace=rna.colorspace(image).name, alpha_mode=image.alpha_mode,
        is_data=bool(rna.colorspace(image).is_data), is_float=_is_float_if_loaded(image),
    )
    if udim_tiles.is_tiled(image):
        return _describe_set(image, facts)
    if image.source == "GENERATED":
        facts.kind = "generated"
        facts.width, facts.height = int(image.generated_width), int(image.generated_height)
        if image.is_dirty or image.has_data:
            facts.width, facts.height = rna.size(image)
    elif image.packed_file is not None:
        facts.kind = "packed"
        if image.has_data:  # shown in an editor already: Blender knows the size, no copy needed
            facts.width, facts.height = rna.size(image)
        else:
            head, facts.packed_data = packed_bytes.head(image)
            facts.width, facts.height, hint = _header_facts(head, image)
            facts.is_float = facts.is_float or hint
    else:
        path = lookup.file_path(image)
        if not path or not os.path.isfile(path):
            if image.has_data:
                facts.kind = "memory"
                facts.width, facts.height = rna.size(image)
                facts.notes.append("Its file is missing, so the pixels in memory are sent.")
            else:
                raise Refusal(
                    f"The file of '{image.name}' is missing ({image.filepath or 'no path'}). "
                    "Relink it with Image ▸ Replace, or pack it, then try again."
                )
        else:
            facts.width, facts.height, hint = _header_facts(path, image)
            facts.is_float = facts.is_float or hint
        if image.is_dirty:
            facts.kind = "edited"
            facts.notes.append("It has unsaved paint; the painted pixels are sent, not the file.")
    check_min_side(f"'{image.name}'", facts.width, facts.height)
    return facts


def _describe_set(image: bpy.types.Image, facts: ImageFacts) -> ImageFacts:
    """A UDIM set: its first tile's size, and every tile."""
    facts.tiles = udim_tiles.describe(image)
    facts.kind = f"UDIM set, {udim_tiles.kind(image)}"
    facts.width, facts.height = facts.tiles[0].width, facts.tiles[0].height
    return facts


_panel_cache: dict[tuple[object, ...], ImageFacts | Refusal] = {}


def describe_cached(image: bpy.types.Image) -> ImageFacts:
    """``describe`` for drawing code: redraws come often, headers are read once per state."""
    key = (image.name, image.filepath, image.source, image.packed_file is not None,
           image.is_dirty, rna.colorspace(image).name, image.has_data, len(image.tiles))
    found = _panel_cache.get(key)
    if found is None:
        if len(_panel_cache) > 64:
            _panel_cache.clear()
        try:
            found = describe(image)
        except Refusal as exc:
            found = exc
        _panel_cache[key] = found
    if isinstance(found, Refusal):
        raise found
    return found


def check_output_size(facts: ImageFacts, factor: int, max_side: int) -> tuple[int, int]:
    width, height = facts.width * factor, facts.height * factor
    if max(width, height) > max_side:
        largest = max(2, max_side // max(facts.width, facts.height))
        raise Refusal(
            f"×{factor} would make '{facts.name}' {width}×{height} px, above the {max_side} px "
            f"limit set in the preferences. Use a factor of {largest} or less, or raise the limit."
        )
    return width, height


def take_source(image: bpy.types.Image, facts: ImageFacts, keep_alpha: bool = True) -> Source:
    """What the worker will upload. Reads pixels only when no usable file bytes exist."""
    name = image.name
    if facts.kind == "file":
        path = lookup.file_path(image)
        with open(path, "rb") as handle:
            fmt = sniff_format(handle.read(64))
        if fmt in SCENARIO_UPLOAD_FORMATS:
            return FileSource(path=path, name=_upload_name(os.path.basename(path), fmt))
        facts.notes.append(_converted_note(fmt, facts))
    elif facts.kind == "packed":
        whole = facts.packed_data
        head, whole = (whole, whole) if whole is not None else packed_bytes.head(image)
        fmt = sniff_format(head[:64])
        if fmt in SCENARIO_UPLOAD_FORMATS:
            return packed_bytes.take(image, _upload_name(name, fmt or "png"), whole)
        facts.notes.append(_converted_note(fmt, facts))
    return read_pixels(image, facts, keep_alpha)


def decodable_source(image: bpy.types.Image, facts: ImageFacts) -> Source:
    """Like ``take_source``, but always something the worker can decode (pixels or a PNG): the
    pixels are read when the bytes are in a format it has no codec for (JPEG, WebP, …)."""
    source = take_source(image, facts)
    if can_decode(source):
        return source
    return read_pixels(image, facts, keep_alpha=True)


def read_pixels(image: bpy.types.Image, facts: ImageFacts, keep_alpha: bool) -> PixelSource:
    width, height = rna.size(image)
    if width * height == 0:
        raise Refusal(f"'{image.name}' has no pixels to upscale.")
    buffer = np.empty(width * height * image.channels, dtype=np.float32)
    image.pixels.foreach_get(buffer)  # type: ignore[attr-defined]  # 4.2 stubs: a float
    facts.is_float = bool(image.is_float)  # loaded by now, so asking costs nothing
    if image.channels != 4:
        buffer = _to_rgba(buffer, image.channels)
    return PixelSource(
        buffer=buffer, width=width, height=height, name=_upload_name(image.name, "png"),
        is_float=facts.is_float, is_data=facts.is_data, keep_alpha=keep_alpha,
    )


def _is_float_if_loaded(image: bpy.types.Image) -> bool:
    # image.is_float decodes the whole file when it is not loaded yet (~0.3 s for a 4K PNG, on
    # the main thread): unloaded files are judged by their header, read_pixels() asks Blender.
    if image.has_data:
        return bool(image.is_float)
    return image.source == "GENERATED" and bool(image.use_generated_float)


def _header_facts(source: str | bytes, image: bpy.types.Image) -> tuple[int, int, bool]:
    """Width, height and whether Blender will hold the pixels as floats (EXR, HDR, 16-bit)."""
    try:
        header = read_image_header(source)
        if header.width and header.height:
            wide = header.format in ("exr", "hdr") or (header.bit_depth or 8) > 8
            return header.width, header.height, wide
    except (ImageHeaderError, OSError):
        pass
    # A format whose header we do not parse (EXR, TGA, …): Blender knows the size.
    width, height = rna.size(image)
    if not (width or height):  # not a size: Blender could not load it either
        where = source if isinstance(source, str) else "packed in the .blend"
        raise Refusal(
            f"Blender could not read '{image.name}' ({where}) as an image: the file is not an "
            "image, or it is damaged. Replace it with a texture Blender opens (Image ▸ Replace), "
            "then try again."
        )
    return int(width), int(height), bool(image.is_float)


def _converted_note(fmt: str | None, facts: ImageFacts) -> str:
    kind = (fmt or "its").upper()
    if facts.is_float:
        return (
            f"{kind} is not accepted by Scenario: this high-dynamic-range image is sent as an 8-bit "
            "PNG (values above 1 are clipped); the result is 8-bit."
        )
    return f"{kind} is not accepted by Scenario, so it is sent as a PNG."


def _upload_name(name: str, fmt: str) -> str:
    return f"{sanitize_stem(name)}.{ {'jpeg': 'jpg'}.get(fmt, fmt) }"


def _to_rgba(buffer: npt.NDArray[np.float32], channels: int) -> npt.NDArray[np.float32]:
    pixels = buffer.reshape(-1, channels)
    rgba = np.ones((pixels.shape[0], 4), dtype=np.float32)
    if channels >= 3:
        rgba[:, :3] = pixels[:, :3]
    else:
        rgba[:, :3] = pixels[:, :1]
    if channels in (2, 4):
        rgba[:, 3] = pixels[:, -1]
    return rgba.reshape(-1)
