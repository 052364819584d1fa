"""When to wait before trying a request again, and for how long (pure functions, no I/O)."""

from __future__ import annotations

import email.utils
from collections.abc import Callable, Mapping

INITIAL_DELAY = 0.5
MAX_DELAY = 8.0
MAX_JITTER = 0.25
# A server-suggested wait longer than this is ignored in favour of our own backoff.
MAX_RETRY_AFTER = 60.0
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def parse_retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds the server asks us to wait, from ``retry-after-ms`` or ``Retry-After``.

    ``now`` is the wall-clock time (seconds since the epoch) for the HTTP-date form.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    millis = lowered.get("retry-after-ms")
    if millis is not None:
        try:
            return float(millis) / 1000.0
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    parsed = email.utils.parsedate_tz(value)
    if parsed is None:
        return None
    return float(email.utils.mktime_tz(parsed)) - now


def backoff_delay(retry_index: int, retry_after: float | None, rand: Callable[[], float]) -> float:
    """Delay before retry number ``retry_index`` (0 for the first retry).

    A server hint between 0 and 60 s wins; otherwise ``0.5·2^n`` s capped at 8 s, minus up to 25 %
    jitter so that many clients do not retry in lockstep.
    """
    if retry_after is not None and 0.0 <= retry_after <= MAX_RETRY_AFTER:
        return retry_after
    base = min(INITIAL_DELAY * 2.0 ** min(retry_index, 32), MAX_DELAY)
    return base * (1.0 - MAX_JITTER * rand())


def server_forbids_retry(headers: Mapping[str, str]) -> bool:
    """True when the server says ``x-should-retry: false``."""
    for key, value in headers.items():
        if key.lower() == "x-should-retry":
            return value.strip().lower() == "false"
    return False
