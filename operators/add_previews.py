"""scenario.add_previews: make a finished preview set's files into images, as one undo step.

Called when a preview set ends (and by Recover); Ctrl+Z takes the previews away, Shift+Ctrl+Z
brings them back. Nothing is sent to Scenario.
"""

from __future__ import annotations

import bpy
from bpy.props import StringProperty

from ..bridge import previews, runtime


class SCENARIO_OT_add_previews(bpy.types.Operator):
    bl_idname = "scenario.add_previews"
    bl_label = "Add Previews"
    bl_description = "Load the previews of a finished preview set as images"
    bl_options = {"UNDO", "INTERNAL"}

    local_id: StringProperty(  # type: ignore[valid-type]
        name="Preview Set", options={"HIDDEN"},
    )

    def execute(self, context: bpy.types.Context) -> set[str]:
        outcome = previews.add(runtime.get(), self.local_id)
        previews.ADDED.hand_back(self.local_id, outcome)
        return {"FINISHED"} if outcome.added else {"CANCELLED"}
