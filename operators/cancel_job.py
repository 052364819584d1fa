"""scenario.cancel_job: stop waiting for a running job (all of them when no id is given)."""

from __future__ import annotations

import bpy
from bpy.props import StringProperty

from ..bridge import runtime


class SCENARIO_OT_cancel_job(bpy.types.Operator):
    bl_idname = "scenario.cancel_job"
    bl_label = "Cancel"
    bl_description = (
        "Stop the job. Once paid, Scenario is asked to cancel it; if it cannot, the job may "
        "still finish and be charged, and its result stays collectable with Recover"
    )
    bl_options = {"INTERNAL"}

    local_id: StringProperty(options={"SKIP_SAVE"})  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> set[str]:
        rt = runtime.peek()
        if rt is None:
            return {"CANCELLED"}
        ids = [self.local_id] if self.local_id else [v.local_id for v in rt.running()]
        stopped = sum(1 for local_id in ids if rt.cancel(local_id, by_user=True))
        if not stopped:
            self.report({"WARNING"}, "No running job to cancel.")
            return {"CANCELLED"}
        return {"FINISHED"}
