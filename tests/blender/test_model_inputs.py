"""The model's inputs in Blender: every property's limits and menu items come from the add-on's
one table (api/params.py FIELD_SPECS), and Test Connection says when Scenario's model differs."""

from __future__ import annotations

import dataclasses
import sys

import bpy
import pytest

pytestmark = pytest.mark.usefixtures("clean_file", "prefs")

# Each property and the table row it is built from.
SCENE_PROPERTIES = {
    "upscale_factor": "upscale_factor", "preset": "preset", "base_model": "base_model",
    "strength": "strength", "controlnet_conditioning_scale": "controlnet_conditioning_scale",
    "num_inference_steps": "num_inference_steps", "details_enable": "details_enable",
    "seed": "seed", "image_prompt_strength": "image_prompt_strength",
}
PREFERENCE_PROPERTIES = {
    "default_upscale_factor": "upscale_factor", "default_preset": "preset",
    "default_base_model": "base_model",
}


def specs(addon: str):
    return sys.modules[f"{addon}.api.params"].FIELD_SPECS


def assert_built_from_table(rna, rows: dict[str, str], table) -> None:
    for prop_name, row in rows.items():
        prop, spec = rna.properties[prop_name], table[row]
        if spec.kind == "choice":
            assert tuple(item.identifier for item in prop.enum_items) == spec.choices, prop_name
            assert prop.default == spec.default
            assert all(item.description for item in prop.enum_items), prop_name
        elif spec.kind == "bool":
            assert prop.default == spec.default, prop_name
        else:
            assert (prop.hard_min, prop.hard_max) == (spec.minimum, spec.maximum), prop_name
            assert prop.default == pytest.approx(spec.default or 0), prop_name


def test_scene_settings_and_preferences_take_their_limits_from_the_table(addon, prefs) -> None:
    table = specs(addon)
    assert_built_from_table(bpy.context.scene.scenario_upscale.bl_rna, SCENE_PROPERTIES, table)
    assert_built_from_table(prefs.bl_rna, PREFERENCE_PROPERTIES, table)
    batch = bpy.ops.scenario.upscale_materials.get_rna_type().properties
    assert batch["upscale_factor"].hard_max == table["upscale_factor"].maximum
    assert [i.identifier for i in batch["preset"].enum_items][1:] == list(table["preset"].choices)


def test_connection_to_a_model_that_agrees_reports_no_change(capfd) -> None:
    assert bpy.ops.scenario.test_connection() == {"FINISHED"}
    out = capfd.readouterr().out
    assert "Connected to Scenario (keys from the preferences)" in out
    assert "model has changed" not in out


def test_connection_names_what_differs_in_scenarios_model(addon, monkeypatch, capfd) -> None:
    table = specs(addon)
    # As if this add-on offered factors up to 16 and a preset the service never had.
    monkeypatch.setitem(table, "upscale_factor",
                        dataclasses.replace(table["upscale_factor"], maximum=16))
    monkeypatch.setitem(table, "preset", dataclasses.replace(
        table["preset"], choices=(*table["preset"].choices, "turbo")))
    assert bpy.ops.scenario.test_connection() == {"FINISHED"}
    out = capfd.readouterr().out
    assert "Scenario's model has changed" in out
    assert "upscaleFactor: Scenario's highest value is 8; this add-on offers 16." in out
    assert "preset: Scenario no longer accepts turbo." in out


def test_connection_with_a_wrong_secret_says_so(prefs) -> None:
    prefs.api_secret = "not-the-secret"
    with pytest.raises(RuntimeError, match="(?i)key|secret"):
        bpy.ops.scenario.test_connection()
