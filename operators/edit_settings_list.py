"""scenario.edit_settings_list: add or remove a style image, a LoRA or a value to compare in the
scene settings."""

from __future__ import annotations

import bpy
from bpy.props import EnumProperty, IntProperty

from ..bridge import addon_data

# List → the most entries it may hold, and what they are called in messages.
LISTS = {"image_prompts": (4, "style images"), "loras": (8, "LoRAs"),
         "variants": (4, "values to compare")}


class SCENARIO_OT_edit_settings_list(bpy.types.Operator):
    bl_idname = "scenario.edit_settings_list"
    bl_label = "Edit List"
    bl_description = "Add an entry to the list, or remove this one"
    bl_options = {"INTERNAL", "UNDO"}

    list_name: EnumProperty(  # type: ignore[valid-type]
        items=[("image_prompts", "Style Images", ""), ("loras", "LoRAs", ""),
               ("variants", "Values to Compare", "")]
    )
    action: EnumProperty(items=[("ADD", "Add", ""), ("REMOVE", "Remove", "")])  # type: ignore[valid-type]
    index: IntProperty(default=-1)  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> set[str]:
        items = getattr(addon_data.upscale_settings(context.scene), self.list_name)
        if self.action == "ADD":
            most, what = LISTS[self.list_name]
            if len(items) >= most:
                self.report({"ERROR"}, f"Scenario takes at most {most} {what}.")
                return {"CANCELLED"}
            added = items.add()
            if self.list_name == "variants" and len(items) > 1:  # the last value, to change
                for name in ("preset", "strength", "base_model", "seed", "prompt"):
                    setattr(added, name, getattr(items[len(items) - 2], name))
        elif 0 <= self.index < len(items):
            items.remove(self.index)
        else:
            return {"CANCELLED"}
        return {"FINISHED"}
