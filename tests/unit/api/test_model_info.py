from __future__ import annotations

from typing import Any

import pytest
import responses
from scenario_texture_upscale.api import (
    MODEL_ID,
    AuthenticationError,
    ModelDescription,
    NotFoundError,
    ScenarioClient,
    UpscaleParams,
)

from .conftest import BASE

MODEL_URL = f"{BASE}/models/{MODEL_ID}"


def live_model(**changes: Any) -> dict[str, Any]:
    inputs = [
        {"name": "image", "type": "file", "required": {"always": True}, "label": "Image"},
        {"name": "imagePrompt", "type": "file_array", "maxLength": 2},
        {"name": "upscaleFactor", "type": "number", "default": 2, "min": 2, "max": 16, "step": 2},
        {
            "name": "preset", "type": "string", "default": "balanced",
            "allowedValues": ["precise", "balanced", "creative", "extreme"],
        },
        {
            "name": "baseModel", "type": "string",
            "allowedValues": [{"value": "FLUX.1-dev"}, {"value": "FLUX.2"}],
        },
        {"name": "prompt", "type": "string", "maxLength": 10},
        {"name": "strength", "type": "number", "default": "bad-type"},
        {"type": "number"},  # no name: skipped
        "garbage",
    ]
    model = {"id": MODEL_ID, "name": "Texture Upscale", "inputs": inputs, **changes}
    return {"model": model}


def test_parse_live_description(mocked: responses.RequestsMock, client: ScenarioClient) -> None:
    mocked.add(responses.GET, MODEL_URL, json=live_model())
    described = client.check_connection()
    assert described.name == "Texture Upscale"
    assert len(described.inputs) == 7
    image = described.input("image")
    assert image is not None and image.required and image.type == "file"
    assert described.input("missing") is None
    specs = described.field_specs()
    assert specs["preset"].choices == ("precise", "balanced", "creative", "extreme")
    assert specs["base_model"].choices == ("FLUX.1-dev", "FLUX.2")
    assert specs["upscale_factor"].maximum == 16 and specs["upscale_factor"].step == 2
    assert specs["prompt"].max_length == 10
    assert specs["image_prompt"].max_items == 2 and specs["image_prompt"].max_length is None
    assert specs["strength"].default == 0.4  # a default of the wrong type is ignored
    # The described ranges drive validation.
    UpscaleParams(image="asset_1", upscale_factor=16, preset="extreme").validate(specs)
    with pytest.raises(Exception, match="at most 10"):
        UpscaleParams(image="asset_1", prompt="x" * 11).validate(specs)


@pytest.mark.parametrize(("status", "cls"), [(401, AuthenticationError), (404, NotFoundError)])
def test_key_and_model_errors_are_not_hidden(
    mocked: responses.RequestsMock, client: ScenarioClient, status: int, cls: type[Exception]
) -> None:
    mocked.add(responses.GET, MODEL_URL, json={"reason": "no"}, status=status)
    with pytest.raises(cls):
        client.check_connection()


def test_required_forms() -> None:
    from scenario_texture_upscale.api import ModelInput

    assert ModelInput.from_api({"name": "a", "required": True}).required
    assert ModelInput.from_api({"name": "a", "required": {"always": True}}).required
    assert not ModelInput.from_api({"name": "a", "required": {"always": False}}).required
    assert not ModelInput.from_api({"name": "a", "required": "yes"}).required


def test_bare_model_object_accepted() -> None:
    described = ModelDescription.from_api({"id": "m", "inputs": [{"name": "x", "type": "number"}]})
    assert described.model_id == "m" and described.inputs[0].name == "x"
    assert ModelDescription.from_api(None).inputs == ()


def test_differences_name_what_the_add_on_would_get_wrong(
    mocked: responses.RequestsMock, client: ScenarioClient
) -> None:
    live = live_model()
    live["model"]["inputs"] += [{"name": "tileMode", "type": "string", "required": True},
                                {"name": "seed", "type": "number", "min": 1}]
    mocked.add(responses.GET, MODEL_URL, json=live)
    notes = client.check_connection().differences()
    assert "upscaleFactor: Scenario's highest value is 16; this add-on offers 8." in notes
    assert "preset: Scenario also offers extreme, which this add-on does not list yet." in notes
    assert "baseModel: Scenario no longer accepts FLUX.1-Krea-dev." in notes
    assert "imagePrompt: Scenario takes up to 2 items; this add-on sends up to 4." in notes
    assert "seed: Scenario's lowest value is 1; this add-on offers 0." in notes
    assert "Scenario's model no longer lists numInferenceSteps." in notes
    assert "Scenario's model now requires tileMode, which this add-on does not send." in notes
    # What the live model leaves unsaid (strength's range here) is no difference.
    assert not any(n.startswith("strength") for n in notes)
