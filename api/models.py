"""Plain data read from Scenario's camelCase envelopes, tolerant of missing or odd fields.

What comes in is checked here, once: ids, statuses and URLs must be clean tokens, texts meant
for people are made safe (``service_text``), prices must be usable (``prices``).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

from .prices import MISSING, price_problem, usable_credits
from .service_text import is_token, message_text

_LOG = logging.getLogger(__name__)

STATUSES: tuple[str, ...] = (
    "pending",
    "queued",
    "warming-up",
    "in-progress",
    "finalizing",
    "success",
    "failure",
    "canceled",
)
TERMINAL_STATUSES = frozenset({"success", "failure", "canceled"})
# Spellings seen in other Scenario endpoints or docs, mapped to the job API's own words.
_STATUS_ALIASES = {"failed": "failure", "cancelled": "canceled", "in_progress": "in-progress"}


def as_str(value: Any) -> str | None:
    """An id, status, date or URL: refused (None) when it holds control characters."""
    return value if is_token(value) else None


def as_float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                return None
        else:
            return None
    number = float(value)
    return number if math.isfinite(number) else None


def as_int(value: Any) -> int | None:
    number = as_float(value)
    return int(number) if number is not None else None


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def unwrap(envelope: Any, key: str) -> dict[str, Any]:
    """``{"asset": {...}}`` → ``{...}``; a bare object is accepted as is."""
    data = as_dict(envelope)
    inner = data.get(key)
    return inner if isinstance(inner, dict) else data


@dataclass(frozen=True)
class Asset:
    id: str
    url: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None
    size: int | None = None
    status: str | None = None

    @classmethod
    def from_api(cls, data: Any) -> Asset:
        asset = unwrap(data, "asset")
        props = as_dict(asset.get("properties"))
        return cls(
            id=as_str(asset.get("id")) or "",
            url=as_str(asset.get("url")),
            mime_type=as_str(asset.get("mimeType")),
            width=as_int(props.get("width", asset.get("width"))),
            height=as_int(props.get("height", asset.get("height"))),
            size=as_int(props.get("size", asset.get("size"))),
            status=as_str(asset.get("status")),
        )


@dataclass(frozen=True)
class StatusChange:
    status: str
    date: str | None = None


@dataclass(frozen=True)
class Job:
    job_id: str
    status: str
    progress: float = 0.0
    asset_ids: tuple[str, ...] = ()
    error: str | None = None
    hint: str | None = None
    cost: float | None = None
    status_history: tuple[StatusChange, ...] = field(default=(), compare=False)
    job_type: str | None = None
    # Set when Scenario stated a cost that is not a usable price: the cost is then unknown.
    cost_problem: str | None = field(default=None, compare=False)

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def succeeded(self) -> bool:
        return self.status == "success"

    @classmethod
    def from_api(cls, data: Any, cost: Any = MISSING) -> Job:
        """Parse ``{"job": {...}}``; ``cost`` (the run answer's creativeUnitsCost) wins over the
        job's ``billing.cuCost`` if both are usable."""
        job = unwrap(data, "job")
        meta = as_dict(job.get("metadata"))
        status = (as_str(job.get("status")) or "pending").lower()
        progress = as_float(job.get("progress")) or 0.0
        raw_ids = meta.get("assetIds")
        history = tuple(
            StatusChange(status=str(item.get("status")), date=as_str(item.get("date")))
            for item in (job.get("statusHistory") or [])
            if isinstance(item, dict) and as_str(item.get("status"))
        )
        billed, problem = _reported_cost(cost, as_dict(job.get("billing")).get("cuCost", MISSING))
        return cls(
            job_id=as_str(job.get("jobId")) or as_str(job.get("id")) or "",
            status=_STATUS_ALIASES.get(status, status),
            progress=min(1.0, max(0.0, progress)),
            asset_ids=tuple(i for i in raw_ids if as_str(i)) if isinstance(raw_ids, list) else (),
            error=message_text(meta.get("error")),
            hint=message_text(meta.get("hint")),
            cost=billed,
            status_history=history,
            job_type=as_str(job.get("jobType")),
            cost_problem=problem,
        )


def _reported_cost(*stated: Any) -> tuple[float | None, str | None]:
    """The first usable one of the costs Scenario stated, else None with what was wrong. Not
    stating a cost (absent, null) is allowed; stating garbage makes the cost unknown, never 0."""
    problem = None
    for value in stated:
        if value is MISSING or value is None:
            continue
        credits = usable_credits(value)
        if credits is not None:
            return credits, None
        problem = problem or price_problem(value)
    if problem is not None:
        _LOG.warning("Scenario stated a job cost that is not a usable number (%s): the cost "
                     "is unknown", problem)
    return None, problem


@dataclass(frozen=True)
class Quote:
    """A dry-run price: ``cost`` in creative units, before nothing was run or charged."""

    cost: float
    discount: float | None = None
    details: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_api(cls, data: Any) -> Quote | None:
        """None unless ``creativeUnitsCost`` is a usable price (``Quote.problem`` says why)."""
        body = as_dict(data)
        cost = usable_credits(body.get("creativeUnitsCost", MISSING))
        if cost is None:
            return None
        return cls(
            cost=cost,
            discount=usable_credits(body.get("creativeUnitsDiscount")),
            details=as_dict(body.get("costDetails")),
        )

    @staticmethod
    def problem(data: Any) -> str | None:
        """What is wrong with the answer's price, or None when it is usable."""
        return price_problem(as_dict(data).get("creativeUnitsCost", MISSING))


@dataclass(frozen=True)
class Download:
    path: str
    size: int
    sha256: str
    mime_type: str
