"""Another process using the team's slots, for tests/unit/core/test_team_slots.py.

    python slot_user.py FOLDER hold            takes a slot (limit 1), says "held", sleeps
    python slot_user.py FOLDER turns NAME LOG  two threads take a slot three times each (limit
                                               2), holding it 0.15 s; each span goes to LOG
"""

from __future__ import annotations

import json
import queue
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / ".pkgroot"))
from scenario_texture_upscale.core.scheduler import JobContext  # noqa: E402
from scenario_texture_upscale.core.team_slots import TeamSlots  # noqa: E402

ACCOUNT = "acct"


def context(slots: TeamSlots, name: str) -> JobContext:
    return JobContext(name, threading.Event(), queue.Queue(), slots)


def hold(slots: TeamSlots) -> None:
    slots.learn(ACCOUNT, 1)
    slots.acquire(ACCOUNT, context(slots, "holder"), time.monotonic() + 5)
    print("held", flush=True)
    time.sleep(60)


def turns(slots: TeamSlots, name: str, log: Path) -> None:
    slots.learn(ACCOUNT, 2)
    lock = threading.Lock()

    def work() -> None:
        for _ in range(3):
            slot = slots.acquire(ACCOUNT, context(slots, name), time.monotonic() + 30)
            start = time.time()
            time.sleep(0.15)
            with lock, log.open("a") as out:
                out.write(json.dumps([name, start, time.time()]) + "\n")
            slots.release(slot)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


if __name__ == "__main__":
    shared = TeamSlots(Path(sys.argv[1]))
    if sys.argv[2] == "hold":
        hold(shared)
    else:
        turns(shared, sys.argv[3], Path(sys.argv[4]))
