"""The Image Editor panels and the preferences, drawn headless through a checking stand-in
layout: every property and operator they name exists, and what a user needs is there."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import bpy
import pytest
import scenes
from fake_ui import Drawing, FakeLayout, FakeOperator, draw, operators, texts

pytestmark = pytest.mark.usefixtures("clean_file", "prefs")


def module(addon: str, name: str):
    return sys.modules[f"{addon}.{name}"]


def test_main_panel_shows_the_image_the_result_size_and_the_button(addon, tmp_path: Path) -> None:
    brick = scenes.texture_file(tmp_path, "brick", 64, 32)
    ui = module(addon, "ui.panel_upscale")
    log = draw(ui.IMAGE_PT_scenario_upscale, brick)
    shown = texts(log)
    assert "64×32 px, file" in shown and "Result: 128×64 px" in shown
    assert "Keys from the preferences" in shown
    assert "scenario.upscale_image" in operators(log)
    assert "scenario.revert_image" not in operators(log)

    log = draw(ui.IMAGE_PT_scenario_upscale, None)
    assert "No image open" in texts(log)


def test_a_result_offers_its_original_and_an_original_its_result(addon, tmp_path: Path) -> None:
    brick = scenes.texture_file(tmp_path, "brick", 32, 32)
    bpy.ops.scenario.upscale_image(image_name="brick", scope="NONE")
    result = next(i for i in bpy.data.images if i.get("scenario_source_image") == brick.name)
    log = draw(module(addon, "ui.panel_upscale").IMAGE_PT_scenario_upscale, result)
    ops = operators(log)
    compare = [e for e in log if isinstance(e, FakeOperator) and e.idname == "scenario.compare_images"]
    assert "scenario.revert_image" in ops and [c.values["mode"] for c in compare] == [
        "ORIGINAL", "DIFFERENCE"]
    assert "scenario.tiled_preview" in ops

    log = draw(module(addon, "ui.panel_upscale").IMAGE_PT_scenario_upscale, brick)
    compare = [e for e in log if isinstance(e, FakeOperator) and e.idname == "scenario.compare_images"]
    assert [c.values["mode"] for c in compare] == ["RESULT", "DIFFERENCE"], "the original offers its result"


def test_running_job_shows_progress_estimate_and_the_price_question(addon, tmp_path) -> None:
    runtime = module(addon, "bridge.runtime")
    pipeline = module(addon, "core.pipeline")
    rt = runtime.get()
    record = module(addon, "core.journal").JobRecord(local_id="abc123", source_image="brick")
    view = runtime.JobView("abc123", "brick", record=record, stage="generating", fraction=0.4,
                           estimate="256×256 px, about 0.1 MB as PNG",
                           question=pipeline.PriceQuestion(cost=30.0, limit=20.0))
    rt.jobs["abc123"] = view
    try:
        log = draw(module(addon, "ui.panel_upscale").IMAGE_PT_scenario_upscale, None)
    finally:
        rt.jobs.pop("abc123")
    assert ("progress", "Generating 40 %") in log
    assert "about 0.1 MB as PNG" in texts(log)
    assert "Costs 30 credits (your limit: 20 credits)" in texts(log)
    answers = [e.values for e in log if isinstance(e, FakeOperator)
               and e.idname == "scenario.answer_price"]
    assert answers == [{"local_id": "abc123", "pay": True}, {"local_id": "abc123", "pay": False}]
    assert "scenario.cancel_job" in operators(log)


def test_advanced_panel_lists_style_images_and_loras(addon) -> None:
    settings = bpy.context.scene.scenario_upscale
    assert bpy.ops.scenario.edit_settings_list(list_name="loras", action="ADD") == {"FINISHED"}
    for _ in range(4):
        bpy.ops.scenario.edit_settings_list(list_name="image_prompts", action="ADD")
    with pytest.raises(RuntimeError, match="at most 4"):
        bpy.ops.scenario.edit_settings_list(list_name="image_prompts", action="ADD")
    log = draw(module(addon, "ui.panel_upscale").IMAGE_PT_scenario_upscale_advanced, None)
    props = [e[1] for e in log if isinstance(e, tuple) and e[0] == "prop"]
    for name in ("strength", "controlnet_conditioning_scale", "num_inference_steps",
                 "details_enable", "random_seed", "seed", "keep_alpha", "normal_map",
                 "check_tiling", "seam_safe", "image_prompt_strength", "model", "scale"):
        assert name in props, name
    bpy.ops.scenario.edit_settings_list(list_name="loras", action="REMOVE", index=0)
    assert len(settings.loras) == 0 and len(settings.image_prompts) == 4


def test_recent_jobs_and_preferences_draw(addon, tmp_path) -> None:
    scenes.texture_file(tmp_path, "brick", 32, 32)
    bpy.ops.scenario.upscale_image(image_name="brick", scope="NONE")
    log = draw(module(addon, "ui.panel_recent_jobs").IMAGE_PT_scenario_recent_jobs, None)
    assert "Applied" in texts(log)
    assert {"scenario.recover_jobs", "wm.path_open", "scenario.forget_job"} <= set(operators(log))

    prefs = bpy.context.preferences.addons[addon].preferences
    log: list = []
    type(prefs).draw(Drawing(FakeLayout(log), prefs), bpy.context)
    assert "scenario.test_connection" in operators(log)
    props = [e[1] for e in log if isinstance(e, tuple) and e[0] == "prop"]
    assert {"api_key", "api_secret", "output_dir", "never_spend", "confirm_above_credits"} <= set(props)


def menu_entries(draw_function, **context_fields) -> list:
    log: list = []
    context = SimpleNamespace(scene=bpy.context.scene, **context_fields)
    draw_function(SimpleNamespace(layout=FakeLayout(log)), context)
    return [(e.idname, e.values) for e in log if isinstance(e, FakeOperator)]


def test_menu_entries_are_in_blenders_menus_and_leave_with_the_addon(addon, tmp_path) -> None:
    menus = module(addon, "ui.menus")
    brick = scenes.texture_file(tmp_path, "brick", 32, 32)
    editor = SimpleNamespace(type="IMAGE_EDITOR", image=brick)
    assert menu_entries(menus.image_menu, space_data=editor) == [("scenario.upscale_image", {})]

    bpy.ops.scenario.upscale_image(image_name="brick", scope="NONE")
    result = next(i for i in bpy.data.images if i.get("scenario_source_image") == "brick")
    editor.image = result
    assert [e[0] for e in menu_entries(menus.image_menu, space_data=editor)] == [
        "scenario.upscale_image", "scenario.revert_image"]

    shader = SimpleNamespace(type="NODE_EDITOR", tree_type="ShaderNodeTree")
    node = SimpleNamespace(type="TEX_IMAGE", image=brick)
    assert menu_entries(menus.node_context_menu, space_data=shader, active_node=node) == [
        ("scenario.upscale_image", {"image_name": "brick"}),
        ("scenario.upscale_materials", {"scope": "ACTIVE_MATERIAL"})]
    other = SimpleNamespace(type="NODE_EDITOR", tree_type="GeometryNodeTree")
    assert menu_entries(menus.node_context_menu, space_data=other, active_node=node) == []
    assert menu_entries(menus.material_batch) == [
        ("scenario.upscale_materials", {"scope": "ACTIVE_MATERIAL"})]

    def drawn_by_addon() -> list[str]:
        return [name for name, _ in menus.MENUS
                if any(getattr(f, "__module__", "").startswith(addon)
                       for f in getattr(getattr(bpy.types, name).draw, "_draw_funcs", []))]

    assert drawn_by_addon() == [name for name, _ in menus.MENUS]
    bpy.ops.preferences.addon_disable(module=addon)
    try:
        assert drawn_by_addon() == []
    finally:
        bpy.ops.preferences.addon_enable(module=addon)
