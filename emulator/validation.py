"""Checks a generate body against the model's input descriptions (types, ranges, lists).

Every refusal is a 400 whose reason names the offending field in double quotes.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

from .errors import ApiError

SEED_MAX = 2147483647


def _bad(name: str, problem: str) -> ApiError:
    return ApiError(400, f'Invalid input "{name}": {problem}')


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_number(spec: dict[str, Any], value: Any, name: str) -> None:
    if not _is_number(value):
        raise _bad(name, "must be a number")
    low, high, step = spec.get("min"), spec.get("max"), spec.get("step")
    if low is not None and high is not None and not low <= value <= high:
        raise _bad(name, f"must be between {low} and {high} (got {value})")
    if low is not None and value < low:
        raise _bad(name, f"must be greater than or equal to {low} (got {value})")
    if high is not None and value > high:
        raise _bad(name, f"must be less than or equal to {high} (got {value})")
    # Only whole steps are enforced; fractional steps are a UI hint.
    if step is not None and float(step).is_integer() and step >= 1:
        if (value - (low or 0)) % step != 0:
            raise _bad(name, f"must be a multiple of {step} (got {value})")


def _check_string(spec: dict[str, Any], value: Any, name: str) -> None:
    if not isinstance(value, str):
        raise _bad(name, "must be a string")
    allowed = spec.get("allowedValues")
    if allowed and value not in allowed:
        raise _bad(name, "must be one of " + ", ".join(map(str, allowed)) + f" (got {value!r})")
    limit = spec.get("maxLength")
    if limit is not None and len(value) > limit:
        raise _bad(name, f"must be at most {limit} characters long")


def _check_list(spec: dict[str, Any], value: Any, name: str) -> list[Any]:
    if not isinstance(value, list):
        raise _bad(name, "must be an array")
    limit = spec.get("maxLength")
    if limit is not None and len(value) > limit:
        raise _bad(name, f"must contain at most {limit} items (got {len(value)})")
    return value


def _check_asset(value: Any, name: str, asset_exists: Callable[[str], bool]) -> None:
    if not isinstance(value, str) or not value:
        raise _bad(name, "must be an asset id")
    if not asset_exists(value):
        raise _bad(name, f"asset {value} not found")


def _check_model(value: Any, name: str, model_exists: Callable[[str], bool]) -> None:
    if not isinstance(value, str) or not value:
        raise _bad(name, "must contain model ids or URLs")
    # A URL names weights the service fetches itself; an id must be a model it knows.
    if "://" not in value and not model_exists(value):
        raise _bad(name, f"model {value} not found")


def _check_value(
    spec: dict[str, Any], value: Any, asset_exists: Callable[[str], bool],
    model_exists: Callable[[str], bool],
) -> None:
    name, kind = spec["name"], spec["type"]
    if kind == "number":
        _check_number(spec, value, name)
    elif kind == "string":
        _check_string(spec, value, name)
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise _bad(name, "must be a boolean")
    elif kind == "file":
        _check_asset(value, name, asset_exists)
    elif kind == "file_array":
        for item in _check_list(spec, value, name):
            _check_asset(item, name, asset_exists)
    elif kind == "model_array":
        for item in _check_list(spec, value, name):
            _check_model(item, name, model_exists)
    elif kind == "number_array":
        for item in _check_list(spec, value, name):
            if not _is_number(item):
                raise _bad(name, "must contain numbers only")
    else:
        raise _bad(name, f"has an unsupported input type {kind}")


def validate_inputs(
    body: Any, inputs: list[dict[str, Any]], asset_exists: Callable[[str], bool],
    model_exists: Callable[[str], bool],
) -> dict[str, Any]:
    """Validate ``body``; return the resolved inputs (defaults filled in, seed drawn)."""
    if not isinstance(body, dict):
        raise ApiError(400, "Request body must be a JSON object")
    specs = {spec["name"]: spec for spec in inputs}
    for name in body:
        if name not in specs:
            raise _bad(name, "is not allowed")
    resolved: dict[str, Any] = {}
    for spec in inputs:
        name = spec["name"]
        if name not in body:
            if (spec.get("required") or {}).get("always"):
                raise _bad(name, "is required")
            if "default" in spec:
                resolved[name] = spec["default"]
            continue
        _check_value(spec, body[name], asset_exists, model_exists)
        resolved[name] = body[name]
    if len(resolved.get("lorasScale", [])) != len(resolved.get("loras", [])):
        raise _bad("lorasScale", "must have one scale per LoRA in \"loras\"")
    if "seed" not in resolved:
        resolved["seed"] = random.randint(0, SEED_MAX)
    return resolved
