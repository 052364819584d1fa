"""Scenario may retire or rename the upscale model, or change what it takes. In real Blender
against an emulator serving the model that way: the upscale is refused before any upload with
a message that names the model and says what to do, Test Connection says whether the model is
there, and the model can be named in the preferences."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import bpy
import pytest
import scenes
from conftest import API_KEY, API_SECRET, EmulatorControl

from emulator.process import start_emulator_process, stop_emulator_process

pytestmark = pytest.mark.usefixtures("clean_file", "prefs")
MODEL = "model_sc-upscale-flux-texture"


def module(addon: str, name: str):
    return sys.modules[f"{addon}.{name}"]


@pytest.fixture
def changed_model(prefs, tmp_path) -> Iterator[callable]:
    """Starts an emulator whose model is changed; the preferences point at it."""
    started = []

    def start(*args: str) -> EmulatorControl:
        process, base_url = start_emulator_process(
            ["--job-seconds", "0.5", "--api-key", API_KEY, "--api-secret", API_SECRET, "--quiet",
             *args], python=os.environ.get("EMULATOR_PYTHON", sys.executable))
        started.append(process)
        prefs.base_url = base_url
        return EmulatorControl(base_url)

    yield start
    for process in started:
        stop_emulator_process(process)


def uploads(control: EmulatorControl) -> list[dict]:
    return [r for r in control.requests() if r["path"] in ("/v1/assets", "/v1/uploads")]


def wall(tmp_path: Path) -> bpy.types.Material:
    material = scenes.material_with("Brick", scenes.texture_file(tmp_path, "brick"))
    scenes.object_with("Wall", [material], selected=True)
    return material


def test_a_retired_model_is_named_before_any_upload(changed_model, tmp_path) -> None:
    control = changed_model("--model-missing")
    material = wall(tmp_path)

    with pytest.raises(RuntimeError) as refused:
        bpy.ops.scenario.upscale_image(image_name="brick")

    report = str(refused.value)
    assert f"Scenario has no model '{MODEL}' for these API keys" in report
    assert "Advanced ▸ Model" in report and "Nothing was uploaded or spent" in report
    assert uploads(control) == [] and control.generates() == []
    assert scenes.texture_nodes(material)[0].image.name == "brick"


def test_test_connection_says_the_model_is_gone_or_there(changed_model, capfd) -> None:
    changed_model("--model-missing")
    with pytest.raises(RuntimeError, match=f"The keys work, but Scenario has no model '{MODEL}'"):
        bpy.ops.scenario.test_connection()
    changed_model()
    assert bpy.ops.scenario.test_connection() == {"FINISHED"}
    assert f"its model '{MODEL}' is available" in capfd.readouterr().out


@pytest.mark.parametrize("changes, setting, said", [
    ({"upscaleFactor": {"max": 2}}, {"upscale_factor": 4}, "upscaleFactor"),
    ({"preset": {"allowedValues": ["precise", "balanced"]}}, {"preset": "creative"}, "preset"),
    ({"detailsEnable": None}, {"details_enable": False}, "it no longer takes detailsEnable"),
], ids=["a lower maximum", "a choice gone", "an input gone"])
def test_an_input_the_model_now_refuses_is_named_before_any_upload(
        changed_model, tmp_path, changes, setting, said) -> None:
    inputs = tmp_path / "inputs.json"
    inputs.write_text(json.dumps(changes))
    control = changed_model("--model-inputs", str(inputs))
    wall(tmp_path)
    settings = bpy.context.scene.scenario_upscale
    for name, value in setting.items():
        setattr(settings, name, value)

    with pytest.raises(RuntimeError) as refused:
        bpy.ops.scenario.upscale_image(image_name="brick")

    report = str(refused.value)
    assert f"Scenario's model '{MODEL}' would refuse this upscale" in report and said in report
    assert "Change that setting in the panel, or update the add-on" in report
    assert "Nothing was uploaded or spent" in report
    assert uploads(control) == [] and control.generates() == []


def test_a_model_named_in_the_preferences_is_the_one_used(addon, prefs, changed_model,
                                                           tmp_path, capfd) -> None:
    control = changed_model()
    prefs.model_id = "model_sc-upscale-flux-texture-v2"
    try:
        with pytest.raises(RuntimeError, match="no model 'model_sc-upscale-flux-texture-v2'"):
            bpy.ops.scenario.test_connection()
        wall(tmp_path)
        with pytest.raises(RuntimeError, match="no model 'model_sc-upscale-flux-texture-v2'"):
            bpy.ops.scenario.upscale_image(image_name="brick")
        asked = [r["path"] for r in control.requests() if r["path"].startswith("/v1/models/")]
        assert asked and set(asked) == {"/v1/models/model_sc-upscale-flux-texture-v2"}
        assert uploads(control) == []
    finally:
        prefs.property_unset("model_id")
    assert prefs.model_id == MODEL
    assert bpy.ops.scenario.upscale_image(image_name="brick", scope="NONE") == {"FINISHED"}
    assert [r["path"] for r in control.generates()] == [f"/v1/generate/custom/{MODEL}"]
