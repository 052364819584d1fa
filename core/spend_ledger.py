"""The credits a group of jobs (a batch) commits, shared by their worker threads.

The confirmation limit applies to the group's running total, not to each image: sixteen images
at 9 credits each are 144 credits even though none passes a limit of 20. The job whose price
would take the total past the limit asks; jobs reaching the limit meanwhile wait for that one
answer, which then holds for the whole group.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

# Asks the user: (this job's cost, the group's total with it) -> pay?
Ask = Callable[[float, float], bool]
# Waits on a condition (held) until the predicate holds: JobContext.wait_for, which a cancel of
# the waiting job interrupts.
Wait = Callable[[threading.Condition, Callable[[], bool]], object]


class SpendLedger:
    def __init__(self, limit: float) -> None:
        self.limit = limit
        self.committed = 0.0
        self._decision: bool | None = None  # the user's answer, once given
        self._asking = False
        self._changed = threading.Condition()

    @property
    def declined(self) -> bool:
        return self._decision is False

    def commit(self, cost: float, ask: Ask, wait: Wait) -> bool:
        """True when ``cost`` may be spent (and is added to the total). Asks at most once for
        the group; ``ask`` raising (a cancelled job) leaves the question to the next job.
        Meanwhile other jobs reaching the limit ``wait`` for that answer."""
        with self._changed:
            while True:
                total = self.committed + cost
                if self._decision is not None or total <= self.limit:
                    if self._decision is False:
                        return False
                    self.committed = total
                    return True
                if not self._asking:
                    self._asking = True
                    break
                wait(self._changed, lambda: not self._asking)
        try:
            yes = ask(cost, total)
        finally:
            with self._changed:
                self._asking = False
                self._changed.notify_all()
        with self._changed:
            self._decision = yes
            if yes:
                self.committed += cost
        return yes
