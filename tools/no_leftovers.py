"""Fails a test run if anything it started is still running after it.

    make test   (its tiers are prerequisites of `test`; this runs last, as its recipe)

``make test`` exports a marker (``SCENARIO_TEST_RUN``, one token per run) to every tier it
runs, so every process those tiers start inherits it; the launchers that clean the environment
for Blender, Xvfb and the bpy venv pass it on. Run after the tiers, this looks for processes
still carrying the token: they get a few seconds to exit; those left are listed, killed, and
the run fails. Only the standard library: it runs before any venv exists.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

MARKER = "SCENARIO_TEST_RUN"
GRACE_SECONDS = 10.0


def marked(token: str) -> dict[int, str]:
    """Processes whose environment carries ``token``: pid -> command line."""
    needle = f"{MARKER}={token}".encode()
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            if needle not in environ.split(b"\0"):
                continue
            if (entry / "stat").read_text().split(")")[-1].split()[0] == "Z":
                continue  # exited, not yet reaped: it holds nothing
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # gone meanwhile, or not ours to read
        found[int(entry.name)] = command.strip()
    return found


def main() -> int:
    token = os.environ.get(MARKER, "")
    if not token:
        print(f"{MARKER} is not set: run this as the last step of `make test`.", file=sys.stderr)
        return 2
    deadline = time.monotonic() + GRACE_SECONDS
    left = marked(token)
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = marked(token)
    if not left:
        print("no process of the run is left behind", file=sys.stderr)
        return 0
    print(f"FAILED: {len(left)} process(es) the run started are still running "
          f"{GRACE_SECONDS:g} s after it ended:", file=sys.stderr)
    for pid, command in sorted(left.items()):
        print(f"  {pid}: {command[:200]}", file=sys.stderr)
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return 1


if __name__ == "__main__":
    sys.exit(main())
