"""Heavy pixel work on big images (PNG decoding and encoding, the result checks) in a child process.

A worker thread shares Python's GIL with Blender's main thread: decoding an 8K PNG or checking a
16K result holds it for seconds, in numpy calls and row loops, and Blender's UI waits for it at
every tick. A child Python at low priority shares neither the GIL nor a core ahead of Blender.
Small images stay in the worker thread, where the work costs less than starting a child (~0.2 s).

The child runs the same functions of this package (``offload_child``), so results do not depend
on where they were computed. Should no child start (a Python beside Blender without numpy), the
work is done in the thread as before, and that is logged once.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any, TypeVar

from . import ADDON_PACKAGE
from . import offload_wire as wire
from .scheduler import JobCancelled, JobContext

log = logging.getLogger(__name__)

# From this many pixels (in or out) the work is worth a child: a 2K image and more.
OFFLOAD_MIN_PIXELS = 2048 * 2048

T = TypeVar("T")

_ROOT = str(Path(__file__).resolve().parent.parent)
_CHILD_SCRIPT = str(Path(__file__).with_name("offload_child.py"))


class OffloadError(RuntimeError):
    """The child process stopped without an answer (killed, out of memory, …)."""


class _Unavailable(Exception):
    """No child could be started here; the work is done in the thread."""


class _State:
    enabled = True
    reason = ""  # why no child could be started, once that happened
    lock = threading.Lock()


def set_enabled(enabled: bool) -> None:
    """Turns offloading on or off for this session (tests compare both)."""
    with _State.lock:
        _State.enabled, _State.reason = enabled, ""


def unavailable_reason() -> str:
    """Why offloading is off after a failed start; empty while it works."""
    return _State.reason


def call(fn: Callable[..., T], *args: Any, pixels: int, ctx: JobContext | None = None) -> T:
    """``fn(*args)``, in a child process when ``pixels`` make it worth one.

    ``fn`` must be a module-level function of this package whose arguments and result pickle
    (numpy arrays, memoryviews wrapped by ``wire.portable``, dataclasses). Raises what ``fn``
    raises (from a child, with the child's traceback in a note), JobCancelled when the job of
    ``ctx`` is cancelled meanwhile (the child is killed), OffloadError if the child dies.
    """
    if pixels < OFFLOAD_MIN_PIXELS or not _State.enabled:
        return fn(*args)
    try:
        return _run_in_child(fn, args, ctx)
    except _Unavailable as exc:
        with _State.lock:
            if _State.enabled:
                log.warning("Heavy pixel work stays in Blender's process: %s", exc)
            _State.enabled, _State.reason = False, str(exc)
        return fn(*args)


def _run_in_child(fn: Callable[..., T], args: tuple[Any, ...], ctx: JobContext | None) -> T:
    with tempfile.TemporaryFile() as errors:
        try:
            child = subprocess.Popen(
                [sys.executable, "-I", _CHILD_SCRIPT, ADDON_PACKAGE, _ROOT],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors,
                creationflags=_LOW_PRIORITY, close_fds=True,
            )
        except OSError as exc:
            raise _Unavailable(f"{sys.executable} could not be started ({exc})") from exc
        assert child.stdin is not None and child.stdout is not None
        try:
            with ctx.stopping(child.kill) if ctx is not None else nullcontext():
                try:
                    wire.send(child.stdin, (fn, wire.portable(args)))
                    child.stdin.flush()
                except (BrokenPipeError, OSError):
                    pass  # the child is gone: what it said (or not) tells why, below
                ready = child.stdout.read(len(wire.READY))
                if ready != wire.READY:
                    _raise_unstarted(child, errors, ctx)
                try:
                    status, value = wire.receive(child.stdout)
                except EOFError:
                    child.wait()
                    if ctx is not None and ctx.cancelled:
                        raise JobCancelled() from None
                    raise OffloadError(
                        f"The image processing helper stopped unexpectedly (exit code "
                        f"{child.returncode}); the computer may be short of memory.") from None
        finally:
            for stream in (child.stdin, child.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
            child.wait()
    if status == "error":
        raise value.as_raised_here()
    return value  # type: ignore[no-any-return]


def _raise_unstarted(child: subprocess.Popen[bytes], errors: Any,
                     ctx: JobContext | None) -> None:
    child.wait()
    if ctx is not None and ctx.cancelled:
        raise JobCancelled()
    errors.seek(0)
    lines = errors.read().decode("utf-8", "replace").strip().splitlines()
    raise _Unavailable(f"its Python ({sys.executable}) did not start the helper: "
                       f"{lines[-1] if lines else f'exit code {child.returncode}'}")


# The child yields to Blender for the cores: nice on POSIX (set by the child), a class on Windows.
_LOW_PRIORITY = (getattr(subprocess, "BELOW_NORMAL_PRIORITY_CLASS", 0)
                 | getattr(subprocess, "CREATE_NO_WINDOW", 0)) if os.name == "nt" else 0
