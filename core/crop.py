"""The piece of a texture a preview sends: where it is, and its pixels taken from the source
without Blender's main thread.

A region is in source pixels with its origin at the bottom left, as Blender stores pixels. The
crop is cut in a worker (a PNG is streamed by this add-on's codec, in the pixel helper process
for big images) or, for formats this codec cannot read (JPEG, WebP, TIFF, EXR, …), by a helper
Blender started for it (``bridge/crop_helper.py``): Blender's main thread never reads the whole
image. Everything here is bpy-free.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import tempfile
import zlib
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from . import pixels, png
from .imagefile import sniff_format
from .scheduler import JobCancelled, JobContext
from .source import BytesSource, FileSource, PixelSource, Source

PREVIEW_SIZES = (256, 512, 1024)


@dataclass(frozen=True)
class Region:
    """A rectangle of source pixels; ``x``, ``y`` from the bottom left."""

    x: int
    y: int
    width: int
    height: int

    def as_list(self) -> list[int]:
        return [self.x, self.y, self.width, self.height]

    def rows_top_down(self, image_height: int) -> tuple[int, int]:
        """The first and past-the-last row of the region counted from the top (files store
        rows top-down)."""
        top = image_height - (self.y + self.height)
        return top, top + self.height

    def describe(self) -> str:
        return f"{self.width}×{self.height} at ({self.x}, {self.y})"


def around(center_x: float, center_y: float, size: int, width: int, height: int) -> Region:
    """The ``size`` × ``size`` crop centred on a point of a ``width`` × ``height`` image,
    shifted to lie inside it (and no larger than it)."""
    w, h = min(size, width), min(size, height)
    x = int(round(center_x - w / 2))
    y = int(round(center_y - h / 2))
    return Region(min(max(x, 0), width - w), min(max(y, 0), height - h), w, h)


def check_inside(region: Region, width: int, height: int, minimum: int = 16) -> None:
    """ValueError naming what is wrong with a region given by a script."""
    if region.width < minimum or region.height < minimum:
        raise ValueError(f"The region is {region.width}×{region.height} px: a preview needs at "
                         f"least {minimum}×{minimum} px.")
    if (region.x < 0 or region.y < 0 or region.x + region.width > width
            or region.y + region.height > height):
        raise ValueError(f"The region {region.describe()} does not lie inside the "
                         f"{width}×{height} px image (x, y from its bottom left).")


@dataclass(frozen=True)
class CropResult:
    path: str  # the crop as a PNG: what is uploaded
    width: int
    height: int
    is_float: bool = False  # cut from a float buffer (sent as sRGB 8-bit, like an upscale)


# --- PNG: this add-on's codec -----------------------------------------------------------------
def crop_png(source: str | bytes | memoryview, region: Region, target: str) -> CropResult:
    """The region of a PNG (a path or its bytes) written as a PNG of the same layout (bit depth,
    channels): only the rows down to the region's bottom are inflated."""
    stream = png.stream_png(source)
    if stream is None:  # interlaced, palette or < 8 bits: decoded whole
        decoded = png.decode_png(source)
        cut = _cut_top_down(decoded, region, decoded.shape[0], decoded.shape[1])
    else:
        with stream:
            _check_size(region, stream.width, stream.height)
            top, bottom = region.rows_top_down(stream.height)
            parts = []
            for first, block in stream.blocks():
                last = first + block.shape[0]
                if last <= top:
                    continue
                parts.append(block[max(top - first, 0):min(bottom, last) - first,
                                   region.x:region.x + region.width].copy())
                if last >= bottom:
                    break
            cut = np.concatenate(parts) if len(parts) > 1 else parts[0]
    png.write_png(target, np.ascontiguousarray(cut))
    return CropResult(target, region.width, region.height)


def _cut_top_down(image: png.PixelArray, region: Region, height: int, width: int
                  ) -> png.PixelArray:
    _check_size(region, width, height)
    top, bottom = region.rows_top_down(height)
    return image[top:bottom, region.x:region.x + region.width]


def _check_size(region: Region, width: int, height: int) -> None:
    if region.x + region.width > width or region.y + region.height > height:
        raise ValueError(f"The region {region.describe()} is outside the {width}×{height} px "
                         "image: it changed since the preview started.")


# --- Blender's pixels (generated, painted, or read by a helper Blender) ------------------------
def crop_pixels(source: PixelSource, region: Region, target: str) -> CropResult:
    """The region of Blender's float buffer (rows bottom-up), written as the PNG an upscale
    would send of those pixels."""
    _check_size(region, source.width, source.height)
    grid = source.buffer.reshape(source.height, source.width, 4)
    cut = grid[region.y:region.y + region.height, region.x:region.x + region.width]
    return write_pixels(np.ascontiguousarray(cut).reshape(-1), region.width, region.height,
                        target, is_float=source.is_float, is_data=source.is_data,
                        keep_alpha=source.keep_alpha)


def write_pixels(buffer: npt.NDArray[np.float32], width: int, height: int, target: str, *,
                 is_float: bool, is_data: bool, keep_alpha: bool) -> CropResult:
    """Blender's RGBA floats (bottom-up) as an 8-bit PNG, alpha kept only when it means
    something: the conversion an upscale of such pixels uses."""
    rgba = pixels.blender_float_to_rgba8(buffer, width, height, is_float_image=is_float,
                                         is_data=is_data)
    image = rgba if keep_alpha and pixels.has_meaningful_alpha(rgba) else rgba[:, :, :3]
    png.write_png(target, np.ascontiguousarray(image))
    return CropResult(target, width, height, is_float=is_float)


def crop_with_blender(command: list[str], image_path: str, region: Region, work_dir: Path,
                      target: str, *, is_data: bool, keep_alpha: bool,
                      ctx: JobContext | None = None) -> CropResult:
    """The region of an image file in any format Blender reads, cut by a helper Blender
    (``command`` starts it; the image path, the region and an output path follow): Blender's
    decoder, out of Blender's process, so its work never holds up the UI."""
    work_dir.mkdir(parents=True, exist_ok=True)
    fd, raw = tempfile.mkstemp(prefix="crop-", suffix=".npy", dir=work_dir)
    os.close(fd)
    try:
        args = [*command, image_path, *map(str, region.as_list()), raw]
        facts = _run_helper(args, work_dir, ctx)
        buffer = np.load(raw)
    finally:
        Path(raw).unlink(missing_ok=True)
    if buffer.shape != (region.height, region.width, 4):
        raise ValueError(f"The helper Blender cut {buffer.shape[1]}×{buffer.shape[0]} px "
                         f"instead of {region.width}×{region.height}.")
    return write_pixels(buffer.reshape(-1), region.width, region.height, target,
                        is_float=bool(facts.get("is_float")), is_data=is_data,
                        keep_alpha=keep_alpha)


class CropHelperError(RuntimeError):
    """The helper Blender could not cut the crop; the message says why."""


def _run_helper(args: list[str], work_dir: Path, ctx: JobContext | None) -> dict[str, object]:
    with tempfile.TemporaryFile(dir=work_dir) as output:
        try:
            child = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=output,
                                     stderr=subprocess.STDOUT, close_fds=True,
                                     creationflags=_NO_WINDOW)
        except OSError as exc:
            raise CropHelperError(f"The helper Blender ({args[0]}) could not be started: "
                                  f"{exc}.") from exc
        try:
            with ctx.stopping(child.kill) if ctx is not None else nullcontext():
                child.wait()
            if ctx is not None and ctx.cancelled:
                raise JobCancelled()
        except BaseException:
            if child.poll() is None:
                child.kill()
                child.wait()
            raise
        output.seek(0)
        lines = output.read().decode("utf-8", "replace").splitlines()
    answer = next((line[len(HELPER_ANSWER):] for line in reversed(lines)
                   if line.startswith(HELPER_ANSWER)), None)
    if child.returncode != 0 or answer is None:
        said = next((line[len(HELPER_ERROR):] for line in lines
                     if line.startswith(HELPER_ERROR)), "")
        raise CropHelperError(said or f"The helper Blender stopped (exit code "
                              f"{child.returncode}): {' '.join(lines[-3:])[-300:]}")
    facts = json.loads(answer)
    return facts if isinstance(facts, dict) else {}


# What the helper prints: its answer, or what it could not do (bridge/crop_helper.py).
HELPER_ANSWER = "SCENARIO_CROP "
HELPER_ERROR = "SCENARIO_CROP_ERROR "
_NO_WINDOW = getattr(subprocess, "CREATE_NO_WINDOW", 0) if os.name == "nt" else 0


def needs_blender(source: Source) -> bool:
    """Whether cutting ``source`` needs Blender's decoder (not a PNG, not pixels)."""
    if isinstance(source, PixelSource):
        return False
    if isinstance(source, FileSource):
        with open(source.path, "rb") as handle:
            head = handle.read(16)
    else:
        head = bytes(source.data[:16])
    return sniff_format(head) != "png"


def pixels_to_decode(region: Region, image_width: int, image_height: int) -> int:
    """How many pixels cutting ``region`` out of a PNG decodes (whole rows, down to the
    region's bottom): what decides whether the work is worth the pixel helper process."""
    _, bottom = region.rows_top_down(image_height)
    return bottom * image_width


def crop_source(source: BytesSource | FileSource, region: Region, target: str) -> CropResult:
    """``crop_png`` of a file or packed PNG."""
    return crop_png(source.path if isinstance(source, FileSource) else source.data, region,
                    target)


# --- the A/B reference and the whole image's price ---------------------------------------------
def original_like(crop_path: str, width: int, height: int, target: str) -> str:
    """The crop resampled (bilinear) to a preview's size, so that it is compared with the
    preview pixel for pixel."""
    decoded = png.decode_png(crop_path)
    png.write_png(target, pixels.resample(decoded, height, width))
    return target


def stand_in(width: int, height: int, target: str) -> str:
    """A flat grey 8-bit PNG of ``width`` × ``height``: what the whole image's dry run is asked
    for. Scenario prices by the output's pixels, so it costs what the texture would, and it is
    a few kilobytes to upload instead of the texture. Every row after the first is filtered
    "Up" (all zeros), so zlib makes it in a blink even for 16K."""
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(b"\x00" + b"\x80" * width)]
    rows_per_call = max(1, (1 << 22) // (width + 1))
    left = height - 1
    while left:
        count = min(left, rows_per_call)
        parts.append(compressor.compress((b"\x02" + bytes(width)) * count))
        left -= count
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    data = b"".join([png.PNG_SIGNATURE, _chunk(b"IHDR", header), _chunk(b"IDAT", b"".join(parts)),
                     _chunk(b"IEND", b"")])
    Path(target).write_bytes(data)
    return target


def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))
