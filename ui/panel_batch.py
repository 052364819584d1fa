"""Batch upscale panels: Shader Editor sidebar (tab "Scenario"), Material Properties and an Image
Editor sub-panel. Each shows the batch settings, the button and the per-image list of the last
batch (status, cancel one, cancel all, summary)."""

from __future__ import annotations

import bpy

from ..bridge import addon_data, batch_list, runtime
from ..bridge.batch_settings import ScenarioBatchList, ScenarioBatchRow
from ..core.roles import ROLE_LABELS
from ..core.states import ItemStatus
from .lines import label_lines
from .parts import draw_batch_question, draw_connection_problem
from .widgets import Icon, button, fold

STATUS_ICONS: dict[ItemStatus, Icon] = {
    ItemStatus.QUEUED: "TIME", ItemStatus.RUNNING: "SORTTIME", ItemStatus.DONE: "CHECKMARK",
    ItemStatus.PRICED: "TIME",
    ItemStatus.FAILED: "ERROR", ItemStatus.CANCELLED: "CANCEL", ItemStatus.SKIPPED: "FORWARD",
    ItemStatus.DECLINED: "X",
}
DATA_ROLE_PROPS = ("normal", "roughness", "metallic", "height", "alpha", "other_data")


class SCENARIO_UL_batch(bpy.types.UIList):
    """One row per image of the last batch; the status is read live from the runtime. In
    Material Properties, only the images of that material."""

    def filter_items(self, context: bpy.types.Context, data: ScenarioBatchList,
                     propname: str) -> tuple[list[int], list[int]]:
        rows = getattr(data, propname)
        material = _panel_material(context)
        if material is None:
            return [], []
        shown = _material_rows(data, material)
        return [self.bitflag_filter_item if index in shown else 0
                for index in range(len(rows))], []

    def draw_item(self, context: bpy.types.Context, layout: bpy.types.UILayout,
                  data: ScenarioBatchList, item: ScenarioBatchRow, icon: int,
                  active_data: bpy.types.AnyType, active_property: str, index: int = 0,
                  flt_flag: int = 0) -> None:
        rt = runtime.peek()
        batch = rt.batches.get(data.batch_id) if rt else None
        entry = batch.items[index] if batch and index < len(batch.items) else None
        if rt is None or entry is None:
            layout.label(text=item.image, icon="IMAGE_DATA")
            return
        row = layout.row(align=True)
        split = row.split(factor=0.65)  # the status column is a word or two
        split.label(text=entry.image, icon=STATUS_ICONS.get(entry.status, "DOT"))
        split.label(text=batch_list.status_word(rt, entry))
        if entry.status == ItemStatus.PRICED:
            button(row, "scenario.cancel_job", text="", icon="CANCEL").local_id = entry.local_id
            return
        view = batch_list.live_view(rt, entry)
        if view is None:
            return
        if getattr(view, "question", None) is not None:
            pay = button(row, "scenario.answer_price", text="", icon="CHECKMARK")
            pay.local_id, pay.pay = entry.local_id, True
            decline = button(row, "scenario.answer_price", text="", icon="X")
            decline.local_id, decline.pay = entry.local_id, False
        button(row, "scenario.cancel_job", text="", icon="CANCEL").local_id = entry.local_id


def draw_batch(layout: bpy.types.UILayout, context: bpy.types.Context, *,
               scope_name: str = "", text: str = "Upscale All Textures") -> None:
    """Settings, the start button and the list. ``scope_name`` fixes the scope of the button."""
    settings = addon_data.batch_settings(context.scene)
    colour = addon_data.upscale_settings(context.scene)
    layout.use_property_decorate = False
    col = layout.column(align=True)
    col.use_property_split = True
    if not scope_name:
        col.prop(settings, "scope")
    col.prop(colour, "upscale_factor")
    col.prop(colour, "preset", text="Color Preset")
    header, body = fold(layout, f"scenario_batch_data_maps_{scope_name or 'any'}",
                        default_closed=True)
    header.label(text="Data Maps")
    if body is not None:
        body.use_property_split = True
        for name in DATA_ROLE_PROPS:
            body.prop(settings, name)
        body.prop(settings, "data_strength")
    draw_connection_problem(layout, context)
    row = layout.row()
    row.scale_y = 1.3
    op = button(row, "scenario.upscale_materials", text=text, icon="NODE_TEXTURE")
    if scope_name:
        op.scope = scope_name
    draw_list(layout, context)


def _panel_material(context: bpy.types.Context) -> bpy.types.Material | None:
    """The material whose Material Properties draw the list, else None (every row shows)."""
    space = getattr(context, "space_data", None)
    return getattr(context, "material", None) if getattr(space, "type", "") == "PROPERTIES" \
        else None


def _material_rows(state: ScenarioBatchList, material: bpy.types.Material) -> set[int]:
    """The rows of the batch's images that ``material`` uses."""
    rt = runtime.peek()
    batch = rt.batches.get(state.batch_id) if rt else None
    if batch is None:
        return set()
    return {index for index, item in enumerate(batch.items) if material.name in item.materials}


def draw_list(layout: bpy.types.UILayout, context: bpy.types.Context) -> None:
    """The last batch: its question while it waits for one, its images (in Material
    Properties only those of the material), the active one in full, and what it spent."""
    state = addon_data.batch_list(context.window_manager)
    rt = runtime.peek()
    batch = rt.batches.get(state.batch_id) if rt else None
    if rt is None or batch is None or not len(state.rows):
        return
    material = _panel_material(context)
    shown = (_material_rows(state, material) if material is not None
             else set(range(len(batch.items))))
    if not shown:
        return  # another material's batch
    if batch.question is not None:
        draw_batch_question(layout.column(align=True), context, batch)
    layout.template_list("SCENARIO_UL_batch", "", state, "rows", state, "active",
                         rows=min(max(len(shown), 2), 8))
    if state.active in shown and state.active < len(batch.items):
        entry = batch.items[state.active]  # the active row in full, as Blender's lists do
        role = ROLE_LABELS.get(entry.role, entry.role)
        label_lines(layout, context, f"{entry.image} ({role}): {batch_list.status_text(rt, entry)}",
                    icon=STATUS_ICONS.get(entry.status, "DOT"))
    label_lines(layout, context, batch.summary_text(),
                icon="INFO" if batch.ended else "SORTTIME")
    if batch.pending:
        button(layout, "scenario.cancel_job", text="Cancel All", icon="CANCEL").local_id = ""


class NODE_PT_scenario_batch(bpy.types.Panel):
    bl_space_type = "NODE_EDITOR"
    bl_region_type = "UI"
    bl_category = "Scenario"
    bl_label = "Scenario Upscale"

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        space = context.space_data
        return space is not None and getattr(space, "tree_type", "") == "ShaderNodeTree"

    def draw(self, context: bpy.types.Context) -> None:
        if self.layout is not None:
            draw_batch(self.layout, context)


class MATERIAL_PT_scenario_batch(bpy.types.Panel):
    bl_space_type = "PROPERTIES"
    bl_region_type = "WINDOW"
    bl_context = "material"
    bl_label = "Scenario Upscale"
    bl_options = {"DEFAULT_CLOSED"}

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return context.material is not None

    def draw(self, context: bpy.types.Context) -> None:
        if self.layout is not None:
            draw_batch(self.layout, context, scope_name="ACTIVE_MATERIAL",
                       text="Upscale This Material's Textures")


class IMAGE_PT_scenario_batch(bpy.types.Panel):
    bl_space_type = "IMAGE_EDITOR"
    bl_region_type = "UI"
    bl_category = "Scenario"
    bl_label = "All Textures of Selection"
    bl_parent_id = "IMAGE_PT_scenario_upscale"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        if layout is None:
            return
        row = layout.row()
        row.scale_y = 1.3
        op = button(row, "scenario.upscale_materials", text="Upscale All Textures of Selection",
                    icon="NODE_TEXTURE")
        op.scope = "SELECTED_OBJECTS"
        draw_list(layout, context)


classes = (SCENARIO_UL_batch, NODE_PT_scenario_batch, MATERIAL_PT_scenario_batch,
           IMAGE_PT_scenario_batch)
