"""Recognise image formats from their first bytes, and say which ones Scenario accepts.

The one table of image formats and signatures of the project: the client checks uploads and
downloads with it, ``core.imagefile`` reads headers of the formats it names, the pipeline names
result files after it and the emulator serves files with its types.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

# Enough bytes for every signature below (ISO-BMFF brands included).
SNIFF_BYTES = 64



@dataclass(frozen=True)
class ImageFormat:
    mime_type: str
    extension: str  # of the files the project writes, without the dot
    name: str  # as an error message names it
    scenario_takes: bool  # Scenario's asset upload accepts it as it is


# The one table of image formats: everything below, in core/ and in the emulator derives from it.
FORMATS: Final[dict[str, ImageFormat]] = {
    "png": ImageFormat("image/png", "png", "PNG", True),
    "jpeg": ImageFormat("image/jpeg", "jpg", "JPEG", True),
    "webp": ImageFormat("image/webp", "webp", "WebP", True),
    "gif": ImageFormat("image/gif", "gif", "GIF", True),
    "tiff": ImageFormat("image/tiff", "tif", "TIFF", True),
    "avif": ImageFormat("image/avif", "avif", "AVIF", True),
    "heif": ImageFormat("image/heif", "heic", "HEIF", True),
    "bmp": ImageFormat("image/bmp", "bmp", "BMP", False),
    "exr": ImageFormat("image/x-exr", "exr", "OpenEXR", False),
    "hdr": ImageFormat("image/vnd.radiance", "hdr", "Radiance HDR", False),
}
MIME_TYPES: Final = {fmt: row.mime_type for fmt, row in FORMATS.items()}
FILE_EXTENSIONS: Final = {fmt: row.extension for fmt, row in FORMATS.items()}
# Formats Scenario's asset upload accepts as they are; anything else is re-encoded to PNG.
SCENARIO_UPLOAD_FORMATS: Final = frozenset(fmt for fmt, row in FORMATS.items() if row.scenario_takes)
ACCEPTED_UPLOAD_TYPES: Final = frozenset(MIME_TYPES[f] for f in SCENARIO_UPLOAD_FORMATS)
# File name extension (with its dot) of each type Scenario takes, by MIME type.
EXTENSIONS: Final = {
    row.mime_type: f".{row.extension}" for row in FORMATS.values() if row.scenario_takes
}

_AVIF_BRANDS: Final = frozenset({b"avif", b"avis"})
_HEIF_BRANDS: Final = frozenset(
    {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"}
)
_BMP_HEADER_SIZES: Final = frozenset({12, 16, 40, 52, 56, 64, 108, 124})


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
    if fmt is not None:
        return FORMATS[fmt].name
    if head[:4] == b"8BPS":
        return "Photoshop (PSD)"
    if head[:4] == b"DDS ":
        return "DDS"
    if head[:4] == b"\x00\x00\x00\x0c" and head[4:8] == b"jP  ":
        return "JPEG 2000"
    return "an unrecognised format"
