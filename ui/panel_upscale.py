"""Image Editor sidebar, tab "Scenario": the active image, the settings and the running jobs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import bpy

from ..api.prices import credits_text
from ..api.wording import counted, plural
from ..bridge import (
    addon_data,
    availability,
    batch_list,
    connection,
    quotes,
    recovery,
    result_image,
    runtime,
    snapshot,
)
from ..core.job_view import JobView
from ..core.refusal import Refusal
from ..core.states import Stage
from . import settings_lists
from .lines import label_lines
from .parts import draw_batch_question, draw_connection_problem
from .widgets import button

if TYPE_CHECKING:

    # What ScenarioImagePanel is mixed into, so mypy types its bl_ names as the Panel's.
    PanelMixin = bpy.types.Panel
else:
    PanelMixin = object


class ScenarioImagePanel(PanelMixin):
    bl_space_type = "IMAGE_EDITOR"
    bl_region_type = "UI"
    bl_category = "Scenario"


class IMAGE_PT_scenario_upscale(ScenarioImagePanel, bpy.types.Panel):
    bl_label = "Scenario Upscale"

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        if layout is None:
            return
        layout.use_property_decorate = False  # tool settings are not animated
        settings = addon_data.upscale_settings(context.scene)
        image = availability.editor_image(context)
        _draw_image(layout, context, image, int(settings.upscale_factor))
        col = layout.column(align=True)
        col.use_property_split = True
        col.prop(settings, "upscale_factor")
        col.prop(settings, "preset")
        col.prop(settings, "base_model")
        col.prop(settings, "prompt")
        col.prop(settings, "scope")
        row = layout.row(align=True)
        row.operator("scenario.save_defaults", icon="FILE_TICK")
        button(row, "scenario.save_defaults", text="Reset", icon="LOOP_BACK").reset = True
        if not draw_connection_problem(layout, context):
            source = connection.keys_source()
            layout.label(text=f"Keys from the {source}", icon="KEY_HLT")
        _draw_upscale_button(layout, context, image)
        if image is not None:
            _draw_result_actions(layout, image)
            layout.operator("scenario.tiled_preview", icon="MESH_GRID")
        _draw_jobs(layout, context)
        rt = runtime.peek()
        waiting = rt.recoverable(bpy.data.filepath) if rt else []
        if rt and waiting:
            reasons = {recovery.why_not_now(rt, record.local_id) for record in waiting} - {""}
            row = layout.row()
            row.alert = True
            row.enabled = not reasons
            row.operator("scenario.recover_jobs", icon="FILE_REFRESH",
                         text=f"Recover {len(waiting)} Unfinished {plural(len(waiting), 'Upscale')}")
            for reason in sorted(reasons):
                label_lines(layout, context, reason, icon="TIME")


class IMAGE_PT_scenario_upscale_advanced(ScenarioImagePanel, bpy.types.Panel):
    bl_label = "Advanced"
    bl_parent_id = "IMAGE_PT_scenario_upscale"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        if layout is None:
            return
        layout.use_property_split = True
        layout.use_property_decorate = False
        settings = addon_data.upscale_settings(context.scene)
        # What the add-on does to the result (free), then what Scenario is asked for (the
        # tooltips say what each does; the line below says it for the three sliders).
        col = layout.column(heading="Result", align=True)
        col.prop(settings, "keep_alpha")
        col.prop(settings, "check_tiling")
        col.prop(settings, "seam_safe")
        layout.prop(settings, "normal_map")
        col = layout.column(align=True)
        col.prop(settings, "strength")
        col.prop(settings, "controlnet_conditioning_scale")
        col.prop(settings, "num_inference_steps")
        label_lines(layout, context, SLIDERS_HELP, icon="INFO")
        layout.prop(settings, "details_enable")
        row = layout.row(heading="Seed")
        row.prop(settings, "random_seed", text="Random")
        sub = row.row()
        sub.enabled = not settings.random_seed
        sub.prop(settings, "seed", text="")
        settings_lists.draw(layout, settings, "image_prompts", "Style Images (up to 4)")
        if len(settings.image_prompts):
            layout.prop(settings, "image_prompt_strength")
        settings_lists.draw(layout, settings, "loras", "LoRAs (model, strength)")


SLIDERS_HELP = "More strength: more new detail. More structure: closer shapes."


def _draw_image(layout: bpy.types.UILayout, context: bpy.types.Context,
                image: bpy.types.Image | None, factor: int) -> None:
    box = layout.box()
    if image is None:
        box.label(text="No image open", icon="INFO")
        return
    label_lines(box, context, image.name, icon="IMAGE_DATA")
    found = result_image.pair(image)
    if found is not None and image != found[0]:
        # The button upscales the original, not this result: said before it is pressed.
        label_lines(box, context, f"An upscaled result of '{found[0].name}'", icon="INFO")
        image = found[0]
    try:
        facts = snapshot.describe_cached(image)
    except Refusal as exc:
        label_lines(box, context, str(exc), icon="ERROR")
        return
    if facts.tiles:
        numbers = [t.number for t in facts.tiles]
        where = KIND_WORDS.get(facts.kind.split(", ")[-1], "")
        box.label(text=f"{counted(len(numbers), 'UDIM tile')} ({min(numbers)}–{max(numbers)})")
        if where:
            box.label(text=where.capitalize())
    else:
        label_lines(box, context, f"{facts.width}×{facts.height} px, "
                                  f"{KIND_WORDS.get(facts.kind, facts.kind)}")
    box.label(text=f"Color space: {facts.colorspace}")
    if facts.tiles:
        side = max(max(t.width, t.height) for t in facts.tiles) * factor
        box.label(text=f"Result: each tile ×{factor}, up to {side} px")
    else:
        box.label(text=f"Result: {facts.width * factor}×{facts.height * factor} px")


# Where the pixels that would be sent are, in words (ImageFacts.kind).
KIND_WORDS = {"file": "saved as a file", "packed": "packed in the .blend",
              "generated": "generated in Blender", "edited": "painted, not saved yet",
              "memory": "in memory only (its file is missing)"}


def _draw_upscale_button(layout: bpy.types.UILayout, context: bpy.types.Context,
                         image: bpy.types.Image | None) -> None:
    """The big button with the price when it was checked, and Check Price beside it. With a
    result open, both are for its original, and say so."""
    found = result_image.pair(image) if image is not None else None
    original = found[0] if found is not None and image != found[0] else None
    target = original or image
    quote = quotes.current(runtime.peek(), target, addon_data.upscale_settings(context.scene))
    row = layout.row()
    row.scale_y = 1.4
    if quote is not None and quote.cost is not None:
        text = f"Upscale{' Original' if original else ''} for {credits_text(quote.cost)}"
    else:
        text = "Upscale the Original" if original else "Upscale with Scenario"
    upscale = button(row, "scenario.upscale_image", text=text, icon="IMAGE_PLANE")
    if original is not None:
        upscale.image_name = original.name
    if quote is None:
        price = button(layout, "scenario.price_image", icon="VIEWZOOM")
        if original is not None:
            price.image_name = original.name


def _draw_result_actions(layout: bpy.types.UILayout, image: bpy.types.Image) -> None:
    """For an image with an upscaled result in the file, or a result: the other one a click
    away, their difference, and the way back."""
    found = result_image.pair(image)
    if found is None:
        return
    row = layout.row(align=True)
    original, result = found
    if image != original:
        button(row, "scenario.compare_images", text="Show Original", icon="HIDE_OFF").mode = \
            "ORIGINAL"
    if image != result:
        button(row, "scenario.compare_images", text="Show Result", icon="HIDE_OFF").mode = \
            "RESULT"
    if image in found:
        button(row, "scenario.compare_images", text="Difference",
               icon="SELECT_DIFFERENCE").mode = "DIFFERENCE"
    layout.operator("scenario.revert_image", icon="LOOP_BACK")


def _draw_jobs(layout: bpy.types.UILayout, context: bpy.types.Context) -> None:
    """Each running job once: a batch's are in the batch list, which this only sums up."""
    rt = runtime.peek()
    in_batches = batch_list.batch_ids(rt)
    views = [v for v in rt.running() if v.record is not None and v.local_id not in in_batches
             ] if rt else []
    for view in views:
        box = layout.box()
        row = box.row()
        row.label(text=view.title, icon="TIME")
        row.label(text=f"{view.elapsed:.0f} s")
        op = button(row, "scenario.cancel_job", text="", icon="CANCEL")
        op.local_id = view.local_id
        if view.stage == Stage.WAITING_SLOT:  # a long line: whole lines, not a bar
            label_lines(box, context, view.stage_text, icon="SORTTIME")
        else:
            box.progress(factor=view.fraction or 0.0, type="BAR", text=view.stage_text)
        if view.tiles:
            col = box.column(align=True)
            for tile in view.tiles:
                label_lines(col, context, f"{tile.tile}: {tile.text}",
                            icon="CHECKMARK" if tile.done else "UV")
        for index, line in enumerate(view.estimate):
            label_lines(box, context, line, icon="INFO" if index == 0 else "BLANK1")
        if view.question is not None:
            _draw_question(box.column(align=True), context, view)
    batch = batch_list.latest(rt)
    if batch is not None and not batch.ended:
        box = layout.box()
        label_lines(box, context, f"Batch: {batch.summary_text()}", icon="SORTTIME")
        if batch.question is not None:
            draw_batch_question(box.column(align=True), context, batch)
        else:
            label_lines(box, context, "Each image: All Textures of Selection, below, or the "
                                      "Shader Editor's Scenario tab")


def _draw_question(col: bpy.types.UILayout, context: bpy.types.Context,
                   view: JobView) -> None:
    col.alert = True
    question = view.question
    cost, limit = credits_text(question.cost), credits_text(question.limit)
    if question.previews:
        text = question.note or f"{counted(question.previews, 'preview')}, {cost}"
        text += f"; your limit: {limit}"
    elif question.tiles:
        text = f"{counted(question.tiles, 'tile')}, {cost} (your limit: {limit})"
        if question.batch_total is not None:
            text += f"; the batch with them: {credits_text(question.batch_total)}"
    elif question.batch_total is not None:
        text = (f"With this image the batch costs {credits_text(question.batch_total)} (your "
                f"limit: {limit}); yes covers the rest")
    else:
        text = f"Costs {cost} (your limit: {limit})"
    label_lines(col, context, text)
    pay = button(col, "scenario.answer_price", icon="CHECKMARK",
                 text="Pay for Previews" if question.previews else "Pay and Upscale")
    pay.local_id, pay.pay = view.local_id, True
    stop = button(col, "scenario.answer_price", text="Don't Pay", icon="CANCEL")
    stop.local_id, stop.pay = view.local_id, False


classes = (IMAGE_PT_scenario_upscale, IMAGE_PT_scenario_upscale_advanced)
