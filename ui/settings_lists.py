"""The settings' editable lists (style images, LoRAs, the values a preview compares), drawn as
Blender draws its own: a list with Add and Remove beside it, Remove acting on the selected entry."""

from __future__ import annotations

import bpy

from ..bridge.settings import LIST_LIMITS, VARIANT_ATTRIBUTES, ScenarioUpscaleSettings
from .widgets import button


class SCENARIO_UL_settings_entries(bpy.types.UIList):
    """An entry per row, edited in place: a style image, a LoRA and its strength, or the value
    of the setting a preview set compares."""

    def draw_item(self, context: bpy.types.Context, layout: bpy.types.UILayout,
                  data: ScenarioUpscaleSettings, item: bpy.types.PropertyGroup, icon: int,
                  active_data: bpy.types.AnyType, active_property: str, index: int = 0,
                  flt_flag: int = 0) -> None:
        if active_property == "image_prompts_index":
            layout.prop(item, "image", text="")
        elif active_property == "loras_index":
            split = layout.split(factor=0.65, align=True)  # the id reads whole, the number fits
            split.prop(item, "model", text="", placeholder="Model id or URL")
            split.prop(item, "scale", text="")
        else:
            layout.prop(item, VARIANT_ATTRIBUTES.get(data.variant_field, "seed"), text="")


def draw(layout: bpy.types.UILayout, settings: ScenarioUpscaleSettings, name: str,
         title: str) -> None:
    """``settings.<name>`` under ``title``, with its Add and Remove buttons."""
    entries = getattr(settings, name)
    layout.label(text=title)
    row = layout.row()
    row.template_list("SCENARIO_UL_settings_entries", name, settings, name, settings,
                      f"{name}_index", rows=2)
    col = row.column(align=True)
    most, _what = LIST_LIMITS[name]
    add = col.row(align=True)
    add.enabled = len(entries) < most
    button(add, "scenario.edit_settings_list", text="", icon="ADD").list_name = name
    remove = col.row(align=True)
    remove.enabled = len(entries) > 0
    properties = button(remove, "scenario.edit_settings_list", text="", icon="REMOVE")
    properties.list_name, properties.action = name, "REMOVE"


classes = (SCENARIO_UL_settings_entries,)
