"""The pixel helper process: runs one function of this package for ``offload`` and exits.

Started as a script with Blender's own Python (``python -I offload_child.py <package> <folder>``).
It makes the add-on importable under the name Blender gave it, without running the add-on's
registration, so what crosses the pipe pickles the same on both sides.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
import traceback
import types
from typing import IO


def serve(stdin: IO[bytes], stdout: IO[bytes]) -> None:
    # What the work needs is imported before saying ready: a Python without numpy cannot start.
    from . import fidelity  # noqa: F401
    from . import offload_wire as wire

    if hasattr(os, "nice"):
        os.nice(10)  # Blender's UI comes first for the cores
    stdout.write(wire.READY)
    stdout.flush()
    fn, args = wire.receive(stdin)
    # The add-on keeps our stdin open until it has the answer: its end means Blender is gone.
    threading.Thread(target=_exit_when_closed, args=(stdin,), daemon=True).start()
    reply: tuple[str, object]
    try:
        reply = ("ok", fn(*args))
    except Exception as exc:  # sent back and raised in the add-on, where it is reported
        reply = ("error", wire.Failure(exc, traceback.format_exc()))
    try:
        wire.send(stdout, reply)
    except Exception as exc:  # what does not pickle still gets its message and traceback home
        earlier = reply[1].traceback if isinstance(reply[1], wire.Failure) else ""
        unsent = RuntimeError(f"{type(exc).__name__}: {exc}")
        wire.send(stdout, ("error", wire.Failure(unsent, earlier + traceback.format_exc())))
    stdout.flush()


def _exit_when_closed(stdin: IO[bytes]) -> None:
    stdin.read()
    os._exit(3)


def _import_as(package: str, folder: str) -> types.ModuleType:
    """Registers ``package`` (and its parents, e.g. ``bl_ext.user_default``) as bare packages."""
    parts = package.split(".")
    for depth in range(1, len(parts) + 1):
        name = ".".join(parts[:depth])
        module = types.ModuleType(name)
        module.__path__ = [folder] if depth == len(parts) else []
        sys.modules[name] = module
        if depth > 1:
            setattr(sys.modules[".".join(parts[:depth - 1])], parts[depth - 1], module)
    return importlib.import_module(f"{package}.core.offload_child")


if __name__ == "__main__":
    _import_as(sys.argv[1], sys.argv[2]).serve(sys.stdin.buffer, sys.stdout.buffer)
    # Not a normal shutdown: it would wait on the stdin the watching thread is blocked in.
    os._exit(0)
