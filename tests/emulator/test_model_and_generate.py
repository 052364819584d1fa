"""Model description, generate validation and dry-run price quotes."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from emulator_support import MODEL_ID
from PIL import Image

import emulator
from emulator.model_catalog import LORA_MODELS

STONE = "model_emulator-lora-weathered-stone"

# Reference table: name -> (type, default, min, max, allowed values)
REFERENCE = {
    "image": ("file", None, None, None, None),
    "upscaleFactor": ("number", 2, 2, 8, None),
    "preset": ("string", "balanced", None, None, ["precise", "balanced", "creative"]),
    "loras": ("model_array", [], None, None, None),
    "lorasScale": ("number_array", [], None, None, None),
    "prompt": ("string", "", None, None, None),
    "imagePrompt": ("file_array", None, None, None, None),
    "imagePromptStrength": ("number", 0.6, 0, 1, None),
    "controlnetConditioningScale": ("number", 0.4, 0, 1, None),
    "strength": ("number", 0.4, 0, 1, None),
    "numInferenceSteps": ("number", 28, 1, 50, None),
    "detailsEnable": ("boolean", True, None, None, None),
    "baseModel": ("string", "FLUX.1-dev", None, None, ["FLUX.1-dev", "FLUX.1-Krea-dev"]),
    "seed": ("number", None, 0, 2147483647, None),
}


def test_model_description_lists_every_reference_input(api):
    answer = api.get(f"/models/{MODEL_ID}")
    assert answer.status_code == 200
    model = answer.json()["model"]
    assert model["id"] == MODEL_ID and model["name"] and model["type"] == "custom"
    assert isinstance(model["uiConfig"], dict)
    inputs = {spec["name"]: spec for spec in model["inputs"]}
    assert list(inputs) == list(REFERENCE)
    for name, (kind, default, low, high, allowed) in REFERENCE.items():
        spec = inputs[name]
        assert spec["type"] == kind, name
        assert spec.get("default") == default, name
        assert spec.get("min") == low and spec.get("max") == high, name
        assert spec.get("allowedValues") == allowed, name
        assert spec["label"] and spec["description"] and spec["group"], name
        assert isinstance(spec["required"], dict) and "costImpact" in spec, name
    assert inputs["image"]["required"] == {"always": True}
    assert inputs["imagePrompt"]["maxLength"] == 4


def test_model_file_is_the_served_description(api):
    path = Path(emulator.__file__).with_name(f"{MODEL_ID}.json")
    assert json.loads(path.read_text()) == api.get(f"/models/{MODEL_ID}").json()["model"]


@pytest.fixture
def asset_id(api):
    return api.upload(Image.new("RGB", (32, 32), (90, 90, 90)))["id"]


@pytest.mark.parametrize("inputs, field", [
    ({"upscaleFactor": 1}, "upscaleFactor"),
    ({"upscaleFactor": 9}, "upscaleFactor"),
    ({"upscaleFactor": 2.5}, "upscaleFactor"),
    ({"upscaleFactor": "4"}, "upscaleFactor"),
    ({"preset": "wild"}, "preset"),
    ({"baseModel": "FLUX.2"}, "baseModel"),
    ({"strength": 1.5}, "strength"),
    ({"strength": -0.1}, "strength"),
    ({"imagePromptStrength": 2}, "imagePromptStrength"),
    ({"controlnetConditioningScale": True}, "controlnetConditioningScale"),
    ({"numInferenceSteps": 0}, "numInferenceSteps"),
    ({"numInferenceSteps": 51}, "numInferenceSteps"),
    ({"seed": -1}, "seed"),
    ({"seed": 2147483648}, "seed"),
    ({"detailsEnable": "yes"}, "detailsEnable"),
    ({"prompt": 5}, "prompt"),
    ({"loras": [STONE], "lorasScale": []}, "lorasScale"),
    ({"loras": ["model_typo"], "lorasScale": [1]}, "loras"),
    ({"lorasScale": [0.5]}, "lorasScale"),
    ({"loras": "model_a", "lorasScale": [1]}, "loras"),
    ({"imagePrompt": ["asset_nope"]}, "imagePrompt"),
    ({"mystery": 1}, "mystery"),
])
def test_generate_validation_names_the_field(api, asset_id, inputs, field):
    answer = api.generate(asset_id, **inputs)
    assert answer.status_code == 400, answer.text
    assert f'"{field}"' in answer.json()["reason"]


def test_image_is_required_and_must_exist(api, asset_id):
    missing = api.post(f"/generate/custom/{MODEL_ID}", {"upscaleFactor": 2})
    assert missing.status_code == 400 and '"image"' in missing.json()["reason"]
    unknown = api.generate("asset_unknown")
    assert unknown.status_code == 400 and '"image"' in unknown.json()["reason"]


def test_image_prompt_allows_four_existing_assets_but_not_five(api, asset_id):
    ok = api.generate(asset_id, imagePrompt=[asset_id] * 4, loras=[STONE, "https://l/x"],
                      lorasScale=[0.5, 1.0], seed=0, prompt="bricks")
    assert ok.status_code == 200
    too_many = api.generate(asset_id, imagePrompt=[asset_id] * 5)
    assert too_many.status_code == 400 and '"imagePrompt"' in too_many.json()["reason"]


def test_unknown_model_is_404(api, asset_id):
    answer = api.post("/generate/custom/model_nope", {"image": asset_id})
    assert answer.status_code == 404


def test_lora_models_are_described_and_unknown_ids_are_404_as_scenario_says(api):
    known = api.get(f"/models/{STONE}")
    assert known.status_code == 200
    assert known.json()["model"] == {**LORA_MODELS[STONE], "id": STONE}
    unknown = api.get("/models/model_emulator-lora-typo")
    assert unknown.status_code == 404
    assert unknown.json()["reason"] == "Model model_emulator-lora-typo not found"


def test_an_unknown_lora_is_refused_before_any_job_or_price(api, asset_id):
    for query in ("", "?dryRun=true"):
        answer = api.post(f"/generate/custom/{MODEL_ID}{query}",
                          {"image": asset_id, "loras": ["model_typo"], "lorasScale": [1.0]})
        assert answer.status_code == 400
        assert answer.json()["reason"] == 'Invalid input "loras": model model_typo not found'
    assert api.server.state()["jobs"] == []


def test_a_lora_cannot_be_run_as_a_model(api, asset_id):
    answer = api.post(f"/generate/custom/{STONE}", {"image": asset_id})
    assert answer.status_code == 404


def test_dry_run_answers_269_with_cost_and_creates_no_job(api, asset_id):
    answer = api.post(f"/generate/custom/{MODEL_ID}?dryRun=true",
                      {"image": asset_id, "upscaleFactor": 4})
    assert answer.status_code == 269
    body = answer.json()
    expected = math.ceil((32 * 4) * (32 * 4) / 1e6 * 2)
    assert body == {"creativeUnitsCost": expected, "creativeUnitsDiscount": 0,
                    "costDetails": {"custom-generation": expected}}
    assert api.server.state()["jobs"] == []


def test_cost_grows_with_output_pixels(api):
    big = api.upload(Image.new("RGB", (512, 512)))["id"]
    costs = []
    for factor in (2, 4, 8):
        answer = api.post(f"/generate/custom/{MODEL_ID}?dryRun=true",
                          {"image": big, "upscaleFactor": factor})
        costs.append(answer.json()["creativeUnitsCost"])
    assert costs == [3, 9, 34]


def test_dry_run_still_validates(api):
    answer = api.post(f"/generate/custom/{MODEL_ID}?dryRun=true", {"image": "asset_gone"})
    assert answer.status_code == 400


def test_generate_answers_job_and_cost(api, asset_id):
    answer = api.generate(asset_id, upscaleFactor=2, preset="precise")
    assert answer.status_code == 200
    body = answer.json()
    assert body["creativeUnitsCost"] == 1
    job = body["job"]
    assert job["jobId"].startswith("job_") and job["jobType"] == "custom"
    assert job["status"] == "queued" and job["progress"] == 0
    assert job["metadata"]["input"]["preset"] == "precise"
    assert job["metadata"]["input"]["numInferenceSteps"] == 28
    assert 0 <= job["metadata"]["input"]["seed"] <= 2147483647
    assert job["billing"] == {"cuCost": 1, "cuDiscount": 0}


def test_output_size_limit(make_api):
    api = make_api(max_output_side=100)
    asset = api.upload(Image.new("RGB", (32, 32)))["id"]
    assert api.generate(asset, upscaleFactor=2).status_code == 200
    refused = api.generate(asset, upscaleFactor=4)
    assert refused.status_code == 400 and '"upscaleFactor"' in refused.json()["reason"]
