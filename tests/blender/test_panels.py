"""The Image Editor panels and the preferences, drawn headless through a checking stand-in
layout: every property and operator they name exists, and what a user needs is there."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import bpy
import pytest
import scenes
from fake_ui import Drawing, FakeLayout, FakeOperator, draw, enabled_when_drawn, operators, texts

pytestmark = pytest.mark.usefixtures("clean_file", "prefs")


def module(addon: str, name: str):
    return sys.modules[f"{addon}.{name}"]


def test_main_panel_shows_the_image_the_result_size_and_the_button(addon, tmp_path: Path) -> None:
    brick = scenes.texture_file(tmp_path, "brick", 64, 32)
    ui = module(addon, "ui.panel_upscale")
    log = draw(ui.IMAGE_PT_scenario_upscale, brick)
    shown = texts(log)
    assert "64×32 px, saved as a file" in shown and "Result: 128×64 px" in shown
    assert "Keys from the preferences" in shown
    assert ["scenario.upscale_image", "scenario.price_image"] == [
        op for op in operators(log) if op in ("scenario.upscale_image", "scenario.price_image")]
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
    # With the result open, the big button upscales its original, and says so.
    assert "An upscaled result of 'brick'" in texts(log)
    [button] = [e for e in log if isinstance(e, FakeOperator)
                and e.idname == "scenario.upscale_image"]
    assert button.values == {"image_name": "brick"}
    assert "Result: 64×64 px" in texts(log), "the size the original's upscale will have"

    log = draw(module(addon, "ui.panel_upscale").IMAGE_PT_scenario_upscale, brick)
    compare = [e for e in log if isinstance(e, FakeOperator) and e.idname == "scenario.compare_images"]
    assert [c.values["mode"] for c in compare] == ["RESULT", "DIFFERENCE"], "the original offers its result"


def test_running_job_shows_progress_estimate_and_the_price_question(addon, tmp_path) -> None:
    runtime = module(addon, "bridge.runtime")
    spend_policy = module(addon, "core.spend_policy")
    rt = runtime.get()
    record = module(addon, "core.journal").JobRecord(local_id="abc123", source_image="brick")
    job_view = module(addon, "core.job_view")
    view = job_view.JobView("abc123", "brick", record=record, stage="generating", fraction=0.4,
                            estimate=("File: about 0.1 MB as PNG", "Memory: 1 MB, GPU: 1 MB"),
                            question=spend_policy.PriceQuestion(cost=30.0, limit=20.0))
    rt.jobs["abc123"] = view
    try:
        log = draw(module(addon, "ui.panel_upscale").IMAGE_PT_scenario_upscale, None)
    finally:
        rt.jobs.pop("abc123")
    assert ("progress", "Generating 40 %") in log
    assert "File: about 0.1 MB as PNG | Memory: 1 MB, GPU: 1 MB" in texts(log)
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
    with pytest.raises(RuntimeError, match="At most 4 style images can be used: remove one first"):
        bpy.ops.scenario.edit_settings_list(list_name="image_prompts", action="ADD")
    log = draw(module(addon, "ui.panel_upscale").IMAGE_PT_scenario_upscale_advanced, None)
    props = [e[1] for e in log if isinstance(e, tuple) and e[0] == "prop"]
    for name in ("strength", "controlnet_conditioning_scale", "num_inference_steps",
                 "details_enable", "random_seed", "seed", "keep_alpha", "normal_map",
                 "check_tiling", "seam_safe", "image_prompt_strength", "model", "scale"):
        assert name in props, name
    bpy.ops.scenario.edit_settings_list(list_name="loras", action="REMOVE", index=0)
    assert len(settings.loras) == 0 and len(settings.image_prompts) == 4
    # Blender's own lists: a UIList per list, Add greyed out when full, Remove when empty, and
    # Remove acts on the selected entry.
    assert [e[1] for e in log if isinstance(e, tuple) and e[0] == "list"] == [
        "SCENARIO_UL_settings_entries"] * 2
    log = draw(module(addon, "ui.panel_upscale").IMAGE_PT_scenario_upscale_advanced, None)
    assert enabled_when_drawn(log, "scenario.edit_settings_list") == [False, True, True, False]
    assert settings.image_prompts_index == 3, "the entry added last is selected"
    settings.image_prompts[1].image = bpy.data.images.new("style", 4, 4)
    settings.image_prompts_index = 1
    assert bpy.ops.scenario.edit_settings_list(list_name="image_prompts",
                                               action="REMOVE") == {"FINISHED"}
    assert [p.image for p in settings.image_prompts] == [None] * 3, "the selected one went"
    assert settings.image_prompts_index == 1
    # Every setting explains itself where the artist hovers (its tooltip), in words.
    rna = settings.bl_rna.properties
    for name in ("strength", "controlnet_conditioning_scale", "num_inference_steps",
                 "keep_alpha", "normal_map", "check_tiling", "seam_safe"):
        assert len(rna[name].description) > 40, (name, rna[name].description)
    lora = rna["loras"].fixed_type.properties
    assert "model id" in lora["model"].description and lora["scale"].description
    # "Keep" no longer heads what is not kept; the sliders are explained in the panel too.
    assert "More strength: more new detail. More structure: closer shapes." in texts(log)


def test_recent_jobs_lists_each_job_and_shows_the_chosen_one_in_full(addon, tmp_path) -> None:
    scenes.texture_file(tmp_path, "brick", 32, 32)
    bpy.ops.scenario.upscale_image(image_name="brick", scope="NONE")
    log = draw(module(addon, "ui.panel_recent_jobs").IMAGE_PT_scenario_recent_jobs, None)
    shown = texts(log)
    assert ("list", "SCENARIO_UL_recent_jobs") in log
    state = bpy.context.window_manager.scenario_recent
    record = module(addon, "bridge.runtime").get().recent[0]
    assert state.rows[0].local_id == record.local_id, "the newest job is the first row"
    # The chosen job in full: the image, its result, its state, factor and time, its cost.
    assert "brick → brick_x2.png" in shown and "Applied, ×2, " in shown
    assert f"Paid {module(addon, 'api.prices').credits_text(record.cost)}." in shown
    assert shown.startswith("Spent today: ")
    ops = {e.idname: e.values for e in log if isinstance(e, FakeOperator)}
    assert ops["scenario.recover_jobs"] == {"local_id": record.local_id}
    assert ops["scenario.forget_job"] == {"local_id": record.local_id}
    assert {"filepath": record.result_path} in [e.values for e in log if isinstance(e, FakeOperator)
                                                and e.idname == "scenario.open_folder"]
    assert "scenario.open_log" in ops and "CU" not in shown
    # Re-apply says what it does (it used to describe Recover).
    recover = module(addon, "operators.recover_jobs").SCENARIO_OT_recover_jobs
    tip = recover.description(bpy.context, SimpleNamespace(local_id=record.local_id))
    assert tip.startswith("Use this result again") and "nothing is paid" in tip


def test_preferences_are_grouped_under_headings(addon) -> None:
    prefs = bpy.context.preferences.addons[addon].preferences
    log: list = []
    type(prefs).draw(Drawing(FakeLayout(log), prefs), bpy.context)
    assert "scenario.test_connection" in operators(log)
    labels = [e[1] for e in log if isinstance(e, tuple) and e[0] == "label"]
    assert [h for h in labels if h in ("Account", "Output", "Jobs", "Spending", "Advanced")] == [
        "Account", "Output", "Jobs", "Spending", "Advanced"]
    props = [e[1] for e in log if isinstance(e, tuple) and e[0] == "prop"]
    assert {"api_key", "api_secret", "output_dir", "never_spend", "confirm_above_credits",
            "parallel_automatic", "base_url"} <= set(props)
    assert props.index("base_url") > props.index("never_spend"), "the Service URL is Advanced"
    assert "scenario.open_folder" in operators(log)
    assert any(text.startswith("This computer: Spent today: ") for text in labels)
    # Plain words: the rehearsal switch and Parallel Jobs at 0 (automatic).
    rna = prefs.bl_rna.properties
    assert rna["never_spend"].name == "Stop Before Paying"
    assert prefs.max_concurrent_jobs == 0 and prefs.parallel_automatic
    assert any(text.endswith(" at once") for text in labels)
    try:
        prefs.parallel_automatic = False
        assert prefs.max_concurrent_jobs >= 1
    finally:
        prefs.max_concurrent_jobs = 0


def test_without_keys_the_panel_has_one_line_and_a_button_to_the_preferences(
        addon, prefs, tmp_path) -> None:
    brick = scenes.texture_file(tmp_path, "brick", 32, 32)
    key = prefs.api_key
    prefs.api_key = ""
    try:
        log = draw(module(addon, "ui.panel_upscale").IMAGE_PT_scenario_upscale, brick)
        pref_log: list = []
        type(prefs).draw(Drawing(FakeLayout(pref_log), prefs), bpy.context)
    finally:
        prefs.api_key = key
    assert "No Scenario API key yet" in texts(log) and "SCENARIO_SDK" not in texts(log)
    [show] = [e for e in log if isinstance(e, FakeOperator) and e.idname == "preferences.addon_show"]
    assert show.values == {"module": addon}
    told = texts(pref_log)
    assert "Project Settings ▸ API Keys" in told and "app.scenario.com" in told
    [url] = [e for e in pref_log if isinstance(e, FakeOperator) and e.idname == "wm.url_open"]
    assert url.values == {"url": "https://app.scenario.com"}


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
