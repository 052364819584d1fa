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


@dataclass(frozen=True)
class FileSource:
    """A file on disk in a format Scenario accepts: uploaded byte for byte."""

    path: str
    name: str


@dataclass(frozen=True)
class BytesSource:
    """A packed image in a format Scenario accepts: uploaded byte for byte."""

    data: bytes
    name: str


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

    @cached_property
    def rgba8(self) -> npt.NDArray[np.uint8]:
        """The buffer as 8-bit RGBA, top-down: converted once for upload, padding and checks."""
        return pixels.blender_float_to_rgba8(
            self.buffer, self.width, self.height,
            is_float_image=self.is_float, is_data=self.is_data,
        )


Source = FileSource | BytesSource | PixelSource


def prepare_upload(source: Source, work_dir: Path) -> tuple[str | bytes, str]:
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
