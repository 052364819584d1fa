"""``/_emulator/*``: the test-only control API (no auth, loopback clients only).

- ``GET /_emulator/faults``: the current plan with per-rule counters.
- ``POST /_emulator/faults``: a list of rules replaces the plan; ``{"rules": [...],
  "append": true}`` adds to it.
- ``POST /_emulator/reset``: clears faults and the request log; ``{"clearState": true}``
  also drops all jobs, uploads and assets.
- ``GET /_emulator/requests``: the request log. ``GET /_emulator/state``: jobs, uploads, assets.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from .errors import ApiError
from .faults import FaultPlanError
from .messages import Request, Response

if TYPE_CHECKING:
    from .router import Router
    from .services import Services


def _loopback_only(request: Request) -> None:
    try:
        loopback = ipaddress.ip_address(request.client).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ApiError(403, "The emulator control API only answers loopback clients")


def get_faults(services: Services, request: Request, _params: dict[str, str]) -> Response:
    _loopback_only(request)
    return Response.json(200, {"faults": services.faults.describe()})


def set_faults(services: Services, request: Request, _params: dict[str, str]) -> Response:
    _loopback_only(request)
    body = request.json()
    append = isinstance(body, dict) and bool(body.get("append"))
    try:
        services.faults.set([] if body is None else body, append=append)
    except FaultPlanError as exc:
        raise ApiError(400, str(exc)) from None
    return Response.json(200, {"faults": services.faults.describe()})


def reset(services: Services, request: Request, _params: dict[str, str]) -> Response:
    _loopback_only(request)
    clear_state = bool(request.json_object().get("clearState"))
    services.reset(clear_state=clear_state)
    return Response.json(200, {"ok": True, "clearedState": clear_state})


def requests(services: Services, request: Request, _params: dict[str, str]) -> Response:
    _loopback_only(request)
    return Response.json(200, services.log.entries())


def state(services: Services, request: Request, _params: dict[str, str]) -> Response:
    _loopback_only(request)
    return Response.json(200, services.state())


def register(router: Router) -> None:
    router.add("GET", "/_emulator/faults", get_faults, auth=False)
    router.add("POST", "/_emulator/faults", set_faults, auth=False)
    router.add("POST", "/_emulator/reset", reset, auth=False)
    router.add("GET", "/_emulator/requests", requests, auth=False)
    router.add("GET", "/_emulator/state", state, auth=False)
