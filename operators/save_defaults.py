"""scenario.save_defaults: make this scene's main settings the defaults for new files."""

from __future__ import annotations

import bpy
from bpy.props import BoolProperty

from ..bridge import addon_data, defaults, rna


class SCENARIO_OT_save_defaults(bpy.types.Operator):
    bl_idname = "scenario.save_defaults"
    bl_label = "Save as Defaults"
    bl_description = (
        "Keep the factor, preset and base model as the defaults (in the add-on preferences) for "
        "files that have not set their own; with Reset, load the defaults into this scene instead"
    )
    bl_options = {"REGISTER", "UNDO"}

    reset: BoolProperty(  # type: ignore[valid-type]
        name="Reset", description="Load the defaults into this scene", options={"SKIP_SAVE"}
    )

    def execute(self, context: bpy.types.Context) -> set[str]:
        settings = addon_data.upscale_settings(context.scene)
        if self.reset:
            defaults.apply(settings, only_unset=False)
            self.report({"INFO"}, "Loaded the default upscale settings.")
        else:
            defaults.save(settings)
            rna.preferences(context).is_dirty = True
            self.report({"INFO"}, "Saved as defaults (in the add-on preferences).")
        return {"FINISHED"}
