"""The shell every job-running operator shares: a 0.1 s timer and a modal handler that only
drains worker events, or a blocking wait in background mode where no event loop runs."""

from __future__ import annotations

import bpy

from . import runtime

TICK_SECONDS = 0.1


def redraw_editors(context: bpy.types.Context) -> None:
    screen = context.screen
    for area in screen.areas if screen else ():
        if area.type in {"IMAGE_EDITOR", "NODE_EDITOR", "PROPERTIES"}:
            area.tag_redraw()


class JobModalMixin:
    """Mixed into an Operator: call ``follow(context, local_id)`` at the end of invoke/execute
    and implement ``conclude(context, view) -> set[str]`` (runs on the main thread)."""

    _local_id: str = ""
    _timer: bpy.types.Timer | None = None

    def follow(self, context: bpy.types.Context, local_id: str) -> set[str]:
        self._local_id = local_id
        if bpy.app.background or context.window is None:
            return self.conclude(context, runtime.get().wait(local_id))
        wm = context.window_manager
        self._timer = wm.event_timer_add(TICK_SECONDS, window=context.window)
        wm.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def modal(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        rt = runtime.peek()
        if rt is None or self._local_id not in rt.jobs:  # the add-on was disabled meanwhile
            self._stop_timer(context)
            return {"CANCELLED"}
        if event.type == "ESC" and event.value == "PRESS":
            rt.cancel(self._local_id)
            return {"RUNNING_MODAL"}
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        if rt.pump():
            redraw_editors(context)
        view = rt.jobs[self._local_id]
        if view.status == runtime.RUNNING:
            return {"PASS_THROUGH"}
        self._stop_timer(context)
        result = self.conclude(context, view)
        redraw_editors(context)
        return result

    def cancel(self, context: bpy.types.Context) -> None:
        # Blender ends modal operators this way when the window closes or a file loads.
        rt = runtime.peek()
        if rt is not None and self._local_id:
            rt.cancel(self._local_id)
        self._stop_timer(context)

    def _stop_timer(self, context: bpy.types.Context) -> None:
        if self._timer is not None:
            context.window_manager.event_timer_remove(self._timer)
            self._timer = None

    def conclude(self, context: bpy.types.Context, view: runtime.JobView) -> set[str]:
        raise NotImplementedError
