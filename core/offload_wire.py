"""How the add-on and its pixel helper process talk: one pickled message each way over a pipe.

Both ends are this package's own code, started by the add-on. Large buffers (numpy arrays, packed
file bytes) travel out of band, right after the small pickle, and are read straight into their
final memory on the other side: an 8K image crosses once, without extra copies.
"""

from __future__ import annotations

import dataclasses
import pickle
import struct
from typing import IO, Any

import numpy as np

# Written by the child once its imports succeeded: tells "could not start" from "died working".
READY = b"R"

_COUNT = struct.Struct("<I")


@dataclasses.dataclass(frozen=True)
class Failure:
    """What the helper sends back when its function raised: the exception and its traceback
    there, which the add-on's process would otherwise never see."""

    error: BaseException
    traceback: str

    def as_raised_here(self) -> BaseException:
        """The exception, its helper-side traceback added as a note (printed with its own)."""
        self.error.add_note(f"Raised in the pixel helper process:\n{self.traceback.rstrip()}")
        return self.error


def send(stream: IO[bytes], message: Any) -> None:
    buffers: list[pickle.PickleBuffer] = []
    data = pickle.dumps(message, protocol=5, buffer_callback=buffers.append)
    views = [memoryview(data)] + [buffer.raw() for buffer in buffers]
    stream.write(_COUNT.pack(len(views)) + struct.pack(f"<{len(views)}Q", *(v.nbytes for v in views)))
    for view in views:
        stream.write(view)


def receive(stream: IO[bytes]) -> Any:
    """The next message; raises EOFError if the stream ends first."""
    (count,) = _COUNT.unpack(_read_exactly(stream, _COUNT.size))
    sizes = struct.unpack(f"<{count}Q", _read_exactly(stream, 8 * count))
    data = _read_exactly(stream, sizes[0])
    buffers = [_read_exactly(stream, size) for size in sizes[1:]]
    # Only ever read from the pipe to our own child (or parent): no foreign data is unpickled.
    return pickle.loads(data, buffers=buffers)  # noqa: S301


def portable(value: Any) -> Any:
    """``value`` with memoryviews (packed bytes in an mmap) wrapped so they pickle out of band."""
    if isinstance(value, memoryview):
        return pickle.PickleBuffer(value)
    if isinstance(value, tuple):
        return tuple(portable(item) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: portable(getattr(value, f.name)) for f in dataclasses.fields(value)
                   if isinstance(getattr(value, f.name), memoryview)}
        return dataclasses.replace(value, **changes) if changes else value
    return value


def _read_exactly(stream: IO[bytes], size: int) -> memoryview:
    # Uninitialised, unlike a bytearray: zeroing a gigabyte first would cost a second pass.
    view = np.empty(size, dtype=np.uint8).data
    got = 0
    while got < size:
        count = stream.readinto(view[got:])  # type: ignore[attr-defined]
        if not count:
            raise EOFError(f"the stream ended after {got} of {size} bytes")
        got += count
    return view
