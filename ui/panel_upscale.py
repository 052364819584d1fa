"""Image Editor sidebar, tab "Scenario": the active image, the settings and the running jobs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import bpy

from ..bridge import availability, connection, runtime, snapshot
from ..bridge.apply import PROVENANCE_SOURCE
from ..core.refusal import Refusal


class ScenarioImagePanel:
    bl_space_type = "IMAGE_EDITOR"
    bl_region_type = "UI"
    bl_category = "Scenario"


class IMAGE_PT_scenario_upscale(ScenarioImagePanel, bpy.types.Panel):
    bl_label = "Scenario Upscale"

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        settings = context.scene.scenario_upscale
        image = availability.editor_image(context)
        _draw_image(layout, image, int(settings.upscale_factor))
        col = layout.column(align=True)
        col.use_property_split = True
        col.prop(settings, "upscale_factor")
        col.prop(settings, "preset")
        col.prop(settings, "base_model")
        col.prop(settings, "prompt")
        col.prop(settings, "scope")
        row = layout.row(align=True)
        row.operator("scenario.save_defaults", icon="FILE_TICK")
        row.operator("scenario.save_defaults", text="Reset", icon="LOOP_BACK").reset = True
        problem = availability.why_cannot_connect()
        if problem:
            layout.label(text=problem, icon="ERROR")
        else:
            source = connection.keys_source()
            layout.label(text=f"Keys from the {source}", icon="KEY_HLT")
        row = layout.row()
        row.scale_y = 1.4
        row.operator("scenario.upscale_image", icon="IMAGE_PLANE")
        if image is not None and PROVENANCE_SOURCE in image:
            layout.operator("scenario.revert_image", icon="LOOP_BACK")
            row = layout.row(align=True)
            for mode, text in (("ORIGINAL", "A: Original"), ("RESULT", "B: Result"),
                               ("DIFFERENCE", "Difference")):
                row.operator("scenario.compare_images", text=text).mode = mode
        if image is not None:
            layout.operator("scenario.tiled_preview", icon="MESH_GRID")
        _draw_jobs(layout)
        rt = runtime.peek()
        waiting = rt.recoverable(bpy.data.filepath) if rt else []
        if waiting:
            row = layout.row()
            row.alert = True
            row.operator("scenario.recover_jobs", icon="FILE_REFRESH",
                         text=f"Recover {len(waiting)} Unfinished Upscale(s)")


class IMAGE_PT_scenario_upscale_advanced(ScenarioImagePanel, bpy.types.Panel):
    bl_label = "Advanced"
    bl_parent_id = "IMAGE_PT_scenario_upscale"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        layout.use_property_split = True
        settings = context.scene.scenario_upscale
        col = layout.column(heading="Keep", align=True)
        col.prop(settings, "keep_alpha")
        col.prop(settings, "normal_map")
        col.prop(settings, "check_tiling")
        col.prop(settings, "seam_safe")
        col = layout.column(align=True)
        col.prop(settings, "strength")
        col.prop(settings, "controlnet_conditioning_scale")
        col.prop(settings, "num_inference_steps")
        col.prop(settings, "details_enable")
        row = layout.row(heading="Seed")
        row.prop(settings, "random_seed", text="Random")
        sub = row.row()
        sub.enabled = not settings.random_seed
        sub.prop(settings, "seed", text="")
        _draw_list(layout, settings, "image_prompts", "Style Images (up to 4)",
                   lambda row, item: row.prop(item, "image", text=""))
        if len(settings.image_prompts):
            layout.prop(settings, "image_prompt_strength")
        _draw_list(layout, settings, "loras", "LoRAs",
                   lambda row, item: (row.prop(item, "model", text=""),
                                      row.prop(item, "scale", text="")))


def _draw_list(layout: bpy.types.UILayout, settings: bpy.types.PropertyGroup, name: str,
               title: str, draw_item: Callable[[bpy.types.UILayout, Any], object]) -> None:
    row = layout.row()
    row.label(text=title)
    add = row.operator("scenario.edit_settings_list", text="", icon="ADD")
    add.list_name, add.action = name, "ADD"
    for index, item in enumerate(getattr(settings, name)):
        row = layout.row(align=True)
        draw_item(row, item)
        remove = row.operator("scenario.edit_settings_list", text="", icon="X")
        remove.list_name, remove.action, remove.index = name, "REMOVE", index


def _draw_image(layout: bpy.types.UILayout, image: bpy.types.Image | None, factor: int) -> None:
    box = layout.box()
    if image is None:
        box.label(text="No image open", icon="INFO")
        return
    box.label(text=image.name, icon="IMAGE_DATA")
    try:
        facts = snapshot.describe_cached(image)
    except Refusal as exc:
        box.label(text=str(exc), icon="ERROR")
        return
    box.label(text=f"{facts.width}×{facts.height} px, {facts.kind}, {facts.colorspace}")
    box.label(text=f"Result: {facts.width * factor}×{facts.height * factor} px")


def _draw_jobs(layout: bpy.types.UILayout) -> None:
    rt = runtime.peek()
    views = [v for v in rt.running() if v.record is not None] if rt else []
    for view in views:
        box = layout.box()
        row = box.row()
        row.label(text=view.title, icon="TIME")
        row.label(text=f"{view.elapsed:.0f} s")
        op = row.operator("scenario.cancel_job", text="", icon="CANCEL")
        op.local_id = view.local_id
        box.progress(factor=view.fraction or 0.0, type="BAR", text=view.stage_text)
        if view.estimate:
            box.label(text=view.estimate, icon="INFO")
        if view.question is not None:
            col = box.column(align=True)
            col.alert = True
            question = view.question
            if question.batch_total is not None:
                col.label(text=f"With this image the batch costs {question.batch_total:g} credits "
                               f"(your limit: {question.limit:g}); yes covers the rest")
            else:
                col.label(text=f"Costs {question.cost:g} credits (your limit: {question.limit:g})")
            row = col.row(align=True)
            pay = row.operator("scenario.answer_price", text="Pay and Upscale", icon="CHECKMARK")
            pay.local_id, pay.pay = view.local_id, True
            stop = row.operator("scenario.answer_price", text="Don't Pay", icon="CANCEL")
            stop.local_id, stop.pay = view.local_id, False


classes = (IMAGE_PT_scenario_upscale, IMAGE_PT_scenario_upscale_advanced)
