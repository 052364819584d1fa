"""The model's own description of its inputs, as the service gives it, and how it differs from
the add-on's table (``api.params.FIELD_SPECS``): Test Connection tells the user."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

from .constants import MODEL_ID
from .errors import InvalidRequestError
from .models import as_float, as_int, as_str, unwrap
from .params import FIELD_SPECS, FieldSpec, UpscaleParams
from .service_text import clean_text
from .wording import counted

_MAX_LABEL = 60  # a property's name in the panel


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
            label=clean_text(data.get("label"), _MAX_LABEL) or "",
            description=clean_text(data.get("description")) or "",
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

    @classmethod
    def from_api(cls, data: Any) -> ModelDescription:
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
        )

    def input(self, api_name: str) -> ModelInput | None:
        return next((i for i in self.inputs if i.name == api_name), None)

    def field_specs(self) -> dict[str, FieldSpec]:
        """``FIELD_SPECS`` with ranges, defaults and choices replaced by what the model states."""
        return {name: _merge(spec, self.input(spec.api_name)) for name, spec in FIELD_SPECS.items()}

    def differences(self) -> list[str]:
        """What the service's model accepts that the add-on's table does not match, one
        sentence each (empty when they agree): ranges, choices, inputs gone or newly required."""
        notes: list[str] = []
        for spec in FIELD_SPECS.values():
            given = self.input(spec.api_name)
            if given is None:
                notes.append(f"Scenario's model no longer lists {spec.api_name}.")
                continue
            notes.extend(_range_notes(spec, _merge(spec, given)))
        known = {spec.api_name for spec in FIELD_SPECS.values()}
        notes.extend(f"Scenario's model now requires {i.name}, which this add-on does not send."
                     for i in self.inputs if i.required and i.name not in known)
        return notes

    def refusal(self, params: UpscaleParams) -> str | None:
        """Why this model would refuse ``params`` as they would be sent, or None: an input it no
        longer takes, a value outside what it now accepts, an input it now requires."""
        body = params.to_body()
        gone = [name for name in body if self.input(name) is None]
        if gone:
            return f"it no longer takes {', '.join(gone)}"
        try:
            params.validate(self.field_specs())
        except InvalidRequestError as exc:
            return exc.message.rstrip(".")
        needed = [i.name for i in self.inputs if i.required and i.name not in body]
        if needed:
            return f"it now requires {', '.join(needed)}, which this add-on does not send"
        return None


def _shown(limit: float | None) -> str:
    return "unbounded" if limit is None else f"{limit:g}"


def _range_notes(ours: FieldSpec, theirs: FieldSpec) -> list[str]:
    notes = []
    for what, mine, live in (("lowest", ours.minimum, theirs.minimum),
                             ("highest", ours.maximum, theirs.maximum)):
        if mine != live:
            notes.append(f"{ours.api_name}: Scenario's {what} value is {_shown(live)}; "
                         f"this add-on offers {_shown(mine)}.")
    if ours.choices and set(ours.choices) != set(theirs.choices):
        gone = [c for c in ours.choices if c not in theirs.choices]
        new = [c for c in theirs.choices if c not in ours.choices]
        if gone:
            notes.append(f"{ours.api_name}: Scenario no longer accepts {', '.join(gone)}.")
        if new:
            notes.append(f"{ours.api_name}: Scenario also offers {', '.join(new)}, "
                         "which this add-on does not list yet.")
    if ours.max_items != theirs.max_items:
        takes = ("any number of items" if theirs.max_items is None
                 else f"up to {counted(theirs.max_items, 'item')}")
        notes.append(f"{ours.api_name}: Scenario takes {takes}; this add-on sends up to "
                     f"{ours.max_items}.")
    return notes


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
        names = tuple(v for v in given.allowed_values if as_str(v))
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


def fetch_model(requester: JsonRequester, model_id: str = MODEL_ID) -> ModelDescription:
    """``GET /models/{model_id}``, errors raised as they come (used to check the keys)."""
    return ModelDescription.from_api(
        requester.request_json("GET", f"/models/{quote(model_id, safe='')}"))
