"""Decoding, normalising and "upscaling" images the way a worst-case upscaler would."""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageSequence, UnidentifiedImageError

# Refuse absurd inputs before Pillow allocates them.
MAX_INPUT_PIXELS = 64 * 1024 * 1024
# Wrap-around border resampled with the image so both edges see the opposite side.
_WRAP_PAD = 8
# Tonal drift of a re-rendering model: slightly darker gain, small lift.
_GAIN = 0.98
_LIFT = 2.0
# Strength of the artificial seam in --break-tiling mode (levels out of 255).
_SEAM_LEVELS = 48
# Output rows rendered per step.
_ROW_CHUNK = 256


class InvalidImage(ValueError):
    pass


@dataclass(frozen=True)
class ImageInfo:
    mime_type: str
    width: int
    height: int


def _open(data: bytes) -> Image.Image:
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.width * probe.height > MAX_INPUT_PIXELS:
                raise InvalidImage(f"image is too large ({probe.width}x{probe.height})")
            probe.verify()
        image = Image.open(io.BytesIO(data))
        image.load()
    except InvalidImage:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise InvalidImage("data is not a supported image") from None
    return image


def inspect(data: bytes) -> ImageInfo:
    """Validate ``data`` as an image and describe it; raise InvalidImage otherwise."""
    image = _open(data)
    mime = Image.MIME.get(image.format or "", "application/octet-stream")
    return ImageInfo(mime, image.width, image.height)


def _to_eight_bit_grey(image: Image.Image) -> Image.Image:
    values = np.asarray(image, dtype=np.float64)
    peak = 255.0
    if image.mode.startswith("I;16") or float(values.max(initial=0.0)) > 255.0:
        peak = 65535.0
    elif image.mode == "F" and float(values.max(initial=0.0)) <= 1.0:
        peak = 1.0
    scaled = np.clip(np.rint(values * (255.0 / peak)), 0, 255).astype(np.uint8)
    return Image.fromarray(scaled, "L")


def normalise(image: Image.Image) -> Image.Image:
    """First frame as 8-bit RGB, or RGBA when the source carries transparency."""
    if getattr(image, "n_frames", 1) > 1:
        image = next(iter(ImageSequence.Iterator(image))).copy()
    has_alpha = image.has_transparency_data
    if image.mode in ("I", "F") or image.mode.startswith("I;16"):
        image = _to_eight_bit_grey(image)
    target = "RGBA" if has_alpha else "RGB"
    if image.mode == target:
        return image
    try:
        return image.convert(target)
    except ValueError:
        raise InvalidImage(f"unsupported image mode {image.mode}") from None


def _wrapped(image: Image.Image) -> Image.Image:
    """The image with a border taken from the opposite sides, so the filter reads across edges.
    Pasted, so the only new memory is the padded image itself."""
    width, height, pad = image.width, image.height, _WRAP_PAD
    padded = Image.new(image.mode, (width + 2 * pad, height + 2 * pad))
    across, down = -(-pad // width), -(-pad // height)  # copies needed on each side
    for dx in range(-across, across + 1):
        for dy in range(-down, down + 1):
            padded.paste(image, (pad + dx * width, pad + dy * height))
    return padded


def _tone_curve(mode: str) -> list[int]:
    curve = [min(255, max(0, round(v * _GAIN + _LIFT))) for v in range(256)]
    return curve * 3 + (list(range(256)) if mode == "RGBA" else [])


def upscale(data: bytes, factor: int, *, keep_alpha: bool, break_tiling: bool) -> bytes:
    """Return a PNG exactly ``factor`` times the source size, tileable unless told otherwise.

    Rendered a strip of rows at a time into the result, so the result is the only full-size
    buffer (a whole-image resize, tone curve and seam would each make another). Each strip is
    the same as that part of one whole-image resize.
    """
    image = normalise(_open(data))
    if image.mode == "RGBA" and not keep_alpha:
        image = image.convert("RGB")
    padded, curve = _wrapped(image), _tone_curve(image.mode)
    width, height = image.width * factor, image.height * factor
    seam = (np.linspace(0, _SEAM_LEVELS, width, dtype=np.float32).astype(np.int16)[None, :, None]
            if break_tiling else None)
    result = Image.new(image.mode, (width, height))
    # Whole source rows per strip, and every strip as tall (the last one overlaps the one
    # before): Pillow filters a box of a few rows differently from the same rows of a tall one.
    step = min(height, factor * max(1, _ROW_CHUNK // factor))
    for done in range(0, height, step):
        top = min(done, height - step)
        # The box keeps the output exactly factor x the source while the filter reads the
        # wrapped border, so opposite edges still continue into each other.
        box = (_WRAP_PAD, _WRAP_PAD + top // factor, _WRAP_PAD + image.width,
               _WRAP_PAD + (top + step) // factor)
        strip = padded.resize((width, step), Image.Resampling.BICUBIC, box=box).point(curve)
        if seam is not None:
            rows = np.array(strip)
            rows[:, :, :3] = np.clip(rows[:, :, :3].astype(np.int16) + seam, 0, 255)
            strip = Image.fromarray(rows, image.mode)
        result.paste(strip.crop((0, done - top, width, step)), (0, done))
    return encode_png(result)


def encode_png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    # Level 1, like a fast encoder: results are big and only ever read once.
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


def convert(data: bytes, fmt: str) -> bytes:
    """Re-encode an image as ``fmt``, one of ``formats.CONVERTIBLE``."""
    image = normalise(_open(data))
    if fmt == "jpeg" and image.mode == "RGBA":
        image = image.convert("RGB")
    out = io.BytesIO()
    image.save(out, format=fmt.upper())
    return out.getvalue()


def resized(data: bytes, width: int, height: int) -> bytes:
    """The image as a PNG of exactly ``width`` × ``height`` (a result of the wrong size)."""
    image = normalise(_open(data))
    return encode_png(image.resize((width, height), Image.Resampling.BICUBIC))


def header_bomb(width: int, height: int) -> bytes:
    """A whole PNG (IHDR with a valid CRC, IDAT, IEND) whose header claims ``width`` ×
    ``height`` RGBA pixels and whose data holds one row: a reader that trusts the header
    allocates width × height × 4 bytes before it finds out."""

    def chunk(tag: bytes, payload: bytes) -> bytes:
        return (struct.pack(">I", len(payload)) + tag + payload
                + struct.pack(">I", zlib.crc32(tag + payload)))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    row = zlib.compress(bytes(1 + 4 * width), 9)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", row)
            + chunk(b"IEND", b""))
