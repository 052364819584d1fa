"""The upscale model looked up (free) before anything is paid: a model Scenario no longer has,
or that would refuse the settings, stops the job before its upload, with the model named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import responses
from scenario_texture_upscale.api import ScenarioClient, model_check
from scenario_texture_upscale.api.model_check import (
    ModelChangedError,
    ModelCheck,
    ModelCheckFailedError,
    ModelUnavailableError,
)
from scenario_texture_upscale.api.params import UpscaleParams

from .conftest import BASE

MODEL = "model_sc-upscale-flux-texture"
DESCRIPTION = json.loads((Path(__file__).resolve().parents[3] / "emulator"
                          / f"{MODEL}.json").read_text("utf-8"))
URL = f"{BASE}/models/{MODEL}"


def changed(name: str, **fields: object) -> dict:
    inputs = [({**spec, **fields} if spec["name"] == name else spec)
              for spec in DESCRIPTION["inputs"] if not (spec["name"] == name and not fields)]
    return {"model": {**DESCRIPTION, "inputs": inputs}}


def lookups(mocked: responses.RequestsMock) -> int:
    return sum(1 for c in mocked.calls if c.request.url == URL)


def test_the_model_is_looked_up_once_and_the_settings_pass(
    mocked: responses.RequestsMock, client: ScenarioClient
) -> None:
    mocked.add(responses.GET, URL, json={"model": DESCRIPTION})
    check = ModelCheck()
    for _ in range(3):
        check.check(client, UpscaleParams(upscale_factor=4, preset="creative"))
    assert lookups(mocked) == 1


def test_a_looked_up_model_is_asked_again_after_a_while(
    mocked: responses.RequestsMock, client: ScenarioClient, monkeypatch
) -> None:
    mocked.add(responses.GET, URL, json={"model": DESCRIPTION})
    check = ModelCheck()
    check.check(client, UpscaleParams())
    later = model_check.time.monotonic() + model_check.FRESH_SECONDS + 1
    monkeypatch.setattr(model_check.time, "monotonic", lambda: later)
    check.check(client, UpscaleParams())
    assert lookups(mocked) == 2


def test_a_model_scenario_does_not_have_is_named_and_asked_again_next_time(
    mocked: responses.RequestsMock, client: ScenarioClient
) -> None:
    mocked.add(responses.GET, URL, status=404, json={"reason": f"Model {MODEL} not found"})
    check = ModelCheck()
    for _ in range(2):
        with pytest.raises(ModelUnavailableError) as info:
            check.check(client, UpscaleParams())
        assert f"no model '{MODEL}'" in info.value.message and info.value.not_sent
        assert "Advanced ▸ Model" in info.value.message
    assert lookups(mocked) == 2, "a refusal is not kept: the model may come back"


@pytest.mark.parametrize("answer, params, said", [
    (changed("upscaleFactor", max=2), UpscaleParams(upscale_factor=4), "upscaleFactor"),
    (changed("preset", allowedValues=["precise"]), UpscaleParams(preset="balanced"), "preset"),
    (changed("seed"), UpscaleParams(seed=7), "it no longer takes seed"),
    (changed("prompt", required={"always": True}), UpscaleParams(),
     "it now requires prompt"),
], ids=["a lower maximum", "a choice gone", "an input gone", "an input now required"])
def test_settings_the_model_would_refuse_are_named(
    mocked: responses.RequestsMock, client: ScenarioClient, answer, params, said
) -> None:
    mocked.add(responses.GET, URL, json=answer)
    with pytest.raises(ModelChangedError) as info:
        ModelCheck().check(client, params)
    assert f"Scenario's model '{MODEL}' would refuse this upscale: " in info.value.message
    assert said in info.value.message and "Nothing was uploaded or spent" in info.value.message


def test_a_lookup_that_fails_spends_nothing(
    mocked: responses.RequestsMock, client: ScenarioClient
) -> None:
    for _ in range(4):
        mocked.add(responses.GET, URL, status=503, json={"message": "busy"})
    with pytest.raises(ModelCheckFailedError, match="nothing was uploaded or spent"):
        ModelCheck().check(client, UpscaleParams())
