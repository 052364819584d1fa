"""scenario.cancel_job: stop waiting for a running job (all of them when no id is given)."""

from __future__ import annotations

import bpy
from bpy.props import StringProperty

from ..bridge import batch_conclude, runtime


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
        if self.local_id:
            stopped = int(rt.cancel(self.local_id, by_user=True)
                          or batch_conclude.cancel_one(rt, self.local_id))
        else:
            # Priced images of a batch are waiting for its total, not running: ended too.
            stopped = sum(batch_conclude.cancel(rt, batch, by_user=True)
                          for batch in rt.batches.values())
            stopped += sum(1 for v in rt.running() if rt.cancel(v.local_id, by_user=True))
        if not stopped:
            self.report({"WARNING"}, "No running job to cancel.")
            return {"CANCELLED"}
        return {"FINISHED"}
