"""What gets uploaded for a texture: the file as it is when Scenario accepts it, else a PNG made
from the pixels Blender holds (generated, edited or unsupported-format images).

The main thread only takes the snapshot (a path, packed bytes or a pixel buffer); the encoding
happens here, in a worker thread.
"""

from __future__ import annotations

import mmap
import threading
from collections.abc import Callable
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
    """A source's bytes cannot be sent (not all handed over by the main thread, or damaged);
    the message says why."""


class ArrivingBytes:
    """A buffer the main thread fills in short steps while the worker waits for it whole.

    Blender hands a packed file's bytes out only on the main thread, and all at once takes
    ~150 ms for an 8K PNG; filled a few megabytes per step the UI never stalls. The buffer is an
    anonymous mapping, so its pages are touched only as they are filled.
    """

    def __init__(self, size: int, head: bytes) -> None:
        self.size = size
        self.head = head  # the first bytes, known at once: enough to sniff the format
        self.buffer = mmap.mmap(-1, size)
        self.filled = 0
        self._whole = threading.Event()
        self._error: str | None = None
        self.abandoned = False

    def abandon(self) -> None:
        """Nobody will wait for it any more: the main thread stops filling it."""
        self.abandoned = True

    def complete(self) -> None:
        self._whole.set()

    def fail(self, message: str) -> None:
        self._error = message
        self._whole.set()

    def wait(self, check_cancelled: Callable[[], None], poll: float = 0.05) -> memoryview:
        """The whole buffer; raises SourceUnavailable, or whatever ``check_cancelled`` raises."""
        try:
            while not self._whole.wait(poll):
                check_cancelled()
        except BaseException:
            self.abandon()
            raise
        if self._error is not None:
            raise SourceUnavailable(self._error)
        return memoryview(self.buffer)


@dataclass(frozen=True)
class ArrivingSource:
    """A packed image whose bytes are still being handed over by the main thread."""

    arriving: ArrivingBytes
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


Source = FileSource | BytesSource | PixelSource
# What the main thread hands a job: a source, or one whose bytes are still arriving.
Snapshot = Source | ArrivingSource


def settle(source: Snapshot, check_cancelled: Callable[[], None]) -> Source:
    """The source with its bytes all there (waits for arriving ones, in a worker)."""
    if isinstance(source, ArrivingSource):
        return BytesSource(source.arriving.wait(check_cancelled), source.name)
    return source


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


def head_bytes(source: Snapshot, count: int = 64) -> bytes:
    """The source's first bytes, without waiting; empty for pixels."""
    if isinstance(source, ArrivingSource):
        return source.arriving.head[:count]
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
