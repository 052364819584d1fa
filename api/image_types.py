"""Recognise image formats from their first bytes, and say which ones Scenario accepts."""

from __future__ import annotations

# Enough bytes for every signature below (ISO-BMFF brands included).
SNIFF_BYTES = 64

ACCEPTED_UPLOAD_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/webp", "image/gif", "image/tiff", "image/avif", "image/heif"}
)
EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "image/gif": ".gif",
    "image/tiff": ".tif",
    "image/avif": ".avif",
    "image/heif": ".heic",
}
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}


def sniff_image_type(head: bytes) -> str | None:
    """The MIME type of an accepted image format, or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff"
    if head[4:8] == b"ftyp":
        return _iso_bmff_type(head)
    return None


def _iso_bmff_type(head: bytes) -> str | None:
    box_size = int.from_bytes(head[:4], "big")
    end = min(len(head), box_size if box_size >= 16 else 16)
    brands = {head[8:12]} | {head[i : i + 4] for i in range(16, end - 3, 4)}
    if brands & _AVIF_BRANDS:
        return "image/avif"
    if brands & _HEIF_BRANDS:
        return "image/heif"
    return None


def describe_unsupported(head: bytes) -> str:
    """Name a format Scenario does not take, for the error message."""
    if head[:2] == b"BM":
        return "BMP"
    if head[:4] == b"\x76\x2f\x31\x01":
        return "OpenEXR"
    if head.startswith((b"#?RADIANCE", b"#?RGBE")):
        return "Radiance HDR"
    if head[:4] == b"8BPS":
        return "Photoshop (PSD)"
    if head[:4] == b"DDS ":
        return "DDS"
    if head[:4] == b"\x00\x00\x00\x0c" and head[4:8] == b"jP  ":
        return "JPEG 2000"
    return "an unrecognised format"
