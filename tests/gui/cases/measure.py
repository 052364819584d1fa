"""The add-on's own main-thread time in the window, and how late a 10 ms timer runs during a
job against a control period that redraws the sidebar at the same rate with no job."""

from __future__ import annotations

import time
from collections.abc import Callable

import bpy
from harness import Harness, Steps
from undo_redo import prepared

TIMER_SECONDS = 0.01
CONTROL_SECONDS = 4.0
WARM_UP_SECONDS = 3.0


def _timed(store: list[float], function):  # type: ignore[no-untyped-def]
    # Blender passes as many arguments as the signature names: spell them out.
    def draw(self, context):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        try:
            return function(self, context)
        finally:
            store.append((time.perf_counter() - start) * 1000)

    def modal(self, context, event):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        try:
            return function(self, context, event)
        finally:
            store.append((time.perf_counter() - start) * 1000)

    # draw and execute take (self, context), modal (self, context, event).
    return modal if function.__code__.co_argcount == 3 else draw


def _lateness(during: list[float], stop: Callable[[], bool]) -> None:
    """A 10 ms timer noting how late each call came, until ``stop()``."""
    last = [time.perf_counter()]

    def tick() -> float | None:
        now = time.perf_counter()
        during.append((now - last[0] - TIMER_SECONDS) * 1000)
        last[0] = now
        return None if stop() else TIMER_SECONDS

    bpy.app.timers.register(tick, first_interval=TIMER_SECONDS)


def steps(h: Harness) -> Steps:
    yield from prepared(h)
    area = h.image_editor()
    sidebar = h.region(area, "UI")
    draws: list[float] = []
    ticks: list[float] = []
    for name in ("IMAGE_PT_scenario_upscale", "IMAGE_PT_scenario_recent_jobs",
                 "IMAGE_PT_scenario_batch"):
        panel = getattr(bpy.types, name)
        panel.draw = _timed(draws, panel.draw)
    operator = h.addon("operators.upscale_image").SCENARIO_OT_upscale_image
    operator.modal = _timed(ticks, operator.modal)
    # The apply (image load, node swap, Blender's undo step) runs inside one tick: timed apart.
    applies: list[float] = []
    applier = h.addon("operators.apply_result").SCENARIO_OT_apply_result
    applier.execute = _timed(applies, applier.execute)
    yield WARM_UP_SECONDS  # shaders compile and the first redraws settle after a file load

    control: list[float] = []
    end = time.monotonic() + CONTROL_SECONDS
    _lateness(control, lambda: time.monotonic() > end)
    while time.monotonic() < end:  # redraws at the rate a job's ticks ask for them
        sidebar.tag_redraw()
        yield 0.05
    yield 0.2
    draws.clear()

    job: list[float] = []
    h.invoke(area, bpy.ops.scenario.upscale_image, "UI")

    def done() -> bool:
        return any(v.status == "done" for v in h.jobs())

    _lateness(job, done)
    yield from h.wait_for(done, "the result")
    yield 0.2
    h.note("timer_late_ms", {"control": control, "job": job})
    h.note("draw_ms", draws)
    h.note("tick_ms", ticks)
    h.note("apply_ms", applies)
    h.note("job_seconds", h.jobs()[0].elapsed)
