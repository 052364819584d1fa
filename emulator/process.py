"""Run the emulator in its own process (for Blender tests and the demo).

    proc, base_url = start_emulator_process(["--job-seconds", "1"])
    try:
        ...  # point the client at base_url
    finally:
        stop_emulator_process(proc)
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

REPO_ROOT = Path(__file__).resolve().parent.parent
READY_PREFIX = "EMULATOR_READY "
# Lets a caller running inside another interpreter (e.g. Blender's) pick one with Pillow.
PYTHON_ENV = "EMULATOR_PYTHON"


def _read_ready_line(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
        if line.startswith(READY_PREFIX):
            break
    else:
        lines.put(None)


def start_emulator_process(
    args: list[str] | None = None,
    *,
    python: str | None = None,
    timeout: float = 30.0,
    stderr: int | IO[Any] | None = None,
) -> tuple[subprocess.Popen[str], str]:
    """Start ``python -m emulator --port 0 *args``; return the process and its base URL.

    ``args`` may override ``--port``. ``stderr`` (the request log) is inherited unless given.
    """
    executable = python or os.environ.get(PYTHON_ENV) or sys.executable
    command = [executable, "-m", "emulator", "--port", "0", *(args or [])]
    proc = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=stderr,
                            stdin=subprocess.DEVNULL, text=True, bufsize=1)
    lines: queue.Queue[str | None] = queue.Queue()
    assert proc.stdout is not None
    threading.Thread(target=_read_ready_line, args=(proc.stdout, lines), daemon=True).start()
    seen: list[str] = []
    try:
        while True:
            line = lines.get(timeout=timeout)
            if line is None:
                break
            if line.startswith(READY_PREFIX):
                return proc, line[len(READY_PREFIX):].strip()
            seen.append(line)
    except queue.Empty:
        pass
    stop_emulator_process(proc)
    raise RuntimeError(f"emulator did not become ready (exit code {proc.returncode}); "
                       f"stdout: {''.join(seen)!r}")


def stop_emulator_process(proc: subprocess.Popen[Any], timeout: float = 10.0) -> int:
    """SIGTERM, wait, then kill if needed; returns the exit code."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)
    if proc.stdout is not None:
        proc.stdout.close()
    return int(proc.returncode)


stop = stop_emulator_process
