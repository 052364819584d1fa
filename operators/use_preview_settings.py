"""scenario.use_preview_settings: copy a preview's settings into the panel, its seed included,
so Upscale with Scenario then makes the whole texture look like it."""

from __future__ import annotations

import bpy
from bpy.props import StringProperty

from ..bridge import addon_data, availability, previews


class SCENARIO_OT_use_preview_settings(bpy.types.Operator):
    bl_idname = "scenario.use_preview_settings"
    bl_label = "Use These Settings"
    bl_description = (
        "Copy this preview's settings into the panel, its seed included, and show the whole "
        "texture again: Upscale with Scenario then runs them on it"
    )
    bl_options = {"REGISTER", "UNDO"}

    image_name: StringProperty(  # type: ignore[valid-type]
        name="Preview", description="Empty: the preview the Image Editor shows",
        options={"SKIP_SAVE"},
    )

    def execute(self, context: bpy.types.Context) -> set[str]:
        image = availability.chosen_image(context, self.image_name)
        if image is None or image.get(previews.PREVIEW_ROLE) != "preview":
            self.report({"ERROR"}, "Choose a preview first (a thumbnail in the Preview panel).")
            return {"CANCELLED"}
        settings = addon_data.upscale_settings(context.scene)
        changed = previews.use_settings(settings, image)
        area = context.area
        if area is not None and area.type == "IMAGE_EDITOR":
            previews.back_to_texture(context, area)
        label = image.get(previews.PREVIEW_LABEL, image.name)
        what = ", ".join(name.replace("_", " ") for name in changed) or "nothing changed"
        self.report({"INFO"}, f"The panel now has the settings of '{label}' ({what}; seed "
                              f"{settings.seed}). Upscale with Scenario runs them on the whole "
                              "texture.")
        return {"FINISHED"}
