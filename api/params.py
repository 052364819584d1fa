"""The model's inputs: one table of their ranges and choices (validation and the UI's
properties both read it), validation, and the request body."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal

from .errors import InvalidRequestError
from .wording import counted

Kind = Literal[
    "asset", "asset_list", "int", "number", "string", "choice", "bool", "string_list", "number_list"
]


@dataclass(frozen=True)
class FieldSpec:
    """One input of the model. ``default`` None means the service picks (or the input is unset)."""

    name: str
    api_name: str
    kind: Kind
    label: str
    description: str = ""
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    choices: tuple[str, ...] = ()
    # (value, tooltip) per choice: the items of the UI's menus (bridge/model_props.py).
    choice_help: tuple[tuple[str, str], ...] = ()
    max_items: int | None = None
    max_length: int | None = None
    required: bool = False


def _spec_table(*specs: FieldSpec) -> dict[str, FieldSpec]:
    return {spec.name: spec for spec in specs}


# From the published seed table for model_sc-upscale-flux-texture.
FIELD_SPECS: Mapping[str, FieldSpec] = _spec_table(
    FieldSpec("image", "image", "asset", "Image", "Image to upscale", required=True),
    FieldSpec(
        "upscale_factor", "upscaleFactor", "number", "Upscale factor", "Upscale factor",
        default=2, minimum=2, maximum=8, step=1,
    ),
    FieldSpec(
        "preset", "preset", "choice", "Preset", "Select a preset to apply a set of parameters",
        default="balanced", choices=("precise", "balanced", "creative"),
        choice_help=(
            ("precise", "Closest to the source: least re-rendering"),
            ("balanced", "Scenario's default balance of fidelity and detail"),
            ("creative", "Most new detail, furthest from the source"),
        ),
    ),
    FieldSpec(
        "loras", "loras", "string_list", "LoRAs", "List of one or more LoRA model IDs or URLs.",
        default=(),
    ),
    FieldSpec(
        "loras_scale", "lorasScale", "number_list", "LoRA scales", "Scales for the LoRA weights",
        default=(),
    ),
    FieldSpec("prompt", "prompt", "string", "Prompt", "Prompt", default=""),
    FieldSpec(
        "image_prompt", "imagePrompt", "asset_list", "Style images",
        "Upload up to 4 images to guide the style of the output.", max_items=4,
    ),
    FieldSpec(
        "image_prompt_strength", "imagePromptStrength", "number", "Style image strength",
        "Higher fidelity keeps the enhanced image's style closely aligned with the style images",
        default=0.6, minimum=0, maximum=1, step=0.05,
    ),
    FieldSpec(
        "controlnet_conditioning_scale", "controlnetConditioningScale", "number",
        "Structure preservation",
        "Higher values better preserve the structure of the input image.",
        default=0.4, minimum=0, maximum=1, step=0.05,
    ),
    FieldSpec(
        "strength", "strength", "number", "Creativity",
        "Higher values introduce more imaginative elements to the output image.",
        default=0.4, minimum=0, maximum=1, step=0.05,
    ),
    FieldSpec(
        "num_inference_steps", "numInferenceSteps", "int", "Steps",
        "The number of steps for the generation", default=28, minimum=1, maximum=50, step=1,
    ),
    FieldSpec(
        "details_enable", "detailsEnable", "bool", "Enhance details",
        "Enhances fine details in the output image.", default=True,
    ),
    FieldSpec(
        "base_model", "baseModel", "choice", "Base model",
        "Use FLUX.1-dev for stylized images, and FLUX.1-Krea-dev for realistic images.",
        default="FLUX.1-dev", choices=("FLUX.1-dev", "FLUX.1-Krea-dev"),
        choice_help=(
            ("FLUX.1-dev", "Best for stylized textures"),
            ("FLUX.1-Krea-dev", "Best for realistic textures"),
        ),
    ),
    FieldSpec(
        "seed", "seed", "int", "Seed", "Seed used for reproduction", minimum=0,
        maximum=2147483647, step=1,
    ),
)


@dataclass
class UpscaleParams:
    """Inputs of one upscale. ``None`` leaves an input unset (Scenario's default applies)."""

    image: str | None = None
    upscale_factor: float | None = None
    preset: str | None = None
    loras: list[str] | None = None
    loras_scale: list[float] | None = None
    prompt: str | None = None
    image_prompt: list[str] | None = None
    image_prompt_strength: float | None = None
    controlnet_conditioning_scale: float | None = None
    strength: float | None = None
    num_inference_steps: int | None = None
    details_enable: bool | None = None
    base_model: str | None = None
    seed: int | None = None

    def validate(self, specs: Mapping[str, FieldSpec] | None = None) -> None:
        """Raise ``InvalidRequestError`` (``field`` = API name) for the first invalid input.

        ``specs`` overrides the ranges, e.g. with those read from the live model description.
        """
        table = FIELD_SPECS if specs is None else specs
        for f in fields(self):
            spec = table.get(f.name) or FIELD_SPECS[f.name]
            _check(spec, getattr(self, f.name))
        if self.loras_scale is not None and len(self.loras_scale) != len(self.loras or []):
            spec = table.get("loras_scale") or FIELD_SPECS["loras_scale"]
            raise _invalid(
                spec,
                f"must have one scale per LoRA ({len(self.loras or [])})",
                self.loras_scale,
            )

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> UpscaleParams:
        """Params from a body ``to_body`` made (a journaled job's), unknown names ignored."""
        by_api_name = {spec.api_name: name for name, spec in FIELD_SPECS.items()}
        return cls(**{by_api_name[k]: v for k, v in body.items() if k in by_api_name})

    def to_body(self) -> dict[str, Any]:
        """The JSON body: only the inputs that are set, under their camelCase API names."""
        body: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                body[FIELD_SPECS[f.name].api_name] = (
                    list(value) if isinstance(value, (list, tuple)) else value
                )
        return body


def _invalid(spec: FieldSpec, rule: str, value: Any) -> InvalidRequestError:
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return InvalidRequestError(
        f"{spec.label} ({spec.api_name} / {spec.name}) {rule}; got {shown}.",
        field=spec.api_name,
        not_sent=True,
    )


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def _num(value: float) -> str:
    # 2147483647, not 2.14748e+09; 0.5 stays 0.5.
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _range_text(spec: FieldSpec) -> str:
    low, high = spec.minimum, spec.maximum
    if low is not None and high is not None:
        return f" from {_num(low)} to {_num(high)}"
    if low is not None:
        return f" of at least {_num(low)}"
    if high is not None:
        return f" of at most {_num(high)}"
    return ""


def _in_range(spec: FieldSpec, value: float) -> bool:
    return (spec.minimum is None or value >= spec.minimum) and (
        spec.maximum is None or value <= spec.maximum
    )


def _on_whole_step(spec: FieldSpec, value: float) -> bool:
    # Whole steps (e.g. upscaleFactor's 1) are enforced by the service; fractional ones are
    # only a slider hint.
    step = spec.step
    if step is None or step < 1 or not float(step).is_integer():
        return True
    return (value - (spec.minimum or 0)) % step == 0


def _is_asset_id(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip()) and not any(c.isspace() for c in value)


def _check(spec: FieldSpec, value: Any) -> None:
    if value is None:
        if spec.required:
            raise _invalid(spec, "is required", value)
        return
    kind = spec.kind
    if kind == "asset":
        if not _is_asset_id(value):
            raise _invalid(spec, "must be a Scenario asset id (e.g. asset_…)", value)
    elif kind == "number":
        if not _is_number(value) or not _in_range(spec, float(value)):
            raise _invalid(spec, f"must be a number{_range_text(spec)}", value)
        if not _on_whole_step(spec, float(value)):
            raise _invalid(spec, f"must be a multiple of {_num(spec.step or 1)}", value)
    elif kind == "int":
        if not isinstance(value, int) or isinstance(value, bool) or not _in_range(spec, value):
            raise _invalid(spec, f"must be a whole number{_range_text(spec)}", value)
    elif kind == "choice":
        if value not in spec.choices:
            raise _invalid(spec, f"must be one of {', '.join(spec.choices)}", value)
    elif kind == "bool":
        if not isinstance(value, bool):
            raise _invalid(spec, "must be true or false", value)
    elif kind == "string":
        if not isinstance(value, str):
            raise _invalid(spec, "must be text", value)
        if spec.max_length is not None and len(value) > spec.max_length:
            raise _invalid(spec, f"must be at most {spec.max_length} characters", value)
    else:
        _check_list(spec, value)


def _check_list(spec: FieldSpec, value: Any) -> None:
    if not isinstance(value, (list, tuple)):
        raise _invalid(spec, "must be a list", value)
    if spec.max_items is not None and len(value) > spec.max_items:
        raise _invalid(spec, f"must have at most {counted(spec.max_items, 'item')}", value)
    for item in value:
        if spec.kind == "asset_list" and not _is_asset_id(item):
            raise _invalid(spec, "must contain Scenario asset ids", value)
        if spec.kind == "string_list" and not (isinstance(item, str) and item.strip()):
            raise _invalid(spec, "must contain non-empty model ids or URLs", value)
        if spec.kind == "number_list" and not (
            _is_number(item) and _in_range(spec, float(item))
        ):
            raise _invalid(spec, f"must contain numbers{_range_text(spec)}", value)
