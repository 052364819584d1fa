"""Main thread: a UDIM (tiled) image's tiles — their numbers, labels, sizes and bytes.

A tile on disk is sent as its file, byte for byte; a packed tile as its packed bytes. Generated
tiles have no bytes: Blender writes them to the job's work folder once (Python reaches the
pixels of a set's first tile only). Tiles with unsaved paint are refused rather than read that
way, because writing them elsewhere would clear Blender's unsaved-changes flag.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import bpy

from ..core.imagefile import (
    SCENARIO_UPLOAD_FORMATS,
    ImageHeaderError,
    read_image_header,
    sniff_format,
)
from ..core.naming import UDIM_TOKEN, sanitize_stem
from ..core.refusal import Refusal, check_min_side
from ..core.source import BytesSource, FileSource, Source
from . import lookup, packed_bytes, rna

UVTILE_TOKEN = "<UVTILE>"  # noqa: S105 - the file-name token, not a secret
_NUMBER_IN_NAME = re.compile(r"(?<=[._])1\d{3}(?=\.[^./\\]+$)")


@dataclass(frozen=True)
class Tile:
    number: int
    label: str
    width: int
    height: int
    path: str = ""  # its file, for a tile on disk


def is_tiled(image: bpy.types.Image) -> bool:
    return image.source == "TILED"


def kind(image: bpy.types.Image) -> str:
    """How the set's bytes are held: packed, generated, or file."""
    if len(image.packed_files):
        return "packed"
    return "generated" if not image.filepath else "file"


def describe(image: bpy.types.Image) -> list[Tile]:
    """The set's tiles from their headers; Refusal for a tile that cannot be sent (missing,
    unreadable, too small) naming its number, and for unsaved paint."""
    if image.is_dirty:
        raise Refusal(
            f"'{image.name}' has unsaved paint on its UDIM tiles. Save the image first "
            "(Image ▸ Save, or pack it), then upscale: the saved tiles are what is sent."
        )
    how = kind(image)
    packed = {int(p.tile_number): p for p in image.packed_files} if how == "packed" else {}
    tiles = []
    for tile in image.tiles:
        number = int(tile.number)
        path = ""
        if how == "generated":
            width, height = rna.size(tile)
        elif how == "packed":
            if number not in packed:
                raise Refusal(f"Tile {number} of '{image.name}' is not packed: pack the image "
                              "again (Image ▸ Pack), then try again.")
            width, height = _header_size(packed_bytes.data(packed[number].packed_file), image,
                                         number)
        else:
            path = tile_path(image, number)
            if not os.path.isfile(path):
                raise Refusal(f"Tile {number} of '{image.name}' is missing: there is no file at "
                              f"{path}. Relink or restore it, then try again; nothing was sent.")
            width, height = _header_size(path, image, number)
        check_min_side(f"Tile {number} of '{image.name}'", width, height)
        tiles.append(Tile(number, str(tile.label), width, height, path))
    if not tiles:
        raise Refusal(f"'{image.name}' is a UDIM image without tiles.")
    return tiles


def tile_path(image: bpy.types.Image, number: int) -> str:
    """The file of tile ``number``: the image's path with its tile token filled in."""
    path = lookup.file_path(image)
    if UDIM_TOKEN in path:
        return path.replace(UDIM_TOKEN, str(number))
    if UVTILE_TOKEN in path:
        u, v = (number - 1001) % 10 + 1, (number - 1001) // 10 + 1
        return path.replace(UVTILE_TOKEN, f"u{u}_v{v}")
    return _NUMBER_IN_NAME.sub(str(number), path)  # a path naming one tile: 1001 in place


def take_sources(image: bpy.types.Image, tiles: list[Tile], work_dir: Path
                 ) -> dict[int, Source]:
    """What each tile uploads: its file or packed bytes as they are; generated tiles as the
    PNGs Blender writes of them."""
    how = kind(image)
    stem = sanitize_stem(image.name)
    if how == "file":
        sources: dict[int, Source] = {}
        for tile in tiles:
            with open(tile.path, "rb") as handle:
                fmt = sniff_format(handle.read(64))
            if fmt not in SCENARIO_UPLOAD_FORMATS:
                raise Refusal(f"Tile {tile.number} of '{image.name}' is {_format(fmt)}, which "
                              "Scenario does not take: save the set as PNG, then try again.")
            sources[tile.number] = FileSource(tile.path, f"{stem}.{tile.number}.{_ext(fmt)}")
        return sources
    if how == "packed":
        sources = {}
        for packed in image.packed_files:
            data = packed_bytes.data(packed.packed_file)
            fmt = sniff_format(data[:64])
            if fmt not in SCENARIO_UPLOAD_FORMATS:
                raise Refusal(f"Tile {packed.tile_number} of '{image.name}' is packed as "
                              f"{_format(fmt)}, which Scenario does not take: save the set as "
                              "PNG and pack it again, then try again.")
            sources[int(packed.tile_number)] = BytesSource(
                data, f"{stem}.{packed.tile_number}.{_ext(fmt)}")
        return sources
    work_dir.mkdir(parents=True, exist_ok=True)
    pattern = str(work_dir / f"{stem}.{UDIM_TOKEN}.png")
    image.save(filepath=pattern)  # writes every tile; the image keeps its own (empty) path
    return {tile.number: FileSource(pattern.replace(UDIM_TOKEN, str(tile.number)),
                                    f"{stem}.{tile.number}.png") for tile in tiles}


def _header_size(source: str | bytes, image: bpy.types.Image, number: int) -> tuple[int, int]:
    try:
        header = read_image_header(source)
    except (ImageHeaderError, OSError):
        header = None
    if header is None or not (header.width and header.height):
        raise Refusal(f"Tile {number} of '{image.name}' cannot be read as an image (damaged, or "
                      "a format Scenario does not take). Replace it with a PNG, then try again.")
    return header.width, header.height


def _ext(fmt: str | None) -> str:
    return {"jpeg": "jpg"}.get(fmt or "png", fmt or "png")


def _format(fmt: str | None) -> str:
    return fmt.upper() if fmt else "an unknown format"
