"""Job lifecycle: statuses derived from elapsed time, a FIFO queue and a concurrency limit.

A job that gets a slot at once spends ``job_seconds`` in total: 10 % queued, 15 % warming-up,
60 % in-progress (progress rising from 0), 15 % finalizing. The upscale itself runs in a worker
thread from the moment the job takes its slot, so its time is part of the job's, as on the real
service; success waits for it only when it takes longer than the job, and only then is the
result stored as an asset. Later jobs wait in ``queued``
while ``max_concurrent_jobs`` jobs are past ``queued``. Statuses are brought up to date by a
ticker thread and again whenever a job is read, so reads are exact.
"""

from __future__ import annotations

import copy
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .store import Store

QUEUED_SHARE = 0.10
WARMING_SHARE = 0.15
RUNNING_SHARE = 0.60
FINALIZING_SHARE = 0.15
# A job that never finishes creeps toward this progress and stays there.
STUCK_PROGRESS = 0.95
_TICK_SECONDS = 0.02


@dataclass
class Job:
    id: str
    model_id: str
    input: dict[str, Any]
    source_asset_id: str
    factor: int
    cost: int
    owner_id: str
    fail_with: tuple[str, str | None] | None = None
    never_finishes: bool = False
    created_at: float = field(default_factory=time.time)
    status: str = "queued"
    progress: float = 0.0
    history: list[tuple[str, float]] = field(default_factory=list)
    updated_at: float = 0.0
    started_at: float | None = None
    ended_at: float | None = None
    render_submitted: bool = False
    render_done_at: float | None = None
    render_error: str | None = None
    publish: Publish | None = None
    result_asset_id: str | None = None
    error: str | None = None
    hint: str | None = None

    def __post_init__(self) -> None:
        self.history = [("queued", self.created_at)]
        self.updated_at = self.created_at

    @property
    def terminal(self) -> bool:
        return self.status in ("success", "failure", "canceled")

    def snapshot(self) -> Job:
        """A copy that later status changes do not touch (readable without the lock)."""
        twin = copy.copy(self)
        twin.history = list(self.history)
        return twin


# Renders a job's output outside the lock; returns what stores it as an asset (called under the
# lock when the job succeeds) and gives the new asset id.
Publish = Callable[[], str]
Render = Callable[[Job], Publish]


class JobScheduler:
    def __init__(self, store: Store, job_seconds: float, max_concurrent: int,
                 render: Render) -> None:
        self._lock = store.lock
        self._duration = job_seconds
        self._render = render
        self._jobs: dict[str, Job] = {}
        self._queue: deque[Job] = deque()
        self._slots: list[Job | None] = [None] * max_concurrent
        self._slot_free_at = [0.0] * max_concurrent
        # Stuck jobs run outside the slots so they cannot block later tests.
        self._unslotted: list[Job] = []
        self._renders = RenderWorkers(max(2, max_concurrent))
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    # -- public -------------------------------------------------------------------------
    def start(self) -> None:
        self._ticker = threading.Thread(target=self._tick_loop, name="emulator-jobs", daemon=True)
        self._ticker.start()
        self._renders.start()

    def stop(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=2)
        self._renders.stop()

    # Readers get snapshots: the ticker changes the jobs themselves at any time.
    def submit(self, make: Callable[[], Job], team_limit: int = 0) -> Job | None:
        """Takes the job ``make`` gives (a snapshot back), or None without calling ``make`` when
        ``team_limit`` jobs have not ended yet: Scenario's team limit, which counts every
        unfinished job of the team, stuck ones too."""
        with self._lock:
            self.advance()
            if team_limit and sum(not j.terminal for j in self._jobs.values()) >= team_limit:
                return None
            job = make()
            self._jobs[job.id] = job
            if job.never_finishes:
                job.started_at = job.created_at + QUEUED_SHARE * self._duration
                self._unslotted.append(job)
            else:
                self._queue.append(job)
            self.advance()
            return job.snapshot()

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            self.advance()
            job = self._jobs.get(job_id)
            return None if job is None else job.snapshot()

    def cancel(self, job_id: str) -> Job | None:
        """Ends a job that has not ended as ``canceled``; None when it already had.

        KeyError for an unknown job."""
        with self._lock:
            self.advance()
            job = self._jobs[job_id]
            if job.terminal:
                return None
            self._finish(job, "canceled", time.time())
            if job in self._queue:
                self._queue.remove(job)
            return job.snapshot()

    def jobs(self) -> list[Job]:
        with self._lock:
            self.advance()
            return [job.snapshot() for job in self._jobs.values()]

    def end_stuck(self) -> None:
        """Ends the jobs a fault kept from finishing, so they stop holding the team's slots."""
        with self._lock:
            for job in self._unslotted:
                if not job.terminal:
                    job.error, job.hint = "Stopped by the emulator's reset.", None
                    self._finish(job, "failure", time.time())

    def clear(self) -> None:
        with self._lock:
            self._jobs.clear()
            self._queue.clear()
            self._unslotted.clear()
            self._slots = [None] * len(self._slots)
            self._slot_free_at = [0.0] * len(self._slots)

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {"queued": len(self._queue), "running": sum(j is not None for j in self._slots)}

    # -- time evolution -------------------------------------------------------------------
    def advance(self, now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self._lock:
            for waiting in self._unslotted:
                self._advance_job(waiting, now)
            while True:
                progressed = False
                for index, job in enumerate(self._slots):
                    if job is None:
                        continue
                    self._advance_job(job, now)
                    if job.terminal:
                        self._slots[index] = None
                        self._slot_free_at[index] = job.ended_at or now
                        progressed = True
                progressed = self._start_next(now) or progressed
                if not progressed:
                    return

    def _start_next(self, now: float) -> bool:
        free = [i for i, job in enumerate(self._slots) if job is None]
        if not self._queue or not free:
            return False
        index = min(free, key=lambda i: self._slot_free_at[i])
        job = self._queue[0]
        # The slot's free time keeps the timeline exact even if nobody looked in between.
        start = max(job.created_at + QUEUED_SHARE * self._duration, self._slot_free_at[index])
        if start > now:
            return False
        self._queue.popleft()
        job.started_at = start
        self._slots[index] = job
        return True

    def _enter(self, job: Job, status: str, at: float) -> None:
        if job.status == status or any(s == status for s, _ in job.history):
            return
        job.history.append((status, at))
        job.status = status
        job.updated_at = at

    def _finish(self, job: Job, status: str, at: float) -> None:
        self._enter(job, status, at)
        job.ended_at = at

    def _advance_job(self, job: Job, now: float) -> None:
        if job.terminal or job.started_at is None or now < job.started_at:
            return
        duration = self._duration
        warm_end = job.started_at + WARMING_SHARE * duration
        run_end = warm_end + RUNNING_SHARE * duration
        final_end = run_end + FINALIZING_SHARE * duration
        self._enter(job, "warming-up", job.started_at)
        if not job.render_submitted and not job.never_finishes and job.fail_with is None:
            job.render_submitted = True
            self._renders.submit(lambda: self._run_render(job))
        if now < warm_end:
            return
        self._enter(job, "in-progress", warm_end)
        running = RUNNING_SHARE * duration
        share = 1.0 if running <= 0 else (now - warm_end) / running
        if job.never_finishes:
            job.progress = round(STUCK_PROGRESS * min(1.0, share), 3)
            return
        if now < run_end:
            job.progress = round(min(0.99, share), 3)
            return
        if job.fail_with is not None:
            job.error, job.hint = job.fail_with
            self._finish(job, "failure", run_end)
            return
        job.progress = 0.99
        self._enter(job, "finalizing", run_end)
        if now < final_end or job.render_done_at is None:
            return
        finished = max(final_end, job.render_done_at)
        if job.render_error is None and job.publish is not None:
            try:
                job.result_asset_id = job.publish()
            except Exception as exc:  # noqa: BLE001 - e.g. state cleared while rendering
                job.render_error = f"Upscale failed: {exc}"
            job.publish = None
        if job.render_error is not None:
            job.error, job.hint = job.render_error, "Check the input image and try again."
            self._finish(job, "failure", finished)
            return
        job.progress = 1.0
        self._finish(job, "success", finished)

    def _run_render(self, job: Job) -> None:
        try:
            publish, error = self._render(job), None
        except Exception as exc:  # noqa: BLE001 - any render fault becomes a job failure
            publish, error = None, f"Upscale failed: {exc}"
        with self._lock:
            job.publish = publish
            job.render_error = error
            job.render_done_at = time.time()
            self.advance()

    def _tick_loop(self) -> None:
        while not self._stop.wait(_TICK_SECONDS):
            self.advance()


class RenderWorkers:
    """A few daemon threads that run renders in submission order.

    Not a ThreadPoolExecutor: its threads are joined when the interpreter exits, so an upscale
    under way (seconds for a large one) would hold up the process after SIGTERM. A render left
    unfinished at exit only loses a result nobody will fetch.
    """

    def __init__(self, count: int) -> None:
        self._count = count
        self._tasks: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._stopped = threading.Event()

    def start(self) -> None:
        for index in range(self._count):
            threading.Thread(target=self._work, name=f"emulator-render-{index}",
                             daemon=True).start()

    def submit(self, task: Callable[[], None]) -> None:
        self._tasks.put(task)

    def stop(self) -> None:
        """Renders not started yet are dropped; those under way run on, unwaited for."""
        self._stopped.set()
        for _ in range(self._count):
            self._tasks.put(lambda: None)  # wakes every idle worker so it sees the flag

    def _work(self) -> None:
        while not self._stopped.is_set():
            task = self._tasks.get()
            if not self._stopped.is_set():
                task()
