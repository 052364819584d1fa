"""The emulator in its own process, as the Blender tests run it, plus one setting its command line
lacks: the largest output it agrees to render (8K × 2 = 16384² pixels is above its default 8192²).

It stands in for a remote service, so it runs at a lower CPU priority: on these two cores its
renders (a 16K output takes ~30 s of CPU and several GB) must not be what the main-thread figures
of the add-on measure.

Run as a script it is the emulator's own command line with that limit raised:
    python bench/emulators.py --max-output-pixels N <emulator options>
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
READY = "EMULATOR_READY "
EMULATOR_NICENESS = 10
# glibc keeps freed memory for reuse instead of returning it at once: on this VM, memory handed
# back and touched afresh costs faults that stall every vCPU, Blender's main thread included.
KEEP_MEMORY = {"MALLOC_TRIM_THRESHOLD_": str(1 << 30), "MALLOC_TOP_PAD_": str(64 << 20),
               "PILLOW_BLOCKS_MAX": "64"}


def start(args: list[str], max_output_pixels: int | None = None,
          timeout: float = 30.0) -> tuple[subprocess.Popen[str], str]:
    """Starts an emulator on a free loopback port; returns the process and its base URL."""
    extra = ["--max-output-pixels", str(max_output_pixels)] if max_output_pixels else []
    command = [sys.executable, str(Path(__file__).resolve()), *extra, "--port", "0", "--quiet",
               *args]
    proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            text=True, bufsize=1, preexec_fn=lambda: os.nice(EMULATOR_NICENESS),
                            env={**os.environ, **KEEP_MEMORY})
    found: list[str] = []
    assert proc.stdout is not None
    stdout = proc.stdout

    def read() -> None:
        for line in stdout:
            if line.startswith(READY):
                found.append(line[len(READY):].strip())
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    if not found:
        stop(proc)
        raise RuntimeError("the emulator did not start")
    return proc, found[0]


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    if proc.stdout is not None:
        proc.stdout.close()


def _serve(argv: list[str]) -> int:
    sys.path.insert(0, str(REPO))
    from emulator import cli

    limit = None
    if argv[:1] == ["--max-output-pixels"]:
        limit, argv = int(argv[1]), argv[2:]
    if limit:
        plain = cli.options_from

        def options_from(args: Any) -> Any:
            options = plain(args)
            options.max_output_pixels = limit
            return options

        cli.options_from = options_from  # type: ignore[assignment]
    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(_serve(sys.argv[1:]))
