"""What an artist may do while a paid job runs, and Recover in a later Blender."""

from __future__ import annotations

import bpy
import scene
from harness import MODULE, Harness, Steps, ui_call
from undo_redo import prepared


def _paid_and_running(h: Harness) -> Steps:
    """Starts the upscale from the panel and waits until Scenario has been paid."""
    area = h.image_editor()
    h.note("invoke", sorted(h.invoke(area, bpy.ops.scenario.upscale_image, "UI")))
    yield from h.wait_for(lambda: h.paid_generates() == 1, "the paid generate", every=0.2)
    h.note("stage_when_paid", [v.stage for v in h.jobs()])


def _end_of_session(h: Harness) -> Steps:
    yield 0.5
    h.note("paid", h.paid_generates())
    h.note("states", [v.record.state for v in h.jobs() if v.record is not None])


def undo_earlier_edit(h: Harness) -> Steps:
    """Ctrl+Z of an edit made before the upscale, while the job runs: the result still lands."""
    yield from prepared(h)
    area = h.image_editor()
    bpy.data.objects[scene.UNSELECTED].location.x += 5.0
    with h.over(area):
        ui_call(bpy.ops.ed.undo_push, message="Move Trim")
    yield 0.3
    yield from _paid_and_running(h)
    h.key(area, "ctrl+z")
    yield 0.5
    h.note("trim_x_after_undo", bpy.data.objects[scene.UNSELECTED].location.x)
    yield from h.wait_for(lambda: any(v.status == "done" for v in h.jobs()), "the result applied")
    h.note("nodes", scene.images_in_nodes())
    yield from _end_of_session(h)


def escape(h: Harness) -> Steps:
    yield from prepared(h)
    area = h.image_editor()
    yield from _paid_and_running(h)
    h.key(area, "Escape")
    yield from h.wait_for(lambda: all(v.status != "running" for v in h.jobs()), "the wait to stop",
                          timeout=10)
    h.note("statuses", [v.status for v in h.jobs()])
    h.note("nodes", scene.images_in_nodes())
    yield from _end_of_session(h)


def open_other_file(h: Harness) -> Steps:
    yield from prepared(h)
    bpy.ops.wm.save_as_mainfile(filepath=str(h.case / "other.blend"), copy=True)
    yield from _paid_and_running(h)
    bpy.ops.wm.open_mainfile(filepath=str(h.case / "other.blend"))
    yield 2.0
    h.note("open_file", bpy.data.filepath)
    yield from _end_of_session(h)


def disable_addon(h: Harness) -> Steps:
    yield from prepared(h)
    yield from _paid_and_running(h)
    bpy.ops.preferences.addon_disable(module=MODULE)
    yield 2.0
    import threading
    h.note("worker_threads_left", [t.name for t in threading.enumerate()
                                   if t.name.startswith("scenario")])
    h.note("panel_registered", hasattr(bpy.types, "IMAGE_PT_scenario_upscale"))
    bpy.ops.preferences.addon_enable(module=MODULE)  # the artist turns it back on
    yield 0.5
    h.note("paid", h.paid_generates())


def quit_blender(h: Harness) -> Steps:
    """The case ends, and the harness quits Blender, while the job is running."""
    yield from prepared(h)
    yield from _paid_and_running(h)
    h.note("paid", h.paid_generates())


def recover(h: Harness) -> Steps:
    """A later Blender opens the file: Recover collects the paid result without paying again."""
    yield 1.0
    area = h.image_editor(bpy.data.images[scene.TEXTURE])
    rt = h.addon("bridge.runtime").get()
    yield 1.0  # the emulator finishes the job meanwhile
    h.note("offered", len(rt.recoverable(bpy.data.filepath)))
    h.note("invoke", sorted(h.invoke(area, bpy.ops.scenario.recover_jobs, "UI")))
    yield from h.wait_for(lambda: h.jobs() and all(v.status not in ("running", "ready")
                                                   for v in h.jobs()), "the recovery")
    h.note("statuses", [v.status for v in h.jobs()])
    h.note("nodes", scene.images_in_nodes())
    h.note("paid", h.paid_generates())
    bpy.ops.wm.save_mainfile()
