"""Recent Jobs (re-apply, forget) and default settings kept in the preferences."""

from __future__ import annotations

import sys
from pathlib import Path

import bpy
import pytest
import scenes

pytestmark = pytest.mark.usefixtures("clean_file", "prefs")


def recent(addon: str):
    return sys.modules[f"{addon}.bridge.runtime"].get().recent


def test_reapply_and_forget_a_finished_job(addon, emulator, tmp_path: Path) -> None:
    brick = scenes.texture_file(tmp_path, "brick")
    material = scenes.material_with("Brick", brick)
    scenes.object_with("Wall", [material], selected=True)
    bpy.ops.scenario.upscale_image(image_name="brick")
    record = next(r for r in recent(addon) if r.source_image == "brick")
    assert record.state == "applied"
    bpy.ops.scenario.revert_image(image_name="brick")
    assert scenes.texture_nodes(material)[0].image == brick

    assert bpy.ops.scenario.recover_jobs(local_id=record.local_id) == {"FINISHED"}
    assert scenes.texture_nodes(material)[0].image.filepath.endswith("brick_x2.png")
    assert len(emulator.generates()) == 1, "re-applying never pays again"

    assert bpy.ops.scenario.forget_job(local_id=record.local_id) == {"FINISHED"}
    assert record.local_id not in [r.local_id for r in recent(addon)]
    journal = sys.modules[f"{addon}.bridge.runtime"].get().journal
    assert journal.load(record.local_id) is None
    assert Path(record.result_path).is_file(), "forgetting keeps the file"


def test_defaults_from_the_preferences_apply_to_new_files(prefs) -> None:
    prefs.default_upscale_factor, prefs.default_preset = 4, "precise"
    try:
        bpy.ops.wm.read_homefile(use_empty=True)
        settings = bpy.context.scene.scenario_upscale
        assert (settings.upscale_factor, settings.preset) == (4, "precise")

        settings.upscale_factor, settings.base_model = 3, "FLUX.1-Krea-dev"
        assert bpy.ops.scenario.save_defaults() == {"FINISHED"}
        assert (prefs.default_upscale_factor, prefs.default_base_model) == (3, "FLUX.1-Krea-dev")

        settings.upscale_factor = 8
        assert bpy.ops.scenario.save_defaults(reset=True) == {"FINISHED"}
        assert settings.upscale_factor == 3
    finally:
        prefs.default_upscale_factor, prefs.default_preset = 2, "balanced"
        prefs.default_base_model = "FLUX.1-dev"
        bpy.ops.wm.read_homefile(use_empty=True)
