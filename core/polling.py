"""When to ask Scenario about a running job next.

Quick polls at first (short jobs finish within seconds), backing off to a bounded cadence on long
jobs, and sooner again when the reported progress says the end is near. Once that predicted end has
passed (a finishing phase that reports no progress), polls back off again in proportion to the
overrun, so a long last phase costs a few requests rather than four a second.
"""

from __future__ import annotations

from dataclasses import dataclass, field

FIRST_DELAY = 0.5
MIN_DELAY = 0.25
GROWTH = 1.3
# Caps grow with the job's age: a long job is polled at most every MAX_DELAY seconds.
EARLY_CAP = 2.0
EARLY_PERIOD = 60.0
MAX_DELAY = 5.0
# After the first progress is seen, look again this soon: two readings give the rate, and a job
# that waited in a queue may be most of the way through already.
RATE_PROBE = 0.5
# Past the predicted end, wait this share of the overrun (at least MIN_DELAY).
OVERDUE_SHARE = 0.2
# While another job waits for the team slot this one holds, its end is noticed sooner: the
# slot goes to the next job only once a poll has seen this one end.
EAGER_MIN_DELAY = 0.05
EAGER_MARGIN = 0.02


@dataclass
class PollSchedule:
    delay: float = FIRST_DELAY
    _progress_seen_at: list[tuple[float, float]] = field(default_factory=list)
    _probed: bool = False
    _zero_at: float | None = None  # the last reading of no progress yet

    def next_delay(self, elapsed: float, progress: float | None = None,
                   eager: bool = False) -> float:
        """Seconds to wait before the next poll, given seconds since submission and progress 0–1.
        ``eager`` when another job waits for this one's slot: near the end, polls come closer."""
        cap = EARLY_CAP if elapsed < EARLY_PERIOD else MAX_DELAY
        delay = min(self.delay, cap)
        self.delay = min(self.delay * GROWTH, cap)
        end = self._predicted_end(elapsed, progress)
        if len(self._progress_seen_at) == 1 and not self._probed:
            self._probed = True  # once: a progress that never moves must not keep us fast
            delay = min(delay, RATE_PROBE)
        if end is None:
            return delay
        remaining = end - elapsed
        floor, margin = (EAGER_MIN_DELAY, EAGER_MARGIN) if eager else (MIN_DELAY, 0.1)
        if remaining > 0:
            # Aim just after the predicted end, never faster than the floor.
            return min(delay, max(floor, remaining + margin))
        return min(delay, max(floor, -remaining * OVERDUE_SHARE))

    def _predicted_end(self, elapsed: float, progress: float | None) -> float | None:
        """When progress will reach 1 at the rate seen so far (seconds since submission)."""
        if progress is None:
            return None
        if progress <= 0.0:
            self._zero_at = elapsed
            return None
        if not self._progress_seen_at or self._progress_seen_at[-1][1] != progress:
            self._progress_seen_at.append((elapsed, progress))
        (t0, p0), (t1, p1) = self._progress_seen_at[0], self._progress_seen_at[-1]
        if len(self._progress_seen_at) == 1 and self._zero_at is not None and t1 > self._zero_at:
            # One reading: progress began after the last zero, so it runs at least this fast
            # (the end comes no later than this; a job first seen at 99 % is nearly done).
            t0, p0 = self._zero_at, 0.0
        if p1 <= p0 or t1 <= t0:
            return None
        rate = (p1 - p0) / (t1 - t0)
        return t1 + max(0.0, 1.0 - p1) / rate
