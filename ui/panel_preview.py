"""Image Editor sidebar, "Scenario" ▸ Try Before You Pay: the crop's size, what to compare, the
Preview button, and the previews of the texture as a row of thumbnails with what they do."""

from __future__ import annotations

from typing import TYPE_CHECKING

import bpy

from ..bridge import addon_data, availability, previews
from ..bridge.settings import VARIANT_ATTRIBUTES
from ..core.preview import MAX_VARIANTS
from ..core.text_fit import fit_lines
from . import settings_lists
from .lines import RESERVED_PX, _measure, _scale, label_lines
from .panel_upscale import ScenarioImagePanel
from .widgets import button

if TYPE_CHECKING:
    from ..bridge.settings import ScenarioUpscaleSettings

# Room a thumbnail needs at 1×, in pixels: its label and its button must read whole.
THUMB_MIN_PX = 60
ICON_UNIT_PX = 20  # a template_icon scale unit at 1×


class IMAGE_PT_scenario_preview(ScenarioImagePanel, bpy.types.Panel):
    bl_label = "Try Before You Pay"
    bl_parent_id = "IMAGE_PT_scenario_upscale"

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        if layout is None:
            return
        layout.use_property_decorate = False
        settings = addon_data.upscale_settings(context.scene)
        shown = availability.editor_image(context)
        texture = previews.texture_of(shown) if shown is not None else None
        col = layout.column(align=True)
        col.use_property_split = True
        col.prop(settings, "preview_size")
        col.prop(settings, "show_preview_frame")
        col.prop(settings, "variant_field")
        _draw_values(layout, settings)
        count = len(settings.variants) if settings.variant_field != "NONE" else 1
        row = layout.row()
        row.scale_y = 1.4
        row.operator("scenario.preview_upscale", icon="ZOOM_SELECTED",
                     text="Preview" if count <= 1 else f"Preview {count} Values")
        if texture is not None:
            _draw_previews(layout, context, texture, shown)


def _draw_values(layout: bpy.types.UILayout, settings: ScenarioUpscaleSettings) -> None:
    if settings.variant_field in VARIANT_ATTRIBUTES:
        settings_lists.draw(layout, settings, "variants", f"Values to Compare (up to {MAX_VARIANTS})")


def _draw_previews(layout: bpy.types.UILayout, context: bpy.types.Context,
                   texture: bpy.types.Image, shown: bpy.types.Image | None) -> None:
    made = previews.of_texture(texture.name)
    if not made:
        return
    box = layout.box()
    room = _room(context)
    scale = _scale(context)
    columns = max(1, min(len(made), MAX_VARIANTS, int(room // (THUMB_MIN_PX * scale))))
    width = room / columns
    icon_scale = max(2.0, min(6.0, width / (ICON_UNIT_PX * scale) - 0.6))
    measure = _measure(context)
    for index, image in enumerate(made):
        if index % columns == 0:
            row = box.row()
        cell = row.column(align=True)
        for line in fit_lines(str(image.get(previews.PREVIEW_LABEL, "")), width - 8 * scale,
                              measure):
            cell.label(text=line)
        cell.template_icon(icon_value=cell.icon(image), scale=icon_scale)
        showing = shown is not None and shown == image
        op = button(cell, "scenario.show_preview", text="Shown" if showing else "Show",
                    depress=showing)
        op.image_name, op.mode = image.name, "PREVIEW"
    role = shown.get(previews.PREVIEW_ROLE) if shown is not None else None
    if role is not None:
        chosen = shown if role == "preview" else None
        if chosen is not None:
            params = previews.params_of(chosen)
            label_lines(box, context, f"{chosen.get(previews.PREVIEW_LABEL, '')}: seed "
                                      f"{params.get('seed', '?')}, preset "
                                      f"{params.get('preset', '?')}, strength "
                                      f"{params.get('strength', '?')}", icon="INFO")
        else:
            label_lines(box, context, "The crop of the original, at the previews' size",
                        icon="INFO")
        row = box.row(align=True)
        button(row, "scenario.show_preview", text="A/B", icon="ARROW_LEFTRIGHT").mode = "AB"
        button(row, "scenario.show_preview", text="Back to Texture", icon="LOOP_BACK").mode = \
            "TEXTURE"
        if chosen is not None:
            button(box, "scenario.use_preview_settings", icon="CHECKMARK").image_name = \
                chosen.name
    button(box, "scenario.clear_previews", icon="TRASH").image_name = texture.name


def _room(context: bpy.types.Context) -> float:
    region = getattr(context, "region", None)
    width = float(getattr(region, "width", 0) or 0)
    if not width:
        return 4 * THUMB_MIN_PX  # drawn without a region (a test): four a row
    return width - RESERVED_PX * _scale(context)


classes = (IMAGE_PT_scenario_preview,)
