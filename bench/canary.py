"""A process that does almost nothing, on a 10 ms timer, and notes when even that was slow.

It shares nothing with Blender (no GIL, no memory): when its tiny tick is late or slow at the
same moment as one of the add-on's ticks, the whole machine stalled then (on this VM: when another
process churns through fresh memory, e.g. the emulator rendering a 16K result), not the add-on.

    python bench/canary.py      # runs until its stdin closes; prints stalls as JSON on exit
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

TICK_SECONDS = 0.01
STALL_MS = 2.0


def run() -> None:
    stalls: list[tuple[float, float, float]] = []  # epoch, late ms, work ms
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    due = time.perf_counter()
    while not stop.is_set():
        due += TICK_SECONDS
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        start = time.perf_counter()
        sum(range(500))  # a few microseconds of work, like a light UI tick
        work = (time.perf_counter() - start) * 1e3
        late = (start - due) * 1e3
        if late > STALL_MS or work > STALL_MS:
            stalls.append((time.time(), round(late, 1), round(work, 1)))
        due = max(due, time.perf_counter())
    print(json.dumps(stalls))


class Canary:
    """Runs the canary beside a measurement: ``with Canary() as canary: ...; canary.stalls``."""

    def __enter__(self) -> Canary:
        self._proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve())],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.stalls: list[tuple[float, float, float]] = []
        return self

    def __exit__(self, *exc: object) -> None:
        out, _ = self._proc.communicate("", timeout=30)
        self.stalls = [tuple(s) for s in json.loads(out or "[]")]  # type: ignore[misc]

    def stalled_near(self, epoch: float, window: float = 0.06) -> float:
        """The canary's worst stall (late or slow, ms) within ``window`` s of ``epoch``; 0 if none."""
        return max((max(late, work) for t, late, work in self.stalls if abs(t - epoch) <= window),
                   default=0.0)


if __name__ == "__main__":
    run()
