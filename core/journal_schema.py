"""What a journal entry may hold, checked whole on every load: one rule set, not checks scattered
where fields are used.

The schema is the JobRecord dataclass itself: each field must have the type its annotation
declares (``conforms``), and the fields below have a rule of their own on top (ids that name
files, prices, the history's [step, time] pairs, a UDIM set's tile list). An entry that breaks
any rule is damaged as a whole: it is not repaired field by field (journal.py moves it aside).
"""

from __future__ import annotations

import enum
import math
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..api.prices import usable_credits
from ..api.service_text import json_kind


class EntryDamaged(ValueError):
    """Why an entry cannot be used, in words for the log."""


def is_local_id(value: Any) -> bool:
    """A job's local id names its file: letters and digits only (no path, no dot)."""
    return isinstance(value, str) and 0 < len(value) <= 64 and value.isascii() and value.isalnum()


def _number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    # An int is always finite, and may be too large for math.isfinite.
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def conforms(value: Any, hint: Any) -> bool:
    """Whether ``value`` (as JSON gives it) has the type ``hint`` declares. Unknown hints fail:
    a new kind of field must be taught here before it can be loaded."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return True
    if hint is type(None):
        return value is None
    if origin in (typing.Union, types.UnionType):
        return any(conforms(value, arg) for arg in args)
    if origin is list:
        return isinstance(value, list) and all(conforms(item, args[0]) for item in value)
    if origin is dict:
        return isinstance(value, dict) and all(
            isinstance(key, str) and conforms(item, args[1]) for key, item in value.items())
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return isinstance(value, str) and value in {member.value for member in hint}
    if hint is float:
        return _number(value)
    if hint is int:
        return _whole(value)
    if hint is str:
        return isinstance(value, str)
    if hint is bool:
        return isinstance(value, bool)
    return False


def _history_entry(entry: list[Any]) -> bool:
    return len(entry) == 2 and isinstance(entry[0], str) and _number(entry[1])


def _tile_entry(entry: dict[str, Any]) -> bool:
    return (_whole(entry.get("tile")) and is_local_id(entry.get("local_id"))
            and isinstance(entry.get("label", ""), str))


def _preview(preview: dict[str, Any]) -> bool:
    """A preview set's record names its variants, a variant's names its set: ids only."""
    variants = preview.get("variants", [])
    return (isinstance(variants, list)
            and all(isinstance(v, dict) and is_local_id(v.get("local_id")) for v in variants)
            and (preview.get("set", "") == "" or is_local_id(preview.get("set"))))


def _factor(params: dict[str, Any]) -> bool:
    return "upscaleFactor" not in params or _number(params["upscaleFactor"])


# Field → (rule on top of its type, what the rule asks for).
FIELD_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "local_id": (is_local_id, "a job id of letters and digits"),
    "tile_set": (lambda v: v == "" or is_local_id(v), "empty or a job id"),
    "quote": (lambda v: v is None or usable_credits(v) is not None, "null or a usable price"),
    "cost": (lambda v: v is None or usable_credits(v) is not None, "null or a usable price"),
    "history": (lambda v: all(_history_entry(e) for e in v), "a list of [step, time] pairs"),
    "tiles": (lambda v: all(_tile_entry(e) for e in v), "a list of {tile, local_id, label}"),
    "source_size": (lambda v: len(v) in (0, 2) and min(v, default=0) >= 0,
                    "empty or [width, height]"),
    "result_size": (lambda v: v >= 0, "a size in bytes"),
    "tile": (lambda v: v >= 0, "a tile number"),
    "params": (_factor, "settings whose upscaleFactor is a number"),
    "preview": (lambda v: _preview(v), "{set: a job id} or {variants: [{local_id}]}"),
}


def _wanted(hint: Any) -> str:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return " or ".join(_wanted(arg) for arg in typing.get_args(hint))
    names = {str: "text", int: "a whole number", float: "a number", bool: "true or false",
             type(None): "null", list: "a list", dict: "an object"}
    origin = typing.get_origin(hint) or hint
    if isinstance(origin, type) and issubclass(origin, enum.Enum):
        return "one of " + ", ".join(str(member.value) for member in origin)
    return names.get(origin, str(hint))


def check_fields(data: Mapping[str, Any], hints: Mapping[str, Any],
                 required: Iterable[str]) -> None:
    """Raises EntryDamaged for the first field that breaks the schema. Fields the schema does
    not know are left to the caller (an older add-on ignores what a same-version one added)."""
    for name in required:
        if name not in data:
            raise EntryDamaged(f"it has no '{name}'")
    for name, hint in hints.items():
        if name not in data:
            continue
        value = data[name]
        if not conforms(value, hint):
            raise EntryDamaged(f"'{name}' should be {_wanted(hint)}, not {json_kind(value)}")
        rule = FIELD_RULES.get(name)
        if rule is not None and not rule[0](value):
            raise EntryDamaged(f"'{name}' should be {rule[1]}")
