"""The add-on's running state: the scheduler, the journal, and a view of every job for the UI.

Created on first use and shut down by unregister(). Workers report through events; ``pump``
(main thread only) folds them into the job views the panels draw.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bpy

from ..api import abort
from ..api.errors import ScenarioError
from ..core import addon_log, pipeline, scheduler, spend_policy, udim_set, upscale_job
from ..core.batch import Batch
from ..core.job_view import JobView
from ..core.journal import JobRecord, Journal, NewerEntry
from ..core.refusal import Refusal
from ..core.states import EventKind, JobState, Stage, ViewStatus
from ..core.team_slots import TeamSlots
from . import addon_data, copies

# Tells records made since the current file was loaded from older ones: Blender's image ids
# (session_uid) are only meaningful within it.
SESSION = uuid.uuid4().hex


def new_session() -> None:
    global SESSION
    SESSION = uuid.uuid4().hex


STEP_SECONDS = 0.006  # for queued main-thread steps per call: far inside a 16 ms frame

NOT_STARTED = "Cancelled before it started; nothing was charged."
# Called on the main thread whenever ``Runtime.recent`` changes (bridge/recent_list.py).
RECENT_CHANGED: list[Callable[[Runtime], None]] = []
# Failures whose message tells the artist what happened; any other exception is unexpected and
# logged with its traceback.
EXPECTED_FAILURES = (ScenarioError, Refusal)


class Runtime:
    def __init__(self, user_dir: Path, parallel: int = 4) -> None:
        self.user_dir = user_dir
        self.journal = Journal(user_dir / "journal")
        self.work_dir = user_dir / "work"
        # Team slots are shared through this folder with every Blender using it.
        self.scheduler = scheduler.Scheduler(parallel, TeamSlots(user_dir / "slots"),
                                             error_message=_user_message, expected=EXPECTED_FAILURES)
        self.jobs: dict[str, JobView] = {}
        # Batches by id, oldest first: their jobs are views in ``jobs`` (see bridge/batch_start.py).
        self.batches: dict[str, Batch] = {}
        # Journal records as last read from disk, newest first; drawing reads only this copy.
        self.recent: list[JobRecord] = []
        self.damaged: list[Path] = []
        # Entries a newer version of the add-on wrote: listed, never touched.
        self.newer: list[NewerEntry] = []
        # Price checks of this session, by what they priced (see bridge/quotes.py).
        self.quotes: dict[str, Any] = {}
        # Main-thread work cut into short steps (e.g. handing over packed bytes); each step
        # gets a time budget and returns True when it has nothing left to do.
        self._steps: list[Callable[[float], bool]] = []
        # With a UI an app timer runs them between events and the modal ticks stay light;
        # background mode has no event loop, there pump() runs them.
        self.steps_by_timer = not bpy.app.background
        # Views of jobs a later main-thread step will start (a batch's queue): not in the pool.
        self._held: set[str] = set()

    @property
    def has_steps(self) -> bool:
        return bool(self._steps)

    def add_step(self, step: Callable[[float], bool]) -> None:
        self._steps.append(step)
        if self.steps_by_timer and not bpy.app.timers.is_registered(_run_steps_timer):
            bpy.app.timers.register(_run_steps_timer, first_interval=0.0)

    def run_steps(self, seconds: float | None = None) -> bool:
        """Runs the queued steps for about ``seconds`` in all; True while any remain."""
        if not self._steps:
            return False
        deadline = time.perf_counter() + (STEP_SECONDS if seconds is None else seconds)
        remaining = []
        for index, step in enumerate(self._steps):
            budget = deadline - time.perf_counter()
            # The first step always runs (it moves at least one piece), so they all end.
            if (index and budget <= 0) or not step(max(budget, 0.0)):
                remaining.append(step)
        self._steps = remaining
        return bool(remaining)

    def refresh_journal(self) -> None:
        """Re-reads the journal (never while drawing: it touches the disk)."""
        found = self.journal.load_all()
        self.recent, self.newer = found.records, found.newer
        self.damaged += found.damaged
        self._recent_changed()

    def remember(self, record: JobRecord) -> None:
        """Keeps ``recent`` current without touching the disk."""
        self.recent = [record] + [r for r in self.recent if r.local_id != record.local_id]
        self._recent_changed()

    def _recent_changed(self) -> None:
        for hook in RECENT_CHANGED:
            hook(self)

    def recoverable(self, blend_file: str) -> list[JobRecord]:
        # A job whose wait was just stopped is already recorded as abandoned while its thread
        # winds down: it counts as recoverable, a job still being worked on does not.
        busy = set(self.scheduler.active_ids())
        # A UDIM tile is recovered with its set, a preview with its set.
        return [r for r in self.recent
                if r.recoverable and r.blend_file == blend_file and not r.tile_set
                and not r.preview_set
                and (r.local_id not in busy or r.state in (JobState.ABANDONED, JobState.TIMED_OUT))]

    def start(self, view: JobView, job: Callable[[scheduler.JobContext], Any],
              counted: bool = True) -> JobView:
        """Queues ``job``; ``counted=False`` for a UDIM set, whose tiles take the places."""
        self.scheduler.set_parallel(concurrency())  # follows the Parallel Jobs preference
        if view.local_id in self._held:
            self._held.discard(view.local_id)
        elif view.local_id in self.jobs:
            self.pump()  # a resumed job: let the events of its previous run reach the old view
        self.jobs[view.local_id] = view
        self.scheduler.submit(view.local_id, job, counted)
        return view

    def start_upscale(self, upscale: upscale_job.UpscaleJob | udim_set.SetJob,
                      connect: upscale_job.ClientFactory, title: str,
                      held: JobView | None = None) -> JobView:
        """Starts the job (an image's or a UDIM set's); ``held`` is its view if ``hold`` made
        one while it was queued."""
        view = self._view_of(upscale, title, held)
        if isinstance(upscale, udim_set.SetJob):
            return self.start(view, lambda ctx: udim_set.run(upscale, ctx, self.journal, connect),
                              counted=False)
        return self.start(view, lambda ctx: pipeline.run(upscale, ctx, self.journal, connect))

    def start_price(self, upscale: upscale_job.UpscaleJob | udim_set.SetJob,
                    connect: upscale_job.ClientFactory, title: str,
                    held: JobView | None = None) -> JobView:
        """Uploads and prices the job, paying nothing: its view ends PRICED with the price
        (None when none was had) as its result. ``pay`` then goes on with the same job."""
        view = self._view_of(upscale, title, held)
        view.priced_only = True
        if isinstance(upscale, udim_set.SetJob):
            return self.start(view, lambda ctx: udim_set.price(upscale, ctx, self.journal,
                                                               connect), counted=False)
        return self.start(view, lambda ctx: pipeline.price(upscale, ctx, self.journal, connect))

    def pay(self, view: JobView, upscale: upscale_job.UpscaleJob | udim_set.SetJob,
            connect: upscale_job.ClientFactory) -> JobView:
        """Goes on with a priced job to its result: its upload and price are not repeated
        (its records wait in *submitting*), and its price counts as approved."""
        upscale.spend = spend_policy.SpendPolicy(quote=False)
        self._held.add(view.local_id)  # the same view goes on: nothing of its first run is left
        view.status, view.priced_only, view.result, view.ended = ViewStatus.RUNNING, False, None, None
        view.stage, view.label, view.fraction = Stage.SUBMITTING, "", None
        return self.start_upscale(upscale, connect, view.title, held=view)

    def _view_of(self, upscale: upscale_job.UpscaleJob | udim_set.SetJob, title: str,
                 held: JobView | None) -> JobView:
        record = upscale.record
        self.remember(record)  # the worker writes it to the journal (disk stays off this thread)
        view = held or JobView(record.local_id, title)
        view.record = record
        width, height = (record.source_size + [0, 0])[:2]
        view.output_pixels = width * height * record.factor ** 2
        if isinstance(upscale, udim_set.SetJob):
            view.output_pixels *= len(upscale.tiles)
        return view

    def hold(self, local_id: str, title: str, stage: str) -> JobView:
        """A view for a job that a later main-thread step will start (or ``release``)."""
        view = JobView(local_id, title, stage=stage)
        self.jobs[local_id] = view
        self._held.add(local_id)
        return view

    def release(self, local_id: str, status: ViewStatus, message: str = "") -> None:
        """Ends a held view whose job will not start: skipped (FAILED) or CANCELLED."""
        self._held.discard(local_id)
        view = self.jobs[local_id]
        view.status, view.message, view.ended = status, message, time.monotonic()

    def pump(self, timeout: float | None = None) -> bool:
        """Folds pending worker events into the views (without a UI, after running queued
        main-thread steps); True when anything changed."""
        stepping = self.has_steps if self.steps_by_timer else self.run_steps()
        events = self.scheduler.drain(0 if stepping else timeout)
        for event in events:
            view = self.jobs.get(event.local_id)
            if view is None:
                continue
            if event.kind == EventKind.PROGRESS:
                if view.stage == Stage.CANCELLING:
                    continue  # the user's cancel outranks progress the worker sent before it
                if event.stage != view.stage:
                    view.stage_since = time.monotonic()
                view.stage, view.fraction, view.label = event.stage, event.fraction, event.message
                if isinstance(event.payload, str):  # a line about the job (a preview's price)
                    view.estimate = (event.payload,)
                elif event.payload is not None:
                    view.tiles = event.payload
            elif event.kind == EventKind.QUESTION:
                view.question = event.payload
            elif event.kind == EventKind.FINISHED:
                view.status = ViewStatus.PRICED if view.priced_only else ViewStatus.READY
                view.result, view.fraction = event.payload, None
                if view.priced_only:
                    view.ended = time.monotonic()
            elif event.kind == EventKind.FAILED:
                view.status, view.message, view.error = ViewStatus.FAILED, event.message, event.payload
                view.ended = time.monotonic()
            elif event.kind == EventKind.CANCELLED:
                view.status, view.ended = ViewStatus.CANCELLED, time.monotonic()
            if event.kind != EventKind.PROGRESS and view.record is not None:
                self.remember(view.record)
        return bool(events)

    def cancel(self, local_id: str, by_user: bool = False) -> bool:
        """Stops waiting for the job. ``by_user`` (Cancel, Esc) also has its worker ask
        Scenario to cancel a paid job; the view says so at once."""
        if local_id in self._held:
            self.release(local_id, ViewStatus.CANCELLED, NOT_STARTED)
            return True
        if not self.scheduler.cancel(local_id, by_user):
            return False
        view = self.jobs.get(local_id)
        if by_user and view is not None and view.record is not None and view.record.job_id:
            view.stage, view.fraction, view.label = Stage.CANCELLING, None, ""
            view.stage_since = time.monotonic()
        return True

    def cancel_all(self) -> None:
        for local_id in list(self._held):
            self.release(local_id, ViewStatus.CANCELLED, NOT_STARTED)
        self.scheduler.cancel_all()

    def answer(self, local_id: str, yes: bool) -> bool:
        view = self.jobs.get(local_id)
        if view is not None:
            view.question = None
        return self.scheduler.answer(local_id, yes)

    def running(self) -> list[JobView]:
        return [v for v in self.jobs.values() if v.status in (ViewStatus.RUNNING, ViewStatus.READY)]

    def view(self, local_id: str) -> JobView | None:
        return self.jobs.get(local_id)

    def ready_view(self, record: JobRecord) -> JobView:
        """A view for a job whose result is already on disk: applied at the next tick."""
        view = JobView(record.local_id, record.source_image, record=record, status=ViewStatus.READY)
        self.jobs[record.local_id] = view
        return view

    def is_busy(self, local_id: str) -> bool:
        """True while the job waits to start or its thread runs, also while it winds down
        after a stop: until then nothing else may take its record."""
        return local_id in self._held or self.scheduler.is_active(local_id)

    def winding_down(self) -> list[str]:
        """Jobs told to stop whose threads have not returned yet (a second or two)."""
        return self.scheduler.stopping_ids()

    def forget(self, local_id: str) -> bool:
        """Drops the job from the add-on's memory and from Recent Jobs (its journal record);
        files it saved stay. Only for a job that is not busy. False when its record is left
        alone (a newer version's, or damaged)."""
        self.jobs.pop(local_id, None)
        if not self.journal.forget(local_id):
            return False
        self.recent = [r for r in self.recent if r.local_id != local_id]
        self._recent_changed()
        return True

    def shutdown(self, timeout: float = 5.0) -> bool:
        self._steps.clear()
        if bpy.app.timers.is_registered(_run_steps_timer):
            bpy.app.timers.unregister(_run_steps_timer)
        return self.scheduler.shutdown(timeout)


def _run_steps_timer() -> float | None:
    rt = _runtime
    return 0.0 if rt is not None and rt.run_steps() else None


def _user_message(exc: BaseException) -> str:
    if isinstance(exc, EXPECTED_FAILURES):
        return str(exc) or type(exc).__name__
    log_file = addon_log.file_path()
    where = f"the log file {log_file}" if log_file else "Blender's console"
    return addon_log.mask(f"Unexpected error ({type(exc).__name__}: {exc}). The details are "
                          f"in {where}.")


_runtime: Runtime | None = None


def get() -> Runtime:
    global _runtime
    if _runtime is None:
        _runtime = Runtime(user_folder(), parallel=concurrency())
        _runtime.refresh_journal()
    return _runtime


def user_folder() -> Path:
    """The add-on's folder in Blender's user files, shared by every copy of it and kept when it
    is uninstalled (bridge/copies.py): the journal, work files, team slots and the log."""
    return copies.data_folder()


def peek() -> Runtime | None:
    """The runtime if it exists; drawing code must not create one."""
    return _runtime


def shutdown() -> None:
    global _runtime
    if _runtime is not None:
        _runtime.shutdown()
        _runtime = None
    abort.WATCHDOG.stop()  # its requests ended with the jobs: no thread is left behind


def concurrency() -> int:
    """How many jobs (or a set's tiles) run at once: the Parallel Jobs preference."""
    prefs = addon_data.preferences()
    wanted = int(prefs.max_concurrent_jobs) if prefs is not None else 0
    if wanted <= 0:
        blender = bpy.context.preferences
        system = blender.system if blender is not None else None
        wanted = int(getattr(system, "network_connection_limit", 0) or 4)
    return max(1, min(wanted, 16))
