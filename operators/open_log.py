"""scenario.open_log: the add-on's log, where a failed job's details are, under its id."""

from __future__ import annotations

import bpy

from ..bridge import folders


class SCENARIO_OT_open_log(bpy.types.Operator):
    bl_idname = "scenario.open_log"
    bl_label = "Open Log"
    bl_options = {"INTERNAL"}

    @classmethod
    def description(cls, context: bpy.types.Context, properties: bpy.types.OperatorProperties
                    ) -> str:
        where = folders.log_file()
        return ("Open the add-on's log, where each job's steps and failures are written under "
                f"its id: {where or 'not written yet'}")

    def execute(self, context: bpy.types.Context) -> set[str]:
        path = folders.log_file()
        if path is None or not path.is_file():
            self.report({"WARNING"}, "The add-on has written no log yet.")
            return {"CANCELLED"}
        folders.open_path(path)
        return {"FINISHED"}
