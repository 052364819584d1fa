"""The one place that decides which jobs run, and when, off Blender's main thread.

- A job (an image's upscale, one tile of a UDIM set) runs on a worker thread once it has a
  place: at most ``parallel`` at once (the Parallel Jobs preference), first come, first served.
  A UDIM set's own task only coordinates its tiles: it takes no place, its tiles queue like any
  job (``JobContext.spawn``).
- Just before it pays, a job takes one of the team's slots at Scenario (``TeamSlots``, shared
  with the other Blender processes of the user folder) and gives it back when Scenario ends it.
- Every wait of a job (for an answer, a slot, another tile, a retry) is ``JobContext.wait_for``,
  which a cancel wakes at once.
- Workers never touch bpy: they report through events that the main thread drains (``drain``).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from .states import EventKind
from .team_slots import TeamSlots

log = logging.getLogger(__name__)

# Threads kept beyond the places: coordinators of UDIM sets and cancelled jobs winding down.
_SPARE_THREADS = 16


class JobCancelled(Exception):
    """Raised inside a job when it is cancelled."""


@dataclass(frozen=True)
class Event:
    local_id: str
    kind: EventKind
    stage: str = ""
    fraction: float | None = None
    message: str = ""
    payload: Any = None


JobFunction = Callable[["JobContext"], Any]
P = TypeVar("P")  # a part of a job: a UDIM tile, a preview variant
# Turns an exception raised by a job into the message the user reads.
ErrorFormatter = Callable[[BaseException], str]


@dataclass(eq=False)
class JobContext:
    """What a running job gets: its id, its cancel flag, a way to report progress, the team's
    slots, and (for a UDIM set) a way to start its tiles."""

    local_id: str
    cancel_event: threading.Event
    _events: queue.Queue[Event] = field(repr=False)
    slots: TeamSlots = field(default_factory=TeamSlots, repr=False)
    _scheduler: Scheduler | None = field(default=None, repr=False)
    # Set with the cancel flag when the user, not a file load or a quit, stopped the job:
    # only then is Scenario asked to cancel it too.
    stopped_by_user: bool = False
    _answer: bool | None = field(default=None, repr=False)
    _own: threading.Condition = field(default_factory=threading.Condition, repr=False)
    _waiting_on: threading.Condition | None = field(default=None, repr=False)
    _on_cancel: list[Callable[[], None]] = field(default_factory=list, repr=False)

    # --- what a job calls ---------------------------------------------------------------------
    def progress(self, stage: str, fraction: float | None = None, message: str = "",
                 detail: Any = None) -> None:
        self._events.put(Event(self.local_id, EventKind.PROGRESS, stage, fraction, message, detail))

    def check_cancelled(self) -> None:
        if self.cancel_event.is_set():
            raise JobCancelled()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def wait_for(self, condition: threading.Condition, predicate: Callable[[], bool],
                 timeout: float | None = None) -> bool:
        """``condition.wait_for(predicate, timeout)``, called with ``condition`` held, that a
        cancel wakes: raises JobCancelled. False when ``timeout`` passed first."""
        self._waiting_on = condition
        try:
            self.check_cancelled()
            done = condition.wait_for(lambda: predicate() or self.cancelled, timeout)
            self.check_cancelled()
            return bool(done)
        finally:
            self._waiting_on = None

    def sleep(self, seconds: float) -> None:
        """Waits ``seconds``; JobCancelled at once when cancelled meanwhile."""
        with self._own:
            self.wait_for(self._own, lambda: False, seconds)

    def ask(self, question: Any) -> bool:
        """Blocks until the main thread answers ``question`` (``Scheduler.answer``); a cancel
        answers no."""
        with self._own:
            self._answer = None
            self._events.put(Event(self.local_id, EventKind.QUESTION, payload=question))
            try:
                self.wait_for(self._own, lambda: self._answer is not None)
            except JobCancelled:
                return False
            return bool(self._answer)

    def spawn(self, local_id: str, job: JobFunction, cancel_event: threading.Event,
              events: queue.Queue[Event]) -> Child:
        """Starts a job of this one (a UDIM tile): it queues for a place like any job, reports
        into ``events`` and ends with a FINISHED, FAILED or CANCELLED event there."""
        if self._scheduler is None:
            raise RuntimeError("this job was not started by a scheduler")
        return self._scheduler.spawn(local_id, job, cancel_event, events, self.slots)

    def run_parts(self, parts: Sequence[P], step: Callable[[P, JobContext], Any],
                  local_id: Callable[[P], str], progress: Callable[[P, Event], None],
                  ended: Callable[[P, BaseException | None], None],
                  stop_at_first_failure: bool = False) -> dict[str, Any]:
        """Runs ``step`` for each part (a UDIM tile, a preview variant) as a job of its own,
        each queued for a place like any job; ``progress`` and ``ended`` hear of each part as it
        goes (on this thread). Returns each part's result or the exception it raised, by local
        id. A cancel of this job stops every part; with ``stop_at_first_failure`` (before any
        is paid) the first failure does too."""
        stop = threading.Event()  # the parts' shared cancel flag
        events: queue.Queue[Event] = queue.Queue()
        by_id = {local_id(part): part for part in parts}
        children = [self.spawn(name, partial(step, part), stop, events)
                    for name, part in by_id.items()]

        def stop_all() -> None:
            for child in children:  # only the user's stop cancels at Scenario
                child.cancel(by_user=self.stopped_by_user)

        outcomes: dict[str, Any] = {}
        with self.stopping(stop_all):
            while len(outcomes) < len(by_id):
                event = events.get()  # every part ends with an event, cancelled ones too
                part = by_id.get(event.local_id)
                if part is None:
                    continue
                if event.kind == EventKind.PROGRESS:
                    progress(part, event)
                    continue
                exc = (event.payload if event.kind == EventKind.FAILED else
                       JobCancelled() if event.kind == EventKind.CANCELLED else None)
                outcomes[event.local_id] = exc if exc is not None else event.payload
                ended(part, exc)
                if exc is not None and stop_at_first_failure and not stop.is_set():
                    stop_all()
        return outcomes

    def on_cancel(self, callback: Callable[[], None]) -> None:
        """Called (on the cancelling thread) when this job is cancelled."""
        self._on_cancel.append(callback)

    @contextmanager
    def stopping(self, stop: Callable[[], None]) -> Iterator[None]:
        """Calls ``stop`` (a child process's kill, ...) if the job is cancelled while the block
        runs, at once if it already was: a wait on something else than this job's flag then
        ends on a cancel, without polling the flag."""
        self._on_cancel.append(stop)
        try:
            if self.cancelled:
                stop()
            yield
        finally:
            self._on_cancel.remove(stop)

    # --- what the scheduler calls ---------------------------------------------------------------
    def cancel(self, by_user: bool = False) -> None:
        if by_user:
            self.stopped_by_user = True
        self.cancel_event.set()
        waiting = self._waiting_on
        if waiting is not None:  # set before the flag is checked: see wait_for
            with waiting:
                waiting.notify_all()
        for callback in list(self._on_cancel):
            callback()

    def answer(self, yes: bool) -> None:
        with self._own:
            self._answer = yes
            self._own.notify_all()


@dataclass(eq=False)
class _Task:
    local_id: str
    job: JobFunction
    context: JobContext
    counted: bool  # takes one of the ``parallel`` places
    events: queue.Queue[Event]  # where its final event goes
    top_level: bool = True


@dataclass(eq=False)
class Child:
    """A spawned job as its parent sees it."""

    local_id: str
    _task: _Task = field(repr=False)
    _scheduler: Scheduler = field(repr=False)

    def cancel(self, by_user: bool = False) -> None:
        self._scheduler.cancel_task(self._task, by_user)


class Scheduler:
    def __init__(
        self,
        parallel: int = 4,
        slots: TeamSlots | None = None,
        error_message: ErrorFormatter = lambda exc: str(exc) or type(exc).__name__,
        expected: tuple[type[BaseException], ...] = (),
        name: str = "scenario-job",
    ) -> None:
        self._parallel = max(1, parallel)
        self.slots = slots or TeamSlots()
        self._error_message = error_message
        # Failures whose message says it all (the service refused, the user's rules): logged as
        # one line. Any other exception is a bug or a surprise: logged with its traceback.
        self._expected = expected
        self._name = name
        self._events: queue.Queue[Event] = queue.Queue()
        self._lock = threading.Lock()
        self._waiting: deque[_Task] = deque()  # jobs waiting for a place, oldest first
        self._running = 0  # places taken
        self._active: dict[str, _Task] = {}  # top-level jobs queued or running, by local id
        self._ready: queue.SimpleQueue[_Task | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._closed = False
        # New threads are started by a helper thread: Thread.start() waits for the new thread
        # to run, which takes several GIL hand-overs while other jobs are busy; the main thread
        # (Blender's UI) must not wait for that.
        self._spawns: queue.SimpleQueue[bool] = queue.SimpleQueue()
        self._spawning = 0
        self._spawner = threading.Thread(target=self._spawn_loop, name=f"{name}-spawner",
                                         daemon=True)
        self._spawner.start()

    # --- main-thread API ------------------------------------------------------------------
    def submit(self, local_id: str, job: JobFunction, counted: bool = True) -> None:
        """Queues a job; ``counted=False`` for a coordinator that takes no place (a UDIM set)."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the scheduler has been shut down")
            if local_id in self._active:
                raise ValueError(f"job {local_id} is already running")
            context = JobContext(local_id, threading.Event(), self._events, self.slots, self)
            task = _Task(local_id, job, context, counted, self._events)
            self._active[local_id] = task
            self._enqueue(task)

    @property
    def parallel(self) -> int:
        return self._parallel

    def set_parallel(self, parallel: int) -> None:
        """How many jobs run at once; running jobs are never interrupted."""
        with self._lock:
            self._parallel = max(1, parallel)
            self._dispatch()

    def cancel(self, local_id: str, by_user: bool = False) -> bool:
        with self._lock:
            task = self._active.get(local_id)
        if task is None:
            return False
        self.cancel_task(task, by_user)
        return True

    def cancel_all(self) -> None:
        with self._lock:
            tasks = list(self._active.values())
        for task in tasks:
            self.cancel_task(task)

    def answer(self, local_id: str, yes: bool) -> bool:
        """Answers the question a job waits on; False when no such job runs."""
        with self._lock:
            task = self._active.get(local_id)
        if task is None:
            return False
        task.context.answer(yes)
        return True

    def is_active(self, local_id: str) -> bool:
        with self._lock:
            return local_id in self._active

    def active_ids(self) -> list[str]:
        with self._lock:
            return list(self._active)

    def stopping_ids(self) -> list[str]:
        """Jobs whose cancel flag is set and whose thread has not returned yet."""
        with self._lock:
            return [i for i, task in self._active.items() if task.context.cancelled]

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
            waiting = list(self._waiting)
            self._waiting.clear()
        self._spawns.put(False)
        self._spawner.join(timeout)  # after this no thread is added
        for task in waiting:
            task.context.cancel()
        self.cancel_all()
        with self._lock:
            threads = list(self._threads)
        for _ in threads:
            self._ready.put(None)
        for thread in threads:
            thread.join(timeout)
        return not any(thread.is_alive() for thread in threads + [self._spawner])

    # --- jobs of jobs ---------------------------------------------------------------------
    def spawn(self, local_id: str, job: JobFunction, cancel_event: threading.Event,
              events: queue.Queue[Event], slots: TeamSlots) -> Child:
        with self._lock:
            context = JobContext(local_id, cancel_event, events, slots, self)
            task = _Task(local_id, job, context, True, events, top_level=False)
            self._enqueue(task)
        return Child(local_id, task, self)

    def cancel_task(self, task: _Task, by_user: bool = False) -> None:
        with self._lock:
            if task in self._waiting:
                # Never started: it runs now, without a place, just to record its cancel.
                self._waiting.remove(task)
                task.counted = False
                self._ready.put(task)
                self._ask_for_threads()
        task.context.cancel(by_user)

    # --- places and threads ---------------------------------------------------------------
    def _enqueue(self, task: _Task) -> None:
        """With the lock held."""
        if task.counted:
            self._waiting.append(task)
            self._dispatch()
        else:
            self._ready.put(task)
            self._ask_for_threads()

    def _dispatch(self) -> None:
        """With the lock held: gives free places to the jobs that waited longest."""
        while self._waiting and self._running < self._parallel and not self._closed:
            self._running += 1
            self._ready.put(self._waiting.popleft())
            self._ask_for_threads()

    def _ask_for_threads(self) -> None:
        """With the lock held: one more thread per ready task no idle thread will take."""
        if self._closed:
            return
        missing = self._ready.qsize() - self._idle - self._spawning
        room = self._parallel + _SPARE_THREADS - len(self._threads) - self._spawning
        for _ in range(max(0, min(missing, room))):
            self._spawning += 1
            self._spawns.put(True)

    def _spawn_loop(self) -> None:
        while self._spawns.get():
            with self._lock:
                self._spawning -= 1
                if self._closed:
                    continue
                thread = threading.Thread(target=self._work,
                                          name=f"{self._name}-{len(self._threads) + 1}",
                                          daemon=True)
                self._threads.append(thread)
            thread.start()

    def _work(self) -> None:
        with self._lock:
            self._idle += 1
        while True:
            task = self._ready.get()
            with self._lock:
                self._idle -= 1
                # Taking a task may leave others that were counted on an idle thread.
                self._ask_for_threads()
            if task is None:
                return
            event = self._run(task)
            # The last event goes out before the job stops counting as active, so whoever
            # waits for it finds it already queued.
            task.events.put(event)
            with self._lock:
                if task.counted:
                    self._running -= 1
                if task.top_level and self._active.get(task.local_id) is task:
                    del self._active[task.local_id]
                self._idle += 1  # before dispatching: this thread takes the next task
                self._dispatch()

    def _run(self, task: _Task) -> Event:
        context = task.context
        try:
            context.check_cancelled()
            result = task.job(context)
        except JobCancelled:
            return Event(task.local_id, EventKind.CANCELLED)
        except Exception as exc:  # reported to the user, never raised into Blender
            message = self._error_message(exc)
            if isinstance(exc, self._expected):
                log.info("job %s failed: %s", task.local_id, message)
            else:
                log.error("job %s failed unexpectedly: %s", task.local_id, message, exc_info=True)
            return Event(task.local_id, EventKind.FAILED, message=message, payload=exc)
        return Event(task.local_id, EventKind.FINISHED, payload=result)
