"""scenario.apply_result: switch the nodes in scope to a result already on disk.

The paid operators never register for redo or repeat: Blender would re-run their ``execute``
and pay again. Their swap is this operator instead, so it is the undo step, the Adjust Last
Operation panel and what Repeat Last repeats, and all three re-apply the same file for free.
"""

from __future__ import annotations

import bpy
from bpy.props import EnumProperty, StringProperty

from ..bridge import apply, runtime
from ..bridge.settings import SCOPE_ITEMS


class SCENARIO_OT_apply_result(bpy.types.Operator):
    bl_idname = "scenario.apply_result"
    bl_label = "Apply Upscaled Result"
    bl_description = "Use an upscaled result that is already saved in the materials in scope"
    bl_options = {"REGISTER", "UNDO", "INTERNAL"}

    local_id: StringProperty(  # type: ignore[valid-type]
        name="Job", description="The job whose result to apply", options={"HIDDEN"},
    )
    scope: EnumProperty(  # type: ignore[valid-type]
        name="Apply To", items=SCOPE_ITEMS, default="SELECTED_OBJECTS",
        description="Which Image Texture nodes switch to the upscaled image",
    )

    def execute(self, context: bpy.types.Context) -> set[str]:
        rt = runtime.get()
        first_time = apply.is_waiting(rt, self.local_id)
        outcome = apply.apply_job(rt, context, self.local_id, self.scope, first_time)
        # The first time, the operator that ran the job reports how it went; a redo or a
        # repeat has no such caller.
        if not first_time:
            self.report({outcome.level}, outcome.message)
        return {"FINISHED"} if outcome.applied is not None else {"CANCELLED"}
