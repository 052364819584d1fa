"""A pool of worker threads that runs jobs off Blender's main thread.

Workers never touch bpy: they report through events in a queue that the main thread drains
(``drain``) on its own schedule. Each job has a cancel event that its code checks between steps.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .states import EventKind

log = logging.getLogger(__name__)



class JobCancelled(Exception):
    """Raised inside a job when its cancel event is set."""


@dataclass(frozen=True)
class Event:
    local_id: str
    kind: EventKind
    stage: str = ""
    fraction: float | None = None
    message: str = ""
    payload: Any = None


@dataclass
class JobContext:
    """What a running job gets: its id, its cancel flag and a way to report progress."""

    local_id: str
    cancel_event: threading.Event
    _events: queue.Queue[Event] = field(repr=False)
    _answered: threading.Event = field(default_factory=threading.Event, repr=False)
    _answer: bool = False
    # Set with the cancel flag when the user, not a file load or a quit, stopped the job:
    # only then is Scenario asked to cancel it too.
    stopped_by_user: bool = False

    def progress(self, stage: str, fraction: float | None = None, message: str = "",
                 detail: Any = None) -> None:
        self._events.put(Event(self.local_id, EventKind.PROGRESS, stage, fraction, message, detail))

    def check_cancelled(self) -> None:
        if self.cancel_event.is_set():
            raise JobCancelled()

    def ask(self, question: Any) -> bool:
        """Blocks until the main thread answers ``question`` (``WorkerPool.answer``).
        Cancelling the job answers no."""
        self._answered.clear()
        self._events.put(Event(self.local_id, EventKind.QUESTION, payload=question))
        while not self._answered.wait(0.05):
            if self.cancel_event.is_set():
                return False
        return self._answer

    def answer(self, yes: bool) -> None:
        self._answer = yes
        self._answered.set()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()


JobFunction = Callable[[JobContext], Any]
# Turns an exception raised by a job into the message the user reads.
ErrorFormatter = Callable[[BaseException], str]


def _default_error_message(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


class WorkerPool:
    def __init__(
        self,
        max_workers: int = 4,
        error_message: ErrorFormatter = _default_error_message,
        name: str = "scenario-worker",
        expected: tuple[type[BaseException], ...] = (),
    ) -> None:
        self._max_workers = max(1, max_workers)
        self._error_message = error_message
        # Failures whose message says it all (the service refused, the user's rules): logged as
        # one line. Any other exception is a bug or a surprise: logged with its traceback.
        self._expected = expected
        self._name = name
        self._tasks: queue.Queue[tuple[str, JobFunction] | None] = queue.Queue()
        self._events: queue.Queue[Event] = queue.Queue()
        self._cancel: dict[str, threading.Event] = {}
        self._contexts: dict[str, JobContext] = {}
        self._threads: list[threading.Thread] = []
        self._idle = 0  # threads waiting for a task
        self._lock = threading.Lock()
        self._closed = False
        # New threads are started by a helper thread: Thread.start() waits for the new thread
        # to run, which takes several GIL hand-overs while other jobs are busy; the main thread
        # (Blender's UI) must not wait for that.
        self._spawns: queue.SimpleQueue[bool] = queue.SimpleQueue()
        self._spawning = 0
        self._spawner = threading.Thread(target=self._spawn_loop, name=f"{name}-spawner",
                                         daemon=True)
        self._spawner.start()

    # --- main-thread API ----------------------------------------------------------------
    def submit(self, local_id: str, job: JobFunction) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError("the worker pool has been shut down")
            if local_id in self._cancel:
                raise ValueError(f"job {local_id} is already running")
            self._cancel[local_id] = threading.Event()
            self._tasks.put((local_id, job))
            self._ask_for_threads()

    def set_max_workers(self, max_workers: int) -> None:
        """Changes how many jobs run at once; running jobs are never interrupted."""
        with self._lock:
            self._max_workers = max(1, max_workers)
            self._ask_for_threads()

    @property
    def max_workers(self) -> int:
        return self._max_workers

    def cancel(self, local_id: str, by_user: bool = False) -> bool:
        with self._lock:
            event = self._cancel.get(local_id)
            context = self._contexts.get(local_id)
        if event is None:
            return False
        if by_user and context is not None:
            context.stopped_by_user = True
        event.set()
        return True

    def answer(self, local_id: str, yes: bool) -> bool:
        """Answers the question a job is waiting on; False when no such job runs."""
        with self._lock:
            context = self._contexts.get(local_id)
        if context is None:
            return False
        context.answer(yes)
        return True

    def cancel_all(self) -> None:
        with self._lock:
            events = list(self._cancel.values())
        for event in events:
            event.set()

    def is_active(self, local_id: str) -> bool:
        with self._lock:
            return local_id in self._cancel

    def active_ids(self) -> list[str]:
        with self._lock:
            return list(self._cancel)

    def stopping_ids(self) -> list[str]:
        """Jobs whose cancel flag is set and whose thread has not returned yet."""
        with self._lock:
            return [local_id for local_id, event in self._cancel.items() if event.is_set()]

    def wait_until_idle(self, local_id: str, timeout: float = 2.0) -> bool:
        """Waits for a cancelled job's thread to return; True when it is no longer active."""
        deadline = time.monotonic() + timeout
        while self.is_active(local_id):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def drain(self, timeout: float | None = None, limit: int = 10_000) -> list[Event]:
        """Events reported since the last call. With ``timeout``, waits that long for the first."""
        events: list[Event] = []
        if timeout is not None:
            try:
                events.append(self._events.get(timeout=timeout))
            except queue.Empty:
                return events
        while len(events) < limit:
            try:
                events.append(self._events.get_nowait())
            except queue.Empty:
                break
        return events

    def shutdown(self, timeout: float = 5.0) -> bool:
        """Cancels every job and stops the threads. True when all of them ended in time."""
        with self._lock:
            self._closed = True
        self._spawns.put(False)
        self._spawner.join(timeout)  # after this no thread is added
        with self._lock:
            threads = list(self._threads)
        self.cancel_all()
        for _ in threads:
            self._tasks.put(None)
        for thread in threads:
            thread.join(timeout)
        return not any(thread.is_alive() for thread in threads + [self._spawner])

    # --- worker side --------------------------------------------------------------------
    def _ask_for_threads(self) -> None:
        """With the lock held: one more thread per queued task no idle thread will take."""
        if self._closed:
            return
        missing = self._tasks.qsize() - self._idle - self._spawning
        room = self._max_workers - len(self._threads) - self._spawning
        for _ in range(max(0, min(missing, room))):
            self._spawning += 1
            self._spawns.put(True)

    def _spawn_loop(self) -> None:
        while self._spawns.get():
            with self._lock:
                self._spawning -= 1
                if self._closed or len(self._threads) >= self._max_workers:
                    continue
                thread = threading.Thread(
                    target=self._work, name=f"{self._name}-{len(self._threads) + 1}", daemon=True
                )
                self._threads.append(thread)
            thread.start()

    def _work(self) -> None:
        while True:
            with self._lock:
                self._idle += 1
            task = self._tasks.get()
            with self._lock:
                self._idle -= 1
                # Taking a task may leave others that submit() thought an idle thread would take.
                self._ask_for_threads()
            if task is None:
                return
            with self._lock:
                if len(self._threads) > self._max_workers:
                    # The limit was lowered: hand the task on and retire this thread.
                    self._threads.remove(threading.current_thread())
                    self._tasks.put(task)
                    return
            local_id, job = task
            with self._lock:
                context = JobContext(local_id, self._cancel[local_id], self._events)
                self._contexts[local_id] = context
            try:
                context.check_cancelled()
                result = job(context)
            except JobCancelled:
                event = Event(local_id, EventKind.CANCELLED)
            except Exception as exc:  # reported to the user, never raised into Blender
                message = self._error_message(exc)
                if isinstance(exc, self._expected):
                    log.info("job %s failed: %s", local_id, message)
                else:
                    log.error("job %s failed unexpectedly: %s", local_id, message, exc_info=True)
                event = Event(local_id, EventKind.FAILED, message=message, payload=exc)
            else:
                event = Event(local_id, EventKind.FINISHED, payload=result)
            # The last event goes out before the job counts as idle, so whoever waits for it
            # (wait_until_idle) finds it already queued.
            self._events.put(event)
            with self._lock:
                self._cancel.pop(local_id, None)
                self._contexts.pop(local_id, None)
