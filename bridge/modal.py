"""The shell every job-running operator shares: a 0.05 s timer and a modal handler that only
drains worker events, or a blocking wait in background mode where no event loop runs."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import bpy

from ..core import job_view
from ..core.states import Stage, ViewStatus
from . import runtime

if TYPE_CHECKING:
    # What a mixin is mixed into, so mypy sees the Operator's methods (report, execute, ...).
    OperatorMixin = bpy.types.Operator
else:
    OperatorMixin = object

TICK_SECONDS = 0.05
# While a result is on its way the ticks come faster, so it is applied as soon as it is there
# (a tick costs ~0.2 ms). Only for results up to 2048² px and for half a second: a large result
# takes seconds to download and check anyway, and frequent ticks would contend with its worker
# for the GIL.
FAST_TICK_SECONDS = 0.01
FAST_WINDOW_SECONDS = 0.5
FAST_MAX_PIXELS = 2048 * 2048
_FAST_STAGES = frozenset({Stage.DOWNLOADING, Stage.PROCESSING})


def tick_seconds(views: list[job_view.JobView], now: float | None = None) -> float:
    """The timer interval for jobs in these states."""
    now = time.monotonic() if now is None else now
    soon = any(v.status == ViewStatus.READY
               or (v.status == ViewStatus.RUNNING and v.stage in _FAST_STAGES
                   and v.output_pixels <= FAST_MAX_PIXELS
                   and now - v.stage_since < FAST_WINDOW_SECONDS)
               for v in views)
    return FAST_TICK_SECONDS if soon else TICK_SECONDS


# The regions that show job state: the sidebars (panel, batch list) and the Properties
# editor's main region. Tagging whole areas would redraw an Image Editor's canvas too, which
# costs ~50 ms a time under software OpenGL.
JOB_STATE_REGIONS = {"IMAGE_EDITOR": "UI", "NODE_EDITOR": "UI", "PROPERTIES": "WINDOW"}


def redraw_editors(context: bpy.types.Context) -> None:
    screen = context.screen
    for area in screen.areas if screen else ():
        kind = JOB_STATE_REGIONS.get(area.type)
        for region in area.regions if kind else ():
            if region.type == kind:
                region.tag_redraw()


class JobModalMixin(OperatorMixin):
    """Mixed into an Operator: call ``follow(context, ids)`` at the end of invoke/execute.
    ``job_ended(context, view)`` runs on the main thread as each job ends; ``finish(context)``
    once all have, and returns the operator's result."""

    _pending: list[str]
    _timer: bpy.types.Timer | None = None
    _tick = TICK_SECONDS

    def follow(self, context: bpy.types.Context, local_ids: list[str]) -> set[str]:
        self._pending = list(local_ids)
        rt = runtime.get()
        if bpy.app.background or context.window is None:
            while self._pending:
                rt.pump(timeout=0.05)
                self._collect(context, rt)
            return self.finish(context)
        wm = context.window_manager
        assert wm is not None  # there is a window
        self._start_timer(context, TICK_SECONDS)
        wm.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def _start_timer(self, context: bpy.types.Context, seconds: float) -> None:
        self._stop_timer(context)
        wm = context.window_manager
        assert wm is not None  # only with a window (follow)
        self._timer = wm.event_timer_add(seconds, window=context.window)
        self._tick = seconds

    def _collect(self, context: bpy.types.Context, rt: runtime.Runtime) -> None:
        for local_id in list(self._pending):
            view = rt.view(local_id)
            if view is None or view.status != ViewStatus.RUNNING:
                self._pending.remove(local_id)
                if view is not None:
                    self.job_ended(context, view)

    def modal(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        rt = runtime.peek()
        if rt is None:  # the add-on was disabled meanwhile
            self._stop_timer(context)
            return {"CANCELLED"}
        if event.type == "ESC" and event.value == "PRESS":
            self.stop_jobs(rt, by_user=True)
            redraw_editors(context)
            return {"RUNNING_MODAL"}
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        if rt.pump():
            redraw_editors(context)
        self._collect(context, rt)
        if self._pending:
            views = [rt.view(local_id) for local_id in self._pending]
            wanted = tick_seconds([view for view in views if view is not None])
            if wanted != self._tick:
                self._start_timer(context, wanted)
            return {"PASS_THROUGH"}
        self._stop_timer(context)
        redraw_editors(context)
        return self.finish(context)

    def cancel(self, context: bpy.types.Context) -> None:
        # Blender ends modal operators this way when the window closes or another file loads.
        rt = runtime.peek()
        if rt is not None and hasattr(self, "_pending"):
            self.stop_jobs(rt, by_user=False)
        self._stop_timer(context)

    def stop_jobs(self, rt: runtime.Runtime, by_user: bool) -> None:
        """Esc (``by_user``), or Blender ending the operator: stops waiting for its jobs."""
        for local_id in self._pending:
            rt.cancel(local_id, by_user=by_user)

    def _stop_timer(self, context: bpy.types.Context) -> None:
        if self._timer is not None:
            wm = context.window_manager
            assert wm is not None  # it made the timer
            wm.event_timer_remove(self._timer)
            self._timer = None

    def job_ended(self, context: bpy.types.Context, view: job_view.JobView) -> None:
        raise NotImplementedError

    def finish(self, context: bpy.types.Context) -> set[str]:
        raise NotImplementedError


class PaidJobModal(JobModalMixin):
    """``JobModalMixin`` for an operator that can pay Scenario. Never REGISTER or UNDO: a redo
    or Repeat Last would run execute() again and pay again. The swap is its own undoable,
    repeatable step: scenario.apply_result."""

    bl_options = set()
