from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest
from scenario_texture_upscale.api import FIELD_SPECS, InvalidRequestError, UpscaleParams


def params(**kw: Any) -> UpscaleParams:
    return UpscaleParams(image="asset_src", **kw)


def assert_invalid(p: UpscaleParams, api_name: str, snake: str, *fragments: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        p.validate()
    err = info.value
    assert err.field == api_name
    assert api_name in err.message and snake in err.message
    for fragment in fragments:
        assert fragment in err.message
    assert err.not_sent


def test_minimal_body_has_only_image() -> None:
    p = params()
    p.validate()
    assert p.to_body() == {"image": "asset_src"}


def test_full_body_uses_camel_case() -> None:
    p = UpscaleParams(
        image="asset_a",
        upscale_factor=4,
        preset="precise",
        loras=["model_l1", "https://x/l2.safetensors"],
        loras_scale=[0.5, 1.0],
        prompt="mossy bricks",
        image_prompt=["asset_s1", "asset_s2"],
        image_prompt_strength=0.7,
        controlnet_conditioning_scale=0.5,
        strength=0.2,
        num_inference_steps=30,
        details_enable=False,
        base_model="FLUX.1-Krea-dev",
        seed=42,
    )
    p.validate()
    assert p.to_body() == {
        "image": "asset_a",
        "upscaleFactor": 4,
        "preset": "precise",
        "loras": ["model_l1", "https://x/l2.safetensors"],
        "lorasScale": [0.5, 1.0],
        "prompt": "mossy bricks",
        "imagePrompt": ["asset_s1", "asset_s2"],
        "imagePromptStrength": 0.7,
        "controlnetConditioningScale": 0.5,
        "strength": 0.2,
        "numInferenceSteps": 30,
        "detailsEnable": False,
        "baseModel": "FLUX.1-Krea-dev",
        "seed": 42,
    }


def test_falsy_but_set_values_are_sent() -> None:
    body = params(prompt="", seed=0, details_enable=False, strength=0, loras=[]).to_body()
    assert body == {
        "image": "asset_src", "prompt": "", "seed": 0, "detailsEnable": False, "strength": 0,
        "loras": [],
    }


def test_to_body_copies_lists() -> None:
    loras = ["model_x"]
    body = params(loras=loras).to_body()
    body["loras"].append("other")
    assert loras == ["model_x"]


@pytest.mark.parametrize("image", [None, "", "   ", "asset 1", 12])
def test_image_required_asset_id(image: Any) -> None:
    assert_invalid(UpscaleParams(image=image), "image", "image")


@pytest.mark.parametrize("value", [2, 2.0, 3, 7.0, 8, 8.0])
def test_upscale_factor_accepts_2_to_8(value: float) -> None:
    params(upscale_factor=value).validate()


@pytest.mark.parametrize("value", [2.5, 7.9])
def test_upscale_factor_whole_steps(value: float) -> None:
    # The described step is 1 and the service enforces whole steps.
    assert_invalid(params(upscale_factor=value), "upscaleFactor", "upscale_factor", "multiple of 1")


def test_fractional_steps_are_not_enforced() -> None:
    params(
        strength=0.333, image_prompt_strength=0.123, controlnet_conditioning_scale=0.77
    ).validate()


def test_no_step_allows_fractional_factor() -> None:
    specs = dict(FIELD_SPECS)
    specs["upscale_factor"] = dataclasses.replace(specs["upscale_factor"], step=None)
    params(upscale_factor=2.5).validate(specs)
    specs["upscale_factor"] = dataclasses.replace(specs["upscale_factor"], step=2)
    params(upscale_factor=4).validate(specs)
    with pytest.raises(InvalidRequestError, match="multiple of 2"):
        params(upscale_factor=3).validate(specs)


@pytest.mark.parametrize("value", [1, 1.99, 8.01, 9, -2, True, "4", math.nan, math.inf])
def test_upscale_factor_rejects(value: Any) -> None:
    assert_invalid(params(upscale_factor=value), "upscaleFactor", "upscale_factor", "2", "8")


@pytest.mark.parametrize("value", ["precise", "balanced", "creative"])
def test_preset_values(value: str) -> None:
    params(preset=value).validate()


@pytest.mark.parametrize("value", ["Balanced", "", "fast", 1])
def test_preset_rejects(value: Any) -> None:
    assert_invalid(params(preset=value), "preset", "preset", "precise, balanced, creative")


@pytest.mark.parametrize(
    "snake,api",
    [
        ("image_prompt_strength", "imagePromptStrength"),
        ("controlnet_conditioning_scale", "controlnetConditioningScale"),
        ("strength", "strength"),
    ],
)
def test_unit_interval_fields(snake: str, api: str) -> None:
    for good in (0, 0.0, 0.5, 1, 1.0):
        params(**{snake: good}).validate()
    for bad in (-0.01, 1.01, 2, True, "0.5", math.nan):
        assert_invalid(params(**{snake: bad}), api, snake, "0", "1")


@pytest.mark.parametrize("value", [1, 28, 50])
def test_steps_accept(value: int) -> None:
    params(num_inference_steps=value).validate()


@pytest.mark.parametrize("value", [0, 51, 28.0, 28.5, True, "28"])
def test_steps_reject(value: Any) -> None:
    assert_invalid(
        params(num_inference_steps=value), "numInferenceSteps", "num_inference_steps",
        "whole number", "1", "50",
    )


@pytest.mark.parametrize("value", [0, 1, 2147483647])
def test_seed_accept(value: int) -> None:
    params(seed=value).validate()


@pytest.mark.parametrize("value", [-1, 2147483648, 1.5, 3.0, False, "7"])
def test_seed_reject(value: Any) -> None:
    assert_invalid(params(seed=value), "seed", "seed", "2147483647")


@pytest.mark.parametrize("value", [True, False])
def test_details_enable_accept(value: bool) -> None:
    params(details_enable=value).validate()


@pytest.mark.parametrize("value", [1, 0, "true", None])
def test_details_enable_reject(value: Any) -> None:
    if value is None:
        params(details_enable=None).validate()  # unset is fine
        return
    assert_invalid(params(details_enable=value), "detailsEnable", "details_enable")


@pytest.mark.parametrize("value", ["FLUX.1-dev", "FLUX.1-Krea-dev"])
def test_base_model_accept(value: str) -> None:
    params(base_model=value).validate()


@pytest.mark.parametrize("value", ["flux.1-dev", "SDXL", ""])
def test_base_model_reject(value: str) -> None:
    assert_invalid(params(base_model=value), "baseModel", "base_model", "FLUX.1-Krea-dev")


def test_prompt_must_be_text() -> None:
    params(prompt="x" * 10_000).validate()
    assert_invalid(params(prompt=5), "prompt", "prompt")  # type: ignore[arg-type]


def test_image_prompt_up_to_four() -> None:
    params(image_prompt=[]).validate()
    params(image_prompt=["asset_1", "asset_2", "asset_3", "asset_4"]).validate()
    assert_invalid(
        params(image_prompt=[f"asset_{i}" for i in range(5)]), "imagePrompt", "image_prompt", "4"
    )
    assert_invalid(params(image_prompt=["asset_1", ""]), "imagePrompt", "image_prompt")
    assert_invalid(params(image_prompt="asset_1"), "imagePrompt", "image_prompt")  # type: ignore[arg-type]


def test_loras_and_scales() -> None:
    params(loras=["model_a"], loras_scale=[0.8]).validate()
    params(loras=["model_a"]).validate()  # scales left to the service
    params(loras=[], loras_scale=[]).validate()
    assert_invalid(params(loras=["model_a", " "]), "loras", "loras")
    assert_invalid(params(loras=[3]), "loras", "loras")  # type: ignore[list-item]
    assert_invalid(
        params(loras=["model_a"], loras_scale=[0.5, 0.5]), "lorasScale", "loras_scale", "one scale"
    )
    assert_invalid(params(loras_scale=[1.0]), "lorasScale", "loras_scale")
    assert_invalid(
        params(loras=["model_a"], loras_scale=[math.nan]), "lorasScale", "loras_scale"
    )
    assert_invalid(params(loras=["m"], loras_scale=[True]), "lorasScale", "loras_scale")


def test_tuples_accepted_for_lists() -> None:
    p = params(loras=("model_a",), loras_scale=(1.0,))  # type: ignore[arg-type]
    p.validate()
    assert p.to_body()["loras"] == ["model_a"]


def test_field_specs_cover_every_field_with_defaults() -> None:
    assert [f.name for f in dataclasses.fields(UpscaleParams)] == list(FIELD_SPECS)
    assert FIELD_SPECS["upscale_factor"].default == 2
    assert (FIELD_SPECS["upscale_factor"].minimum, FIELD_SPECS["upscale_factor"].maximum) == (2, 8)
    assert FIELD_SPECS["preset"].default == "balanced"
    assert FIELD_SPECS["image_prompt_strength"].default == 0.6
    assert FIELD_SPECS["controlnet_conditioning_scale"].default == 0.4
    assert FIELD_SPECS["strength"].default == 0.4
    assert FIELD_SPECS["num_inference_steps"].default == 28
    assert FIELD_SPECS["details_enable"].default is True
    assert FIELD_SPECS["base_model"].default == "FLUX.1-dev"
    assert FIELD_SPECS["seed"].default is None and FIELD_SPECS["seed"].maximum == 2147483647
    assert FIELD_SPECS["image_prompt"].max_items == 4
    assert FIELD_SPECS["image"].required


def test_defaults_of_the_specs_validate() -> None:
    values = {
        name: (list(spec.default) if isinstance(spec.default, tuple) else spec.default)
        for name, spec in FIELD_SPECS.items()
    }
    values["image"] = "asset_x"
    UpscaleParams(**values).validate()


def test_ranges_can_be_overridden() -> None:
    specs = dict(FIELD_SPECS)
    specs["upscale_factor"] = dataclasses.replace(specs["upscale_factor"], maximum=16)
    specs["preset"] = dataclasses.replace(specs["preset"], choices=("precise", "turbo"))
    params(upscale_factor=16, preset="turbo").validate(specs)
    with pytest.raises(InvalidRequestError):
        params(upscale_factor=16).validate()
    with pytest.raises(InvalidRequestError) as info:
        params(upscale_factor=17).validate(specs)
    assert "16" in info.value.message


def test_long_values_shortened_in_message() -> None:
    with pytest.raises(InvalidRequestError) as info:
        params(image_prompt=["x" * 200] * 5).validate()
    assert len(info.value.message) < 250
