"""Stopping a request in progress from another thread: on cancel, at a deadline, when it stalls.

A worker blocked in a socket's recv or send does not look at its job's cancel flag, and a
server that sends one byte every two seconds never trips a read timeout. A watchdog thread
looks instead: every ``WATCH_INTERVAL`` it checks each transport that has a request in flight,
and when the job was cancelled, the request passed its deadline or stopped making progress, it
shuts down the sockets that request is using. The blocked call returns at once with an error,
which the transport then reports as what happened (cancelled, too slow, stalled) rather than as
a broken connection.

The sockets are found through the session's adapter: each connection taken from a pool is
noted until it goes back. A connection still being opened has no socket yet; its connect
timeout bounds it.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import weakref
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import requests

WATCH_INTERVAL = 0.05
# The watchdog thread stays this long after its last request, so a job's polls do not start
# a thread each.
_LINGER = 2.0


class StopKind:
    CANCELLED = "cancelled"
    DEADLINE = "deadline"
    STALLED = "stalled"


@dataclass(frozen=True)
class Stall:
    """Progress a request must make: ``min_bytes`` within every ``seconds``."""

    seconds: float
    min_bytes: int


@dataclass(eq=False)
class Limit:
    """What one watched request (or a download across its attempts) must keep to."""

    deadline: float | None  # monotonic time
    seconds: float | None  # the deadline as a duration, for messages
    stall: Stall | None
    grace: float  # how long a cancel waits for the answer before the socket is shut
    samples: deque[tuple[float, int]] = field(default_factory=deque)


@dataclass(frozen=True)
class Stop:
    kind: str
    limit: Limit | None  # None for a cancel: it stops whatever is in flight


class ConnectionTracker:
    """The connections a session's requests are using right now."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Weak: a connection urllib3 closes and drops is never given back.
        self._in_use: weakref.WeakSet[Any] = weakref.WeakSet()

    def mount(self, session: requests.Session) -> None:
        adapter = _TrackingAdapter(self)
        session.mount("https://", adapter)
        session.mount("http://", adapter)

    def took(self, connection: Any) -> None:
        with self._lock:
            self._in_use.add(connection)

    def gave_back(self, connection: Any) -> None:
        with self._lock:
            self._in_use.discard(connection)

    def shut_down(self) -> None:
        """Shuts the sockets in use: a recv or send blocked on one returns at once."""
        with self._lock:
            connections = list(self._in_use)
        for connection in connections:
            sock = getattr(connection, "sock", None)
            if sock is None:
                continue
            with contextlib.suppress(OSError, ValueError):
                # The plain socket's method: an SSL socket's own would also drop its TLS state
                # under the thread still reading it.
                socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _TrackingAdapter(requests.adapters.HTTPAdapter):
    """requests' adapter, noting which pooled connection each request takes."""

    def __init__(self, tracker: ConnectionTracker) -> None:
        self._tracker = tracker
        super().__init__()

    def get_connection_with_tls_context(self, *args: Any, **kwargs: Any) -> Any:
        return self._tracked(super().get_connection_with_tls_context(*args, **kwargs))

    def get_connection(self, *args: Any, **kwargs: Any) -> Any:  # requests before 2.32
        return self._tracked(super().get_connection(*args, **kwargs))

    def _get_connection(self, *args: Any, **kwargs: Any) -> Any:  # requests 2.32.0 and .1
        return self._tracked(getattr(super(), "_get_connection")(*args, **kwargs))  # noqa: B009

    def _tracked(self, pool: Any) -> Any:
        if getattr(pool, "_scenario_tracker", None) is self._tracker:
            return pool
        take, give = pool._get_conn, pool._put_conn
        tracker = self._tracker

        def get_conn(*args: Any, **kwargs: Any) -> Any:
            connection = take(*args, **kwargs)
            tracker.took(connection)
            return connection

        def put_conn(connection: Any, *args: Any, **kwargs: Any) -> Any:
            if connection is not None:
                tracker.gave_back(connection)
            return give(connection, *args, **kwargs)

        pool._get_conn, pool._put_conn = get_conn, put_conn
        pool._scenario_tracker = tracker
        return pool


class RequestGuard:
    """One transport's watch: its job's cancel flag, the limits of what it is doing, and the
    sockets to shut when one of them says stop. Limits nest (a download's, then each of its
    requests'); the first that is broken stops them all."""

    def __init__(self, cancel_event: threading.Event | None, tracker: ConnectionTracker) -> None:
        self.cancel_event = cancel_event
        self.tracker = tracker
        self._lock = threading.Lock()
        self._limits: list[Limit] = []
        self._progress = 0
        self._cancel_seen: float | None = None
        self.stopped: Stop | None = None

    @contextlib.contextmanager
    def watching(self, seconds: float | None = None, stall: Stall | None = None,
                 grace: float = 0.0) -> Iterator[Limit]:
        """Watches what runs inside: stopped after ``seconds``, when it makes less progress
        than ``stall`` asks, or ``grace`` seconds after its job is cancelled."""
        now = time.monotonic()
        limit = Limit(now + seconds if seconds else None, seconds, stall, grace)
        with self._lock:
            if not self._limits:
                self.stopped, self._cancel_seen = None, None
            self._limits.append(limit)
        WATCHDOG.add(self)
        try:
            yield limit
        finally:
            with self._lock:
                self._limits.remove(limit)
                if self.stopped is not None and self.stopped.limit is limit:
                    self.stopped = None  # its request is over, and its caller has seen why
                idle = not self._limits
            if idle:
                WATCHDOG.discard(self)

    def restart(self, limit: Limit) -> None:
        """A new attempt under ``limit``: its stall window starts again."""
        with self._lock:
            limit.samples.clear()
            if self.stopped is not None and self.stopped.limit is limit:
                self.stopped = None

    def progressed(self, count: int) -> None:
        # One writer (the worker), one reader (the watchdog): no lock on the hot path of a read.
        self._progress += count

    def stop(self) -> Stop | None:
        """Why the watchdog stopped what is in flight (a cancel, or a limit still watched)."""
        with self._lock:
            return self.stopped

    # --- watchdog side --------------------------------------------------------------------
    def check(self, now: float) -> None:
        with self._lock:
            if self.stopped is None:
                self.stopped = self._due(now)
            stop, active = self.stopped, bool(self._limits)
        if stop is not None and active:
            # Again at every check while it stands: a connection still being opened when the
            # stop came has its socket by now.
            self.tracker.shut_down()

    def _due(self, now: float) -> Stop | None:
        if not self._limits:
            return None
        event = self.cancel_event
        if event is not None and event.is_set():
            if self._cancel_seen is None:
                self._cancel_seen = now
            if now - self._cancel_seen >= max(limit.grace for limit in self._limits):
                return Stop(StopKind.CANCELLED, None)
        for limit in self._limits:
            if limit.deadline is not None and now >= limit.deadline:
                return Stop(StopKind.DEADLINE, limit)
            if limit.stall is not None and _stalled(limit, limit.stall, now, self._progress):
                return Stop(StopKind.STALLED, limit)
        return None


def _stalled(limit: Limit, rule: Stall, now: float, progress: int) -> bool:
    samples = limit.samples
    samples.append((now, progress))
    while len(samples) > 1 and samples[1][0] <= now - rule.seconds:
        samples.popleft()
    since, before = samples[0]
    return now - since >= rule.seconds and progress - before < rule.min_bytes


class _Watchdog:
    """The one thread that checks every guard with a request in flight."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._guards: set[RequestGuard] = set()
        self._thread: threading.Thread | None = None
        self._idle_since = 0.0

    def add(self, guard: RequestGuard) -> None:
        with self._lock:
            self._guards.add(guard)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="scenario-request-watch",
                                                daemon=True)
                self._thread.start()

    def discard(self, guard: RequestGuard) -> None:
        with self._lock:
            self._guards.discard(guard)
            if not self._guards:
                self._idle_since = time.monotonic()

    def stop(self, timeout: float = 1.0) -> bool:
        """Ends the thread now if no request is watched (the add-on is being disabled), rather
        than after its linger. True when no watchdog thread is left."""
        with self._lock:
            thread = self._thread
            if not self._guards:
                self._idle_since = float("-inf")
        if thread is not None:
            thread.join(timeout)
        return thread is None or not thread.is_alive()

    def _run(self) -> None:
        while True:
            with self._lock:
                guards = list(self._guards)
                if not guards and time.monotonic() - self._idle_since > _LINGER:
                    self._thread = None
                    return
            now = time.monotonic()
            for guard in guards:
                guard.check(now)
            time.sleep(WATCH_INTERVAL)


WATCHDOG = _Watchdog()
