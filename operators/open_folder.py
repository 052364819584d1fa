"""scenario.open_folder: the folder results are saved to, or one result's, in the file manager."""

from __future__ import annotations

import os

import bpy
from bpy.props import StringProperty

from ..bridge import folders


class SCENARIO_OT_open_folder(bpy.types.Operator):
    bl_idname = "scenario.open_folder"
    bl_label = "Open Output Folder"
    bl_options = {"INTERNAL"}

    filepath: StringProperty(  # type: ignore[valid-type]
        name="Result", options={"SKIP_SAVE", "HIDDEN"},
        description="A result file: its folder is opened; empty: the output folder",
    )

    @classmethod
    def description(cls, context: bpy.types.Context, properties: bpy.types.OperatorProperties
                    ) -> str:
        if properties.filepath:
            return f"Open the folder that holds this result in the file manager: {properties.filepath}"
        return ("Open the folder upscaled textures are saved to in the file manager (Output "
                f"Folder in the preferences): {folders.output_folder()}")

    def execute(self, context: bpy.types.Context) -> set[str]:
        folder = os.path.dirname(self.filepath) if self.filepath else str(folders.output_folder())
        if not os.path.isdir(folder):
            self.report({"WARNING"}, f"{folder} does not exist yet: the first upscale saved "
                                     "there makes it.")
            return {"CANCELLED"}
        folders.open_path(folder)
        return {"FINISHED"}
