"""Maps a method and a path to an endpoint function."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .messages import Request, Response

if TYPE_CHECKING:
    from .services import Services

Endpoint = Callable[["Services", Request, dict[str, str]], Response]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    endpoint: Endpoint
    # Basic auth applies to the /v1 API only; signed URLs and the control API carry none.
    auth: bool


class Router:
    def __init__(self) -> None:
        self._routes: list[Route] = []

    def add(self, method: str, pattern: str, endpoint: Endpoint, *, auth: bool = True) -> None:
        self._routes.append(Route(method, re.compile(f"^{pattern}$"), endpoint, auth))

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """(route, path parameters, whether the path exists under another method)."""
        path_known = False
        for route in self._routes:
            found = route.pattern.match(path)
            if found is None:
                continue
            path_known = True
            if route.method == method or (method == "HEAD" and route.method == "GET"):
                return route, found.groupdict(), True
        return None, {}, path_known
