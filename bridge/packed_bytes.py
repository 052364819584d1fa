"""A packed image's bytes, handed to a worker without a long main-thread copy.

``PackedFile.data`` copies the whole file in one go (~150 ms for an 8K PNG: a frozen UI).
Blender's PackedFile struct is ``int size; int seek; const void *data`` (the same in every
Blender this extension supports); it is read here directly, and the bytes are copied a few
megabytes per main-thread step into a buffer the worker waits for. The struct is checked against
Blender's own ``size`` before every step, and anything unexpected falls back to ``.data``.
"""

from __future__ import annotations

import ctypes
import time
from dataclasses import dataclass

import bpy

from ..core.source import ArrivingBytes, ArrivingSource, BytesSource
from . import lookup, runtime

_DATA_OFFSET = 8  # after the two ints
# Blender versions whose PackedFile layout is known; others use Blender's own copy.
_KNOWN_MAJOR_VERSIONS = (4, 5)
HEAD_BYTES = 65536  # enough for any header read_image_header parses
CHUNK_BYTES = 4 * 1024 * 1024  # ~2 ms to copy, page faults included


@dataclass(frozen=True)
class _Location:
    struct: int
    size: int
    data: int


def _locate(image: bpy.types.Image) -> _Location | None:
    """Where the packed bytes are, or None when they cannot be read directly."""
    packed = image.packed_file
    if packed is None or bpy.app.version[0] not in _KNOWN_MAJOR_VERSIONS:
        return None
    struct = packed.as_pointer()
    if not struct:
        return None
    size = ctypes.c_int.from_address(struct).value
    data = ctypes.c_void_p.from_address(struct + _DATA_OFFSET).value
    if size <= 0 or size != packed.size or not data:
        return None
    return _Location(struct, size, data)


def head(image: bpy.types.Image) -> tuple[bytes, bytes | None]:
    """The packed file's first bytes, and the whole file when it had to be copied to get them."""
    where = _locate(image)
    if where is None:
        whole = bytes(image.packed_file.data)
        return whole[:HEAD_BYTES], whole
    return ctypes.string_at(where.data, min(HEAD_BYTES, where.size)), None


def take(image: bpy.types.Image, name: str, whole: bytes | None = None) -> BytesSource | ArrivingSource:
    """The packed bytes as a source: copied now when that is quick (or already done), else
    handed over in steps the runtime runs between the UI's own work."""
    where = None if whole is not None else _locate(image)
    if where is None:
        return BytesSource(whole if whole is not None else bytes(image.packed_file.data), name)
    arriving = ArrivingBytes(where.size, ctypes.string_at(where.data, min(64, where.size)))
    copy = _Copy(image, where, arriving)
    # A first piece at once (a small file is then whole); the rest between the UI's own work.
    if copy.step(runtime.STEP_SECONDS / 3):
        return BytesSource(memoryview(arriving.buffer), name)
    runtime.get().add_step(copy.step)
    return ArrivingSource(arriving, name)


class _Copy:
    """Copies one packed file into an ArrivingBytes, a time-boxed piece per call."""

    def __init__(self, image: bpy.types.Image, where: _Location, arriving: ArrivingBytes) -> None:
        self.image_name, self.session_uid = image.name, image.session_uid
        self.where, self.arriving = where, arriving
        self.offset = 0
        self._target = ctypes.addressof(ctypes.c_char.from_buffer(arriving.buffer))

    def step(self, seconds: float) -> bool:
        """Copies for about ``seconds``; True once the copy has ended (whole, failed or dropped)."""
        try:
            return self._step(seconds)
        except Exception as exc:  # noqa: BLE001 - the waiting worker must hear of any failure
            self.arriving.fail(f"Could not read the packed bytes of '{self.image_name}' ({exc}); "
                               "nothing was sent. Start the upscale again.")
            return True

    def _step(self, seconds: float) -> bool:
        arriving = self.arriving
        if arriving.abandoned:
            return True
        image = lookup.find_image(self.image_name, self.session_uid)
        if image is None or _locate(image) != self.where:
            # Unpacked, replaced, removed or undone between steps: the old bytes may be gone.
            arriving.fail(f"'{self.image_name}' changed while its packed bytes were being read; "
                          "nothing was sent. Start the upscale again.")
            return True
        now = time.perf_counter()
        deadline, last = now + seconds, 0.0
        # The next chunk is assumed to take as long as the last: stop before overrunning.
        while self.offset < self.where.size and (not last or now + last <= deadline):
            count = min(CHUNK_BYTES, self.where.size - self.offset)
            ctypes.memmove(self._target + self.offset, self.where.data + self.offset, count)
            self.offset += count
            arriving.filled = self.offset
            last, now = time.perf_counter() - now, time.perf_counter()
        if self.offset < self.where.size:
            return False
        arriving.complete()
        return True
