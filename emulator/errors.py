"""Error bodies as the real service sends them: ``{"reason"}`` from the API, ``{"message"}``
from the gateway in front of it."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, TypeVar

from .ids import new_trace_id

T = TypeVar("T")

GATEWAY_STATUSES = frozenset({413, 502, 503, 504})


def reason_body(reason: str) -> dict[str, Any]:
    return {"reason": reason, "trace_id": new_trace_id()}


def gateway_body(message: str) -> dict[str, Any]:
    return {"message": message}


def default_body(status: int) -> dict[str, Any]:
    """Body for an injected status: gateway style for 502/503/504, API style otherwise."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = f"HTTP {status}"
    if status in GATEWAY_STATUSES:
        return gateway_body(phrase)
    return reason_body(phrase)


class ApiError(Exception):
    """Raised by endpoint code; the dispatcher turns it into a JSON error response."""

    def __init__(
        self,
        status: int,
        reason: str,
        *,
        gateway: bool = False,
        headers: list[tuple[str, str]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.gateway = gateway
        self.headers = headers or []
        self.extra = extra or {}  # more fields of the body, e.g. a 429's ``details``

    def body(self) -> dict[str, Any]:
        body = gateway_body(self.reason) if self.gateway else reason_body(self.reason)
        return {**body, **self.extra}


def not_found(kind: str, ident: str) -> ApiError:
    return ApiError(404, f"{kind} {ident} not found")


def existing(item: T | None, kind: str, ident: str) -> T:
    """``item``, or the 404 the service answers for an unknown ``kind`` id."""
    if item is None:
        raise not_found(kind, ident)
    return item
