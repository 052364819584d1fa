"""The model descriptions the emulator knows, loaded from the JSON files beside this module."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

UPSCALE_MODEL_ID = "model_sc-upscale-flux-texture"
_HERE = Path(__file__).resolve().parent


@cache
def _load(model_id: str) -> dict[str, Any] | None:
    path = _HERE / f"{model_id}.json"
    if model_id != UPSCALE_MODEL_ID or not path.is_file():
        return None
    model: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return model


def get_model(model_id: str) -> dict[str, Any] | None:
    """A private copy of the model description, or None when the id is unknown."""
    model = _load(model_id)
    return copy.deepcopy(model) if model is not None else None


def inputs_of(model_id: str) -> list[dict[str, Any]]:
    model = _load(model_id)
    return list(model["inputs"]) if model else []
