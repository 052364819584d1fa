"""scenario.edit_settings_list: add an entry to one of the scene settings' lists (style images,
LoRAs, values to compare), or remove one (the list's active entry unless an index is given)."""

from __future__ import annotations

import bpy
from bpy.props import EnumProperty, IntProperty

from ..bridge import addon_data
from ..bridge.settings import LIST_LIMITS


class SCENARIO_OT_edit_settings_list(bpy.types.Operator):
    bl_idname = "scenario.edit_settings_list"
    bl_label = "Edit List"
    bl_description = "Add an entry to the list, or remove the selected one"
    bl_options = {"INTERNAL", "UNDO"}

    list_name: EnumProperty(  # type: ignore[valid-type]
        items=[("image_prompts", "Style Images", ""), ("loras", "LoRAs", ""),
               ("variants", "Values to Compare", "")]
    )
    action: EnumProperty(items=[("ADD", "Add", ""), ("REMOVE", "Remove", "")])  # type: ignore[valid-type]
    index: IntProperty(default=-1)  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> set[str]:
        settings = addon_data.upscale_settings(context.scene)
        items = getattr(settings, self.list_name)
        active = f"{self.list_name}_index"  # the entry selected in the list
        if self.action == "ADD":
            most, what = LIST_LIMITS[self.list_name]
            if len(items) >= most:
                self.report({"ERROR"}, f"At most {most} {what} can be used: remove one first.")
                return {"CANCELLED"}
            added = items.add()
            if self.list_name == "variants" and len(items) > 1:  # the last value, to change
                for name in ("preset", "strength", "base_model", "seed", "prompt"):
                    setattr(added, name, getattr(items[len(items) - 2], name))
            setattr(settings, active, len(items) - 1)
            return {"FINISHED"}
        index = self.index if self.index >= 0 else getattr(settings, active)
        if not 0 <= index < len(items):
            return {"CANCELLED"}
        items.remove(index)
        setattr(settings, active, min(index, len(items) - 1) if len(items) else 0)
        return {"FINISHED"}
