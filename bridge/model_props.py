"""Blender properties for the model's inputs, built from ``api.params.FIELD_SPECS``: the
table that validation uses is also where every slider's limits and every menu's items come from."""

from __future__ import annotations

from typing import Any

from bpy.props import BoolProperty, EnumProperty, FloatProperty, IntProperty

from ..api.params import FIELD_SPECS, FieldSpec


def enum_items(name: str) -> list[tuple[str, str, str]]:
    """(identifier, UI name, tooltip) per choice; lower-case values read in title case."""
    spec = FIELD_SPECS[name]
    return [(value, value.title() if value.islower() else value, tip)
            for value, tip in spec.choice_help]


def _limits(spec: FieldSpec, whole: bool) -> dict[str, Any]:
    limits: dict[str, Any] = {}
    cast = int if whole else float
    if spec.minimum is not None:
        limits["min"] = cast(spec.minimum)
    if spec.maximum is not None:
        limits["max"] = cast(spec.maximum)
    if spec.step is not None:
        # Blender counts a float property's step in hundredths.
        limits["step"] = int(spec.step) if whole else round(spec.step * 100)
    return limits


def model_property(name: str, ui_name: str, description: str = "", **options: Any) -> Any:
    """The property for input ``name``; ``options`` add Blender-only settings (e.g. subtype)."""
    spec = FIELD_SPECS[name]
    common: dict[str, Any] = {"name": ui_name, "description": description or spec.description}
    if spec.default is not None:
        common["default"] = spec.default
    common.update(options)
    if spec.kind == "choice":
        return EnumProperty(items=enum_items(name), **common)
    if spec.kind == "bool":
        return BoolProperty(**common)
    whole = spec.kind == "int" or (spec.step is not None and float(spec.step).is_integer())
    prop = IntProperty if whole else FloatProperty
    return prop(**_limits(spec, whole), **common)
