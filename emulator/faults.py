"""Fault plans: rules that make chosen requests fail in chosen ways (see README.md).

A rule is claimed at the moment its kind can act: request-level kinds when a request
arrives, job kinds when a generate is about to create a job, ``expire_urls`` when a
response hands out asset URLs or a CDN URL is fetched, ``local_link`` when a response hands
out asset or upload-part URLs, result kinds when a CDN URL is fetched, answer kinds when an
answer holds what they rewrite (answer_faults.py). Only a claim counts toward ``after`` and
``times``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .messages import Request

REQUEST_KINDS = frozenset({"status", "delay", "drop", "redirect", "truncate", "short_length",
                           "drip"})
JOB_KINDS = frozenset({"job_failure", "job_never_finishes"})
EXPIRE_KINDS = frozenset({"expire_urls"})
LINK_KINDS = frozenset({"local_link"})
URL_KINDS = EXPIRE_KINDS | LINK_KINDS
# What a CDN fetch serves instead of the asset's own file.
RESULT_KINDS = frozenset({"result_size", "header_bomb"})
# Answered instead of the request: at most one of these acts.
_TERMINAL = frozenset({"status", "drop", "redirect"})
# How the answer's body goes out: at most one of these acts.
_BODY = frozenset({"truncate", "short_length", "drip"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
ANSWER_KINDS = frozenset({"bad_price", "hostile_text"})
# Where a bad_price acts: the dry run's quote, the paid generate's creativeUnitsCost, a job's
# billing.cuCost (in the generate answer and in every job answer).
PRICE_ANSWERS = frozenset({"dry_run", "generate", "job"})

_COMMON_KEYS = {"kind", "method", "path", "times", "after", "name"}
_KIND_KEYS: dict[str, set[str]] = {
    "status": {"status", "body", "headers", "retry_after", "retry_after_ms"},
    "delay": {"seconds"},
    "drop": {"drop_after_processing"},
    "redirect": {"status", "to"},
    "truncate": {"bytes"},
    "short_length": {"bytes"},
    "drip": {"bytes", "seconds"},
    "job_failure": {"error", "hint"},
    "job_never_finishes": set(),
    "expire_urls": set(),
    "local_link": {"url"},
    "result_size": {"width", "height"},
    "header_bomb": {"width", "height"},
    "bad_price": {"value", "missing", "answer"},
    "hostile_text": {"text", "replace"},
}


class FaultPlanError(ValueError):
    pass


@dataclass
class FaultRule:
    kind: str
    raw: dict[str, Any]
    methods: frozenset[str] | None
    path: re.Pattern[str] | None
    times: int | None
    after: int
    seen: int = 0
    fired: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.methods is not None and method.upper() not in self.methods:
            return False
        return self.path is None or self.path.search(path) is not None

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def param(self, key: str, default: Any = None) -> Any:
        return self.raw.get(key, default)

    def describe(self) -> dict[str, Any]:
        remaining = None if self.times is None else max(0, self.times - self.fired)
        return {**self.raw, "seen": self.seen, "fired": self.fired, "remaining": remaining}


def _number(rule: dict[str, Any], key: str, *, integer: bool) -> None:
    if key not in rule or rule[key] is None:
        return
    value = rule[key]
    kind = int if integer else int | float
    if isinstance(value, bool) or not isinstance(value, kind) or value < 0:
        noun = "integer" if integer else "number"
        raise FaultPlanError(f"fault {key!r} must be a non-negative {noun}")


def parse_rule(raw: Any) -> FaultRule:
    if not isinstance(raw, dict):
        raise FaultPlanError("each fault rule must be a JSON object")
    kind = raw.get("kind")
    if kind not in _KIND_KEYS:
        raise FaultPlanError(f"unknown fault kind {kind!r}; expected one of {sorted(_KIND_KEYS)}")
    unknown = set(raw) - _COMMON_KEYS - _KIND_KEYS[kind]
    if unknown:
        raise FaultPlanError(f"unknown keys for a {kind} fault: {sorted(unknown)}")
    for key in ("times", "after", "bytes", "status", "width", "height"):
        _number(raw, key, integer=True)
    for key in ("seconds", "retry_after", "retry_after_ms"):
        _number(raw, key, integer=False)
    if kind == "status" and not 100 <= int(raw.get("status") or 0) <= 599:
        raise FaultPlanError("a status fault needs 'status' between 100 and 599")
    _check_answer_keys(raw)
    if kind == "redirect" and int(raw.get("status") or 307) not in REDIRECT_STATUSES:
        raise FaultPlanError(f"a redirect fault's 'status' is one of {sorted(REDIRECT_STATUSES)}")
    if kind == "result_size" and not (raw.get("width") and raw.get("height")):
        raise FaultPlanError("a result_size fault needs 'width' and 'height' (at least 1)")
    for key in ("to", "url"):
        if key in raw and not isinstance(raw[key], str):
            raise FaultPlanError(f"fault {key!r} must be a string")
    methods = raw.get("method")
    if isinstance(methods, str):
        methods = [methods]
    if methods is not None and not all(isinstance(m, str) for m in methods):
        raise FaultPlanError("fault 'method' must be a string or a list of strings")
    try:
        path = re.compile(raw["path"]) if raw.get("path") else None
    except (re.error, TypeError) as exc:
        raise FaultPlanError(f"fault 'path' is not a valid regex: {exc}") from None
    times = raw.get("times", 1)
    return FaultRule(
        kind=kind,
        raw=dict(raw),
        methods=frozenset(m.upper() for m in methods) if methods is not None else None,
        path=path,
        times=times or None,
        after=int(raw.get("after") or 0),
    )


def _check_answer_keys(rule: dict[str, Any]) -> None:
    for key in ("missing", "replace"):
        if key in rule and not isinstance(rule[key], bool):
            raise FaultPlanError(f"fault {key!r} must be true or false")
    if "text" in rule and not isinstance(rule["text"], str):
        raise FaultPlanError("fault 'text' must be a string")
    answers = rule.get("answer")
    if isinstance(answers, str):
        answers = [answers]
    if answers is not None and (not isinstance(answers, list)
                                or not set(answers) <= PRICE_ANSWERS or not answers):
        raise FaultPlanError(f"fault 'answer' must be one or a list of {sorted(PRICE_ANSWERS)}")


def parse_plan(raw: Any) -> list[FaultRule]:
    """Accept a list of rules, a single rule, or ``{"rules": [...]}``."""
    if isinstance(raw, dict) and "rules" in raw:
        raw = raw["rules"]
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list):
        raise FaultPlanError("a fault plan is a list of rules")
    return [parse_rule(item) for item in raw]


@dataclass
class RequestFaults:
    """What the request-level rules decided for one request."""

    delay: FaultRule | None = None
    terminal: FaultRule | None = None  # status, drop or redirect
    body: FaultRule | None = None  # truncate, short_length or drip
    fired: list[str] = field(default_factory=list)


class FaultPlan:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []

    def set(self, raw: Any, *, append: bool = False) -> None:
        rules = parse_plan(raw)
        with self._lock:
            self._rules = [*self._rules, *rules] if append else rules

    def clear(self) -> None:
        with self._lock:
            self._rules = []

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [rule.describe() for rule in self._rules]

    def _claim(self, rule: FaultRule, method: str, path: str) -> bool:
        if rule.exhausted or not rule.matches(method, path):
            return False
        rule.seen += 1
        if rule.seen <= rule.after:
            return False
        rule.fired += 1
        return True

    def claim_request(self, method: str, path: str) -> RequestFaults:
        """At most one rule of each slot acts: status, drop and redirect exclude each other, and
        so do truncate, short_length and drip."""
        decision = RequestFaults()
        with self._lock:
            for rule in self._rules:
                if rule.kind not in REQUEST_KINDS:
                    continue
                if rule.kind in _TERMINAL:
                    slot = "terminal"
                elif rule.kind in _BODY:
                    slot = "body"
                else:
                    slot = rule.kind
                if getattr(decision, slot) is not None:
                    continue
                if self._claim(rule, method, path):
                    setattr(decision, slot, rule)
                    decision.fired.append(rule.kind)
        return decision

    def claim_one(self, kinds: frozenset[str], method: str, path: str,
                  can_act: Callable[[FaultRule], bool] | None = None) -> FaultRule | None:
        """The first rule of ``kinds`` that matches (and, given ``can_act``, has something to
        act on in this request) and is not held back by ``after`` or spent by ``times``."""
        with self._lock:
            for rule in self._rules:
                if rule.kind not in kinds or (can_act is not None and not can_act(rule)):
                    continue
                if self._claim(rule, method, path):
                    return rule
        return None

    def claim_for(self, kinds: frozenset[str], request: Request,
                  can_act: Callable[[FaultRule], bool] | None = None) -> FaultRule | None:
        """Like claim_one, and notes the rule that acted on the request (for the request log)."""
        rule = self.claim_one(kinds, request.method, request.path, can_act)
        if rule is not None:
            request.note_fault(rule.kind)
        return rule
