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


def get_model(model_id: str) -> dict[str, Any] | None:
    """A private copy of the model description, or None when the id is unknown."""
    model = _load(model_id) or LORA_MODELS.get(model_id)
    return copy.deepcopy(model) if model is not None else None


def runnable_model(model_id: str) -> dict[str, Any] | None:
    """The description of a model a generate can run (LoRAs only modify one), or None."""
    model = _load(model_id)
    return copy.deepcopy(model) if model is not None else None


def is_lora(model_id: str) -> bool:
    return model_id in LORA_MODELS


def inputs_of(model_id: str) -> list[dict[str, Any]]:
    model = _load(model_id)
    return list(model["inputs"]) if model else []
