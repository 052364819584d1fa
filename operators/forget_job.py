"""scenario.forget_job: remove a job from Recent Jobs (its result file stays on disk)."""

from __future__ import annotations

import bpy
from bpy.props import StringProperty

from ..bridge import runtime


class SCENARIO_OT_forget_job(bpy.types.Operator):
    bl_idname = "scenario.forget_job"
    bl_label = "Forget"
    bl_description = "Remove this job from Recent Jobs; files already saved stay where they are"
    bl_options = {"INTERNAL"}

    local_id: StringProperty(options={"SKIP_SAVE"})  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> set[str]:
        rt = runtime.get()
        # A downloaded result waiting to be applied counts too: its operator is about to.
        if rt.is_busy(self.local_id) or any(v.local_id == self.local_id for v in rt.running()):
            self.report({"WARNING"}, "This job is still running or stopping: cancel it first, "
                                     "or wait a moment.")
            return {"CANCELLED"}
        if not rt.forget(self.local_id):
            self.report({"WARNING"}, "This job's journal entry was left as it is: it was written "
                                     "by a newer version of the add-on, or it is damaged (see "
                                     "the log).")
            return {"CANCELLED"}
        return {"FINISHED"}
