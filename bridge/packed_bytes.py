"""A packed image's bytes, as Blender hands them out: ``PackedFile.data``, one copy on the main
thread (the only thread that may touch Blender's data).

The copy is the one main-thread cost of a packed upscale that grows with the file: about 0.5, 35
and 145 ms for a 1K, 4K and 8K PNG (``make bench`` reports it). An earlier version read Blender's
PackedFile struct with ctypes to copy it in steps; that reads Blender's memory at fixed offsets,
which a change of the struct in any release turns into a crash (docs/decisions.md).
"""

from __future__ import annotations

import bpy

from ..core.source import BytesSource

HEAD_BYTES = 65536  # enough for any header read_image_header parses


def data(packed: bpy.types.PackedFile | None) -> bytes:
    """``packed.data``, copied: a packed image's (tile's) file. Blender hands out bytes, which
    the stubs call str; callers know the image is packed."""
    assert packed is not None
    return bytes(packed.data)  # type: ignore[arg-type]  # bytes; the stubs after 4.2 say str


def head(image: bpy.types.Image) -> tuple[bytes, bytes]:
    """The packed file's first bytes, and the whole file (kept, so it is copied only once)."""
    whole = data(image.packed_file)
    return whole[:HEAD_BYTES], whole


def take(image: bpy.types.Image, name: str, whole: bytes | None = None) -> BytesSource:
    """The packed bytes as a source, copied now unless ``head`` already did."""
    return BytesSource(whole if whole is not None else data(image.packed_file), name)
