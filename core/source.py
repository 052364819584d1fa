"""What gets uploaded for a texture: the file as it is when Scenario accepts it, else a PNG made
from the pixels Blender holds (generated, edited or unsupported-format images).

The main thread only takes the snapshot (a path, packed bytes or a pixel buffer); the encoding
happens here, in a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import numpy.typing as npt

from . import pixels, png
from .imagefile import ImageHeaderError, check_whole


@dataclass(frozen=True)
class FileSource:
    """A file on disk in a format Scenario accepts: uploaded byte for byte."""

    path: str
    name: str


@dataclass(frozen=True)
class BytesSource:
    """A packed image in a format Scenario accepts: uploaded byte for byte."""

    data: bytes | memoryview
    name: str


class SourceUnavailable(Exception):
    """A source's bytes cannot be sent (a damaged file); the message says why."""


@dataclass(frozen=True)
class PixelSource:
    """Blender's float RGBA buffer (bottom-up rows): encoded to PNG before upload."""

    buffer: npt.NDArray[np.float32]
    width: int
    height: int
    name: str
    is_float: bool = False
    is_data: bool = False
    keep_alpha: bool = True

    def __getstate__(self) -> dict[str, object]:
        # Once converted, the float buffer (four times the bytes) need not cross to a child.
        state = dict(self.__dict__)
        if "rgba8" in state:
            state["buffer"] = np.empty(0, dtype=np.float32)
        return state

    @cached_property
    def rgba8(self) -> npt.NDArray[np.uint8]:
        """The buffer as 8-bit RGBA, top-down: converted once for upload, padding and checks."""
        return pixels.blender_float_to_rgba8(
            self.buffer, self.width, self.height,
            is_float_image=self.is_float, is_data=self.is_data,
        )


# What the main thread hands a job.
Source = FileSource | BytesSource | PixelSource


def check_intact(source: Source) -> None:
    """Raises SourceUnavailable when a file or packed PNG is cut short or damaged: Scenario would
    take the upload, and refuse it only afterwards."""
    if isinstance(source, PixelSource):
        return  # Blender's own pixels: whole by construction
    try:
        check_whole(source.path if isinstance(source, FileSource) else source.data)
    except ImageHeaderError as exc:
        what = (f"The file {source.path}" if isinstance(source, FileSource)
                else f"The packed image {source.name}")
        raise SourceUnavailable(
            f"{what} is damaged ({exc}): Blender may show part of it, but Scenario cannot "
            "upscale it. Save or export the texture again (or restore the file), then retry. "
            "Nothing was uploaded or spent.") from exc


def head_bytes(source: Source, count: int = 64) -> bytes:
    """The source's first bytes; empty for pixels."""
    if isinstance(source, BytesSource):
        return bytes(source.data[:count])
    if isinstance(source, FileSource):
        with open(source.path, "rb") as handle:
            return handle.read(count)
    return b""


def prepare_upload(source: Source, work_dir: Path) -> tuple[str | bytes | memoryview, str]:
    """Returns what to upload (a path or bytes) and the name Scenario will show."""
    if isinstance(source, FileSource):
        return source.path, source.name
    if isinstance(source, BytesSource):
        return source.data, source.name
    rgba = source.rgba8
    image = rgba if source.keep_alpha and pixels.has_meaningful_alpha(rgba) else rgba[:, :, :3]
    work_dir.mkdir(parents=True, exist_ok=True)
    # One work folder per job: a fixed name there cannot collide or grow too long.
    target = work_dir / f"source-{id(source):x}.png"
    png.write_png(target, image)
    return str(target), source.name
