"""The model descriptions the emulator knows: the upscale model, loaded from the JSON file beside
this module, and a small catalogue of LoRA models a generate may name."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

UPSCALE_MODEL_ID = "model_sc-upscale-flux-texture"
_HERE = Path(__file__).resolve().parent

# Trained LoRAs as ``GET /models/{id}`` describes them (the fields a client may read).
LORA_MODELS: dict[str, dict[str, Any]] = {
    model_id: {"id": model_id, "name": name, "type": "flux.1-lora", "status": "trained",
               "privacy": "private", "trainingImagesNumber": 12}
    for model_id, name in (
        ("model_emulator-lora-weathered-stone", "Weathered stone"),
        ("model_emulator-lora-mossy-brick", "Mossy brick"),
        ("model_emulator-lora-painted-metal", "Painted metal"),
        ("model_emulator-lora-old-wood", "Old wood"),
    )
}


@cache
def _load(model_id: str) -> dict[str, Any] | None:
    path = _HERE / f"{model_id}.json"
    if model_id != UPSCALE_MODEL_ID or not path.is_file():
        return None
    model: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return model


class ModelCatalog:
    """The models one emulator serves. Scenario may rename or retire a model, or change its
    inputs: ``missing`` answers 404 for the upscale model, ``input_changes`` changes its inputs
    (name → the fields to change, or None to remove the input), both in what ``GET /models``
    says and in what a generate accepts."""

    def __init__(self, missing: bool = False,
                 input_changes: dict[str, dict[str, Any] | None] | None = None) -> None:
        self.missing = missing
        self.input_changes = dict(input_changes or {})

    def get_model(self, model_id: str) -> dict[str, Any] | None:
        """A private copy of the model description, or None when the id is unknown."""
        return self.runnable_model(model_id) or copy.deepcopy(LORA_MODELS.get(model_id))

    def runnable_model(self, model_id: str) -> dict[str, Any] | None:
        """The description of a model a generate can run (LoRAs only modify one), or None."""
        model = _load(model_id)
        if model is None or self.missing:
            return None
        model = copy.deepcopy(model)
        inputs = []
        for spec in model["inputs"]:
            if spec["name"] not in self.input_changes:
                inputs.append(spec)
                continue
            change = self.input_changes[spec["name"]]
            if change is not None:
                inputs.append({**spec, **change})
        model["inputs"] = inputs
        return model

    @staticmethod
    def is_lora(model_id: str) -> bool:
        return model_id in LORA_MODELS


def parse_input_changes(raw: Any) -> dict[str, dict[str, Any] | None]:
    """``{"upscaleFactor": {"max": 4}, "detailsEnable": null}``, checked: ValueError if not."""
    if not isinstance(raw, dict):
        raise ValueError("model input changes must be a JSON object: input name -> changes")
    known = {spec["name"] for spec in (_load(UPSCALE_MODEL_ID) or {}).get("inputs", [])}
    for name, change in raw.items():
        if name not in known:
            raise ValueError(f"model input changes name an unknown input {name!r}")
        if change is not None and not isinstance(change, dict):
            raise ValueError(f"the change of {name!r} must be an object or null")
    return raw
