"""Whether an image file is whole: each format's own end, not only the byte count.

A server can cut a file short and still send a Content-Length that matches what it sent, or
claim a shorter length than the file has; the count then agrees and the file is still cut off.
Every format the add-on takes as a result says where it ends: PNG its IEND chunk, JPEG its EOI
marker, WebP the size in its RIFF header, GIF its trailer byte, TIFF the strips or tiles its
first directory points to, AVIF/HEIF the sizes of their top-level boxes. Each check reads a few
bytes at the places the format names (a PNG's chunk headers are hopped over by seeking), never
the image data, so a large file costs no more than a small one.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable

from .image_types import SNIFF_BYTES, sniff_format

# read_at(offset, count): up to ``count`` bytes at ``offset`` (fewer at the end of the file).
ReadAt = Callable[[int, int], bytes]
_MAX_BOXES = 10_000
_TIFF_TYPES = {3: ("H", 2), 4: ("I", 4), 16: ("Q", 8)}  # SHORT, LONG, LONG8


def file_end_problem(path: str | os.PathLike[str]) -> str | None:
    """What shows ``path`` is cut short (a phrase: "the PNG ends at byte 300 without its IEND
    chunk"), or None when its format's end is where it should be. Formats without a known
    end are not judged."""
    with open(path, "rb", buffering=0) as handle:
        size = os.fstat(handle.fileno()).st_size

        def read_at(offset: int, count: int) -> bytes:
            if offset < 0 or offset >= size:
                return b""
            handle.seek(offset)
            return handle.read(count) or b""

        return end_problem(read_at, size)


def end_problem(read_at: ReadAt, size: int) -> str | None:
    check = _CHECKS.get(sniff_format(read_at(0, SNIFF_BYTES)) or "")
    return check(read_at, size) if check is not None else None


def png_end_problem(read_at: ReadAt, size: int) -> str | None:
    """Every chunk must lie inside the file, up to an IEND chunk (8 bytes read per chunk)."""
    position = 8
    while True:  # ends: every chunk moves on by at least its 12 bytes of framing
        header = read_at(position, 8)
        if len(header) < 8:
            return f"the PNG ends at byte {size} without its IEND chunk"
        length, tag = struct.unpack(">I4s", header)
        if not tag.isalpha():
            return f"the PNG has no valid chunk at byte {position}"
        end = position + 12 + length
        if end > size:
            return (f"the PNG's {tag.decode('ascii')} chunk at byte {position} runs past the "
                    f"end of the file, at byte {size}")
        if tag == b"IEND":
            return None
        position = end


def _jpeg(read_at: ReadAt, size: int) -> str | None:
    # Some encoders pad after the end marker; nothing meaningful follows it.
    tail = read_at(max(0, size - 64), 64).rstrip(b"\x00\r\n ")
    if not tail.endswith(b"\xff\xd9"):
        return f"the JPEG ends at byte {size} without its end-of-image marker"
    return None


def _webp(read_at: ReadAt, size: int) -> str | None:
    (riff,) = struct.unpack("<I", read_at(4, 4))
    if size < riff + 8:
        return f"the WebP file says it holds {riff + 8} bytes, but it has {size}"
    return None


def _gif(read_at: ReadAt, size: int) -> str | None:
    if read_at(size - 1, 1) != b"\x3b":
        return f"the GIF ends at byte {size} without its trailer"
    return None


def _tiff(read_at: ReadAt, size: int) -> str | None:
    head = read_at(0, 8)
    order = "<" if head[:2] == b"II" else ">"
    if struct.unpack_from(order + "H", head, 2)[0] != 42:
        return None  # BigTIFF: not judged
    (ifd,) = struct.unpack_from(order + "I", head, 4)
    count_bytes = read_at(ifd, 2)
    if len(count_bytes) < 2:
        return f"the TIFF's first directory, at byte {ifd}, lies past the end of the file ({size})"
    (count,) = struct.unpack(order + "H", count_bytes)
    entries = read_at(ifd + 2, 12 * count)
    if len(entries) < 12 * count:
        return f"the TIFF's first directory runs past the end of the file, at byte {size}"
    tags: dict[int, list[int]] = {}
    for index in range(count):
        tag, kind, values = struct.unpack_from(order + "HHI", entries, 12 * index)
        if tag in (273, 279, 324, 325) and kind in _TIFF_TYPES:
            tags[tag] = _tiff_values(read_at, order, entries[12 * index + 8 : 12 * index + 12],
                                     kind, values)
    offsets = tags.get(273) or tags.get(324) or []
    counts = tags.get(279) or tags.get(325) or []
    end = max((o + c for o, c in zip(offsets, counts, strict=False)), default=0)
    if end > size:
        return f"the TIFF's image data runs to byte {end}, past the end of the file ({size})"
    return None


def _tiff_values(read_at: ReadAt, order: str, field: bytes, kind: int, count: int) -> list[int]:
    code, width = _TIFF_TYPES[kind]
    if width * count <= 4:
        return list(struct.unpack_from(order + code * count, field))
    (pointer,) = struct.unpack(order + "I", field)
    count = min(count, 1 << 16)
    data = read_at(pointer, width * count)
    return list(struct.unpack(order + code * (len(data) // width), data[: len(data) // width * width]))


def _isobmff(read_at: ReadAt, size: int) -> str | None:
    position = 0
    for _ in range(_MAX_BOXES):
        if position == size:
            return None
        header = read_at(position, 16)
        if len(header) < 8:
            return f"the file ends at byte {size} inside a box header"
        (length,) = struct.unpack_from(">I", header, 0)
        if length == 1 and len(header) == 16:
            (length,) = struct.unpack_from(">Q", header, 8)
        elif length == 0:
            return None  # the last box runs to the end of the file
        if length < 8:
            return f"the file has a damaged box at byte {position}"
        if position + length > size:
            return f"its box at byte {position} runs past the end of the file, at byte {size}"
        position += length
    return None


_CHECKS: dict[str, Callable[[ReadAt, int], str | None]] = {
    "png": png_end_problem,
    "jpeg": _jpeg,
    "webp": _webp,
    "gif": _gif,
    "tiff": _tiff,
    "avif": _isobmff,
    "heif": _isobmff,
}
