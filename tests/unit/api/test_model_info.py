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
    load_bundled_model,
)
from scenario_texture_upscale.api.model_info import BUNDLED_MODEL_PATH

from .conftest import BASE, refused

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


def test_bundled_copy_is_complete() -> None:
    described = load_bundled_model()
    assert BUNDLED_MODEL_PATH.is_file()
    assert described.source == "bundled"
    assert described.model_id == MODEL_ID
    names = [i.name for i in described.inputs]
    assert names[:2] == ["image", "upscaleFactor"] and "seed" in names and len(names) == 14
    upscale = described.input("upscaleFactor")
    assert upscale is not None and (upscale.min, upscale.max, upscale.default) == (2, 8, 2)
    assert described.presets == ("precise", "balanced", "creative")
    assert described.base_models == ("FLUX.1-dev", "FLUX.1-Krea-dev")


def test_bundled_copy_agrees_with_field_specs() -> None:
    from scenario_texture_upscale.api import FIELD_SPECS

    merged = load_bundled_model().field_specs()
    for name, spec in FIELD_SPECS.items():
        got = merged[name]
        assert (got.minimum, got.maximum, got.step, got.choices, got.max_items) == (
            spec.minimum, spec.maximum, spec.step, spec.choices, spec.max_items
        ), name
        assert got.default == spec.default or list(spec.default) == got.default, name
        assert got.required == spec.required or spec.required, name


def test_parse_live_description(mocked: responses.RequestsMock, client: ScenarioClient) -> None:
    mocked.add(responses.GET, MODEL_URL, json=live_model())
    described = client.describe_model()
    assert described.source == "service" and described.fallback_reason is None
    assert described.name == "Texture Upscale"
    assert len(described.inputs) == 7
    image = described.input("image")
    assert image is not None and image.required and image.type == "file"
    assert described.input("missing") is None
    assert described.presets == ("precise", "balanced", "creative", "extreme")
    assert described.base_models == ("FLUX.1-dev", "FLUX.2")
    specs = described.field_specs()
    assert specs["upscale_factor"].maximum == 16 and specs["upscale_factor"].step == 2
    assert specs["prompt"].max_length == 10
    assert specs["image_prompt"].max_items == 2 and specs["image_prompt"].max_length is None
    assert specs["strength"].default == 0.4  # a default of the wrong type is ignored
    # The described ranges drive validation.
    UpscaleParams(image="asset_1", upscale_factor=16, preset="extreme").validate(specs)
    with pytest.raises(Exception, match="at most 10"):
        UpscaleParams(image="asset_1", prompt="x" * 11).validate(specs)


@pytest.mark.parametrize(
    "failure",
    [
        {"body": refused()},
        {"status": 503},
        {"status": 429},
        {"body": "<html>not json</html>"},
    ],
)
def test_falls_back_to_bundled_when_offline(
    mocked: responses.RequestsMock, client: ScenarioClient, failure: dict[str, Any]
) -> None:
    for _ in range(4):
        mocked.add(responses.GET, MODEL_URL, **failure)
    described = client.describe_model()
    assert described.source == "bundled"
    assert described.fallback_reason and described.fallback_reason.startswith(
        "Using the built-in model settings"
    )
    assert described.presets == ("precise", "balanced", "creative")


def test_falls_back_when_description_is_empty(
    mocked: responses.RequestsMock, client: ScenarioClient
) -> None:
    mocked.add(responses.GET, MODEL_URL, json={"model": {"id": MODEL_ID, "inputs": []}})
    assert client.describe_model().source == "bundled"


@pytest.mark.parametrize(("status", "cls"), [(401, AuthenticationError), (404, NotFoundError)])
def test_key_and_model_errors_are_not_hidden(
    mocked: responses.RequestsMock, client: ScenarioClient, status: int, cls: type[Exception]
) -> None:
    mocked.add(responses.GET, MODEL_URL, json={"reason": "no"}, status=status)
    with pytest.raises(cls):
        client.describe_model()


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
