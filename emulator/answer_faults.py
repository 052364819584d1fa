"""Faults that rewrite an answer once it is made: a service that lies about prices
(``bad_price``) and one whose texts carry control characters (``hostile_text``).

Both act on the JSON the client receives, not on the emulator's state: a job still costs
what pricing.py says, and the request is processed as usual. A rule counts a request only when
the answer holds something it rewrites.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .faults import PRICE_ANSWERS, FaultPlan, FaultRule
from .messages import Response

if TYPE_CHECKING:
    from .messages import Request

# Everything a hostile text can do to a terminal, a report or a log file: colour and clear the
# screen, end the line and forge a whole log record, reverse the text, split it with the
# Unicode line separator and NEL, hide a NUL and a bell.
HOSTILE_TEXT = (
    "\x1b[31mred\x1b[0m\x1b]0;title\x07\x1b[2J\r\n"
    "2030-01-01 00:00:00,000 ERROR core.pipeline [MainThread] forged record\n"
    "\u202eevil\u202c\u2028line\x85next\x00nul\x07\x9b31m"
)
DEFAULT_BAD_PRICE = -500
# The keys whose text the client shows: errors (reason, message, error, detail), a failed job's
# metadata (error, hint), a failed upload (errorMessage).
TEXT_KEYS = frozenset({"reason", "message", "error", "detail", "hint", "errorMessage"})
_DRY_RUN_STATUS = 269


def rewrite(plan: FaultPlan, request: Request, response: Response) -> Response:
    """``response`` with the answer faults that claim it applied (unchanged when none does)."""
    if not response.headers or not any(name.lower() == "content-type" and "json" in value
                                       for name, value in response.headers):
        return response
    try:
        body = json.loads(response.body)
    except ValueError:
        return response
    acted = False
    price = plan.claim_for(frozenset({"bad_price"}), request,
                           lambda rule: bool(_price_places(body, response.status, rule)))
    if price is not None:
        _lie_about_price(body, response.status, price)
        acted = True
    text = plan.claim_for(frozenset({"hostile_text"}), request,
                          lambda rule: any(True for _ in _text_places(body)))
    if text is not None:
        _poison_texts(body, text)
        acted = True
    if not acted:
        return response
    headers = [(k, v) for k, v in response.headers if k.lower() != "content-type"]
    return Response.json(response.status, body, headers)


def _price_places(body: Any, status: int, rule: FaultRule) -> list[tuple[dict[str, Any], str]]:
    """(object, key) of each price the rule rewrites in this answer."""
    if not isinstance(body, dict):
        return []
    wanted = rule.param("answer") or PRICE_ANSWERS
    wanted = {wanted} if isinstance(wanted, str) else set(wanted)
    places: list[tuple[dict[str, Any], str]] = []
    if "creativeUnitsCost" in body:
        if status == _DRY_RUN_STATUS and "dry_run" in wanted:
            places.append((body, "creativeUnitsCost"))
        elif isinstance(body.get("job"), dict) and "generate" in wanted:
            places.append((body, "creativeUnitsCost"))
    job = body.get("job")
    billing = job.get("billing") if isinstance(job, dict) else None
    if isinstance(billing, dict) and "cuCost" in billing and "job" in wanted:
        places.append((billing, "cuCost"))
    return places


def _lie_about_price(body: Any, status: int, rule: FaultRule) -> None:
    for holder, key in _price_places(body, status, rule):
        if rule.param("missing"):
            del holder[key]
        else:
            holder[key] = rule.raw.get("value", DEFAULT_BAD_PRICE)


def _text_places(node: Any, depth: int = 0) -> Iterator[tuple[dict[str, Any], str]]:
    """(object, key) of each service text in the answer, at any depth (job metadata, nested
    error objects)."""
    if depth > 8:
        return
    if isinstance(node, dict):
        for key, value in node.items():
            if key in TEXT_KEYS and isinstance(value, str):
                yield node, key
            else:
                yield from _text_places(value, depth + 1)
    elif isinstance(node, list):
        for item in node:
            yield from _text_places(item, depth + 1)


def _poison_texts(body: Any, rule: FaultRule) -> None:
    hostile = rule.param("text") or HOSTILE_TEXT
    for holder, key in list(_text_places(body)):
        holder[key] = hostile if rule.param("replace") else f"{holder[key]} {hostile}"
