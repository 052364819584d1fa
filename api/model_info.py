"""The model's own description of its inputs, from the service or from the bundled copy."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import quote

from .constants import MODEL_ID
from .errors import (
    ConnectionFailedError,
    RateLimitedError,
    RequestTimeoutError,
    ScenarioError,
    ServiceUnavailableError,
    UnexpectedResponseError,
)
from .models import as_dict, as_float, as_int, as_str, unwrap
from .params import FIELD_SPECS, FieldSpec

BUNDLED_MODEL_PATH = Path(__file__).with_name(f"{MODEL_ID}.json")
# Failures that say nothing about the keys or the model: the offline copy is good enough then.
_OFFLINE_ERRORS = (
    ConnectionFailedError,
    RequestTimeoutError,
    ServiceUnavailableError,
    RateLimitedError,
    UnexpectedResponseError,
)


class JsonRequester(Protocol):
    def request_json(self, method: str, path: str, **kw: Any) -> dict[str, Any]: ...


@dataclass(frozen=True)
class ModelInput:
    name: str
    type: str
    default: Any = None
    min: float | None = None
    max: float | None = None
    step: float | None = None
    allowed_values: tuple[Any, ...] = ()
    required: bool = False
    label: str = ""
    description: str = ""
    max_length: int | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> ModelInput:
        allowed = data.get("allowedValues")
        values = tuple(
            (item.get("value") if isinstance(item, dict) else item)
            for item in (allowed if isinstance(allowed, list) else [])
        )
        return cls(
            name=as_str(data.get("name")) or "",
            type=as_str(data.get("type")) or "",
            default=data.get("default"),
            min=as_float(data.get("min")),
            max=as_float(data.get("max")),
            step=as_float(data.get("step")),
            allowed_values=tuple(v for v in values if v is not None),
            required=_required(data.get("required")),
            label=as_str(data.get("label")) or "",
            description=as_str(data.get("description")) or "",
            max_length=as_int(data.get("maxLength")),
        )


def _required(value: Any) -> bool:
    # Seen both as a boolean and as {"always": true}.
    if isinstance(value, dict):
        return value.get("always") is True
    return value is True


@dataclass(frozen=True)
class ModelDescription:
    model_id: str
    name: str
    inputs: tuple[ModelInput, ...]
    source: Literal["service", "bundled"] = "service"
    # Why the bundled copy is used (a user-facing sentence), when source == "bundled".
    fallback_reason: str | None = None

    @classmethod
    def from_api(
        cls, data: Any, source: Literal["service", "bundled"] = "service"
    ) -> ModelDescription:
        model = unwrap(data, "model")
        raw_inputs = model.get("inputs")
        inputs = tuple(
            ModelInput.from_api(item)
            for item in (raw_inputs if isinstance(raw_inputs, list) else [])
            if isinstance(item, dict) and as_str(item.get("name"))
        )
        return cls(
            model_id=as_str(model.get("id")) or MODEL_ID,
            name=as_str(model.get("name")) or "",
            inputs=inputs,
            source=source,
        )

    def input(self, api_name: str) -> ModelInput | None:
        return next((i for i in self.inputs if i.name == api_name), None)

    def field_specs(self) -> dict[str, FieldSpec]:
        """``FIELD_SPECS`` with ranges, defaults and choices replaced by what the model states."""
        return {name: _merge(spec, self.input(spec.api_name)) for name, spec in FIELD_SPECS.items()}

    def choices(self, snake_name: str) -> tuple[str, ...]:
        return self.field_specs()[snake_name].choices

    @property
    def presets(self) -> tuple[str, ...]:
        return self.choices("preset")

    @property
    def base_models(self) -> tuple[str, ...]:
        return self.choices("base_model")


def _merge(spec: FieldSpec, given: ModelInput | None) -> FieldSpec:
    if given is None:
        return spec
    changes: dict[str, Any] = {}
    if given.min is not None:
        changes["minimum"] = given.min
    if given.max is not None:
        changes["maximum"] = given.max
    if given.step is not None:
        changes["step"] = given.step
    if given.max_length is not None:
        # On array inputs maxLength counts items (imagePrompt: up to 4 images).
        list_kind = spec.kind in ("asset_list", "string_list", "number_list")
        changes["max_items" if list_kind else "max_length"] = given.max_length
    if spec.kind == "choice":
        names = tuple(str(v) for v in given.allowed_values if isinstance(v, str) and v)
        if names:
            changes["choices"] = names
            changes["choice_help"] = tuple(h for h in spec.choice_help if h[0] in names)
    if given.default is not None and _default_fits(spec, given.default):
        changes["default"] = given.default
    if given.label:
        changes["label"] = given.label
    if given.description:
        changes["description"] = given.description
    return dataclasses.replace(spec, **changes)


def _default_fits(spec: FieldSpec, value: Any) -> bool:
    if spec.kind in ("number", "int"):
        return as_float(value) is not None
    if spec.kind == "bool":
        return isinstance(value, bool)
    if spec.kind in ("choice", "string"):
        return isinstance(value, str)
    return isinstance(value, list)


def load_bundled_model(reason: str | None = None) -> ModelDescription:
    data = json.loads(BUNDLED_MODEL_PATH.read_text(encoding="utf-8"))
    described = ModelDescription.from_api(as_dict(data), source="bundled")
    return dataclasses.replace(described, fallback_reason=reason)


def fetch_model(requester: JsonRequester) -> ModelDescription:
    """``GET /models/{MODEL_ID}``, errors raised as they come (used to check the keys)."""
    return ModelDescription.from_api(requester.request_json("GET", f"/models/{quote(MODEL_ID)}"))


def describe_model(requester: JsonRequester) -> ModelDescription:
    """The live description, or the bundled copy (``source="bundled"``) when offline.

    Errors about the keys, plan or model (401, 403, 404, 400) are raised: the copy would hide them.
    """
    try:
        described = fetch_model(requester)
    except _OFFLINE_ERRORS as exc:
        return load_bundled_model(
            f"Using the built-in model settings: {_first_sentence(exc)}"
        )
    if not described.inputs:
        return load_bundled_model(
            "Using the built-in model settings: Scenario's description listed no inputs."
        )
    return described


def _first_sentence(exc: ScenarioError) -> str:
    return exc.message.split(". ", 1)[0].rstrip(".") + "."
