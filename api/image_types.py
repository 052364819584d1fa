"""Recognise image formats from their first bytes, and say which ones Scenario accepts.

The one signature table of the project: the client checks uploads and downloads with it, and
``core.imagefile`` reads headers of the formats it names.
"""

from __future__ import annotations

import struct
from typing import Final

# Enough bytes for every signature below (ISO-BMFF brands included).
SNIFF_BYTES = 64

MIME_TYPES: Final[dict[str, str]] = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "gif": "image/gif",
    "tiff": "image/tiff",
    "bmp": "image/bmp",
    "avif": "image/avif",
    "heif": "image/heif",
    "exr": "image/x-exr",
    "hdr": "image/vnd.radiance",
}
# Formats Scenario's asset upload accepts as they are; anything else is re-encoded to PNG.
SCENARIO_UPLOAD_FORMATS: Final = frozenset({"png", "jpeg", "webp", "gif", "avif", "tiff", "heif"})
ACCEPTED_UPLOAD_TYPES: Final = frozenset(MIME_TYPES[f] for f in SCENARIO_UPLOAD_FORMATS)
# File name extension of each type in MIME_TYPES (the emulator names its download URLs so too).
EXTENSIONS: Final[dict[str, str]] = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "image/gif": ".gif",
    "image/tiff": ".tif",
    "image/bmp": ".bmp",
    "image/avif": ".avif",
    "image/heif": ".heic",
    "image/x-exr": ".exr",
    "image/vnd.radiance": ".hdr",
}

_AVIF_BRANDS: Final = frozenset({b"avif", b"avis"})
_HEIF_BRANDS: Final = frozenset(
    {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"}
)
_BMP_HEADER_SIZES: Final = frozenset({12, 16, 40, 52, 56, 64, 108, 124})
_NAMES: Final = {"bmp": "BMP", "exr": "OpenEXR", "hdr": "Radiance HDR"}


def sniff_format(head: bytes) -> str | None:
    """The format of a file from its first bytes (32 or more are best), or None if unknown.

    Returns one of "png", "jpeg", "webp", "gif", "tiff", "bmp", "avif", "heif", "exr", "hdr".
    TGA has no signature and is never recognised.
    """
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if head[:4] == b"v/1\x01":
        return "exr"
    if head.startswith((b"#?RADIANCE", b"#?RGBE")):
        return "hdr"
    if head[4:8] == b"ftyp":
        return _brand_format(head)
    if head[:2] == b"BM" and len(head) >= 18:
        (dib_size,) = struct.unpack_from("<I", head, 14)
        if dib_size in _BMP_HEADER_SIZES:
            return "bmp"
    return None


def _brand_format(head: bytes) -> str | None:
    (size,) = struct.unpack_from(">I", head, 0)
    end = min(len(head), max(size, 16))
    brands = {head[8:12]} | {head[i : i + 4] for i in range(16, end - 3, 4)}
    if brands & _AVIF_BRANDS:
        return "avif"
    if brands & _HEIF_BRANDS:
        return "heif"
    return None


def sniff_image_type(head: bytes) -> str | None:
    """The MIME type of a format Scenario accepts, or None."""
    fmt = sniff_format(head)
    return MIME_TYPES[fmt] if fmt in SCENARIO_UPLOAD_FORMATS else None


def describe_unsupported(head: bytes) -> str:
    """Name a format Scenario does not take, for the error message."""
    fmt = sniff_format(head)
    if fmt in _NAMES:
        return _NAMES[fmt]
    if head[:4] == b"8BPS":
        return "Photoshop (PSD)"
    if head[:4] == b"DDS ":
        return "DDS"
    if head[:4] == b"\x00\x00\x00\x0c" and head[4:8] == b"jP  ":
        return "JPEG 2000"
    return "an unrecognised format"
