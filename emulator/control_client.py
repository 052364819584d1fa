"""A client for the emulator's control API (faults, request log, state, reset), over HTTP like
everything else: what the Blender tests and the bench use to steer and inspect it."""

from __future__ import annotations

import json
from typing import Any

import requests


class ControlClient:
    def __init__(self, base_url: str, timeout: float = 60.0) -> None:
        self.root = base_url.rsplit("/v1", 1)[0]
        self.timeout = timeout

    def _call(self, method: str, path: str, body: object = None) -> Any:
        # Encoded here, not by requests: a fault plan may hold NaN or Infinity (a bad price),
        # which Python's JSON writes and the emulator reads, and requests refuses.
        data = None if body is None else json.dumps(body)
        response = requests.request(method, self.root + path, data=data, timeout=self.timeout,
                                    headers={"Content-Type": "application/json"})
        response.raise_for_status()
        return response.json() if response.content else None

    def reset(self, clear_state: bool = False) -> None:
        self._call("POST", "/_emulator/reset", {"clearState": clear_state})

    def faults(self, rules: list[dict[str, Any]]) -> None:
        self._call("POST", "/_emulator/faults", rules)

    def fault_state(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/_emulator/faults")["faults"])

    def requests(self) -> list[dict[str, Any]]:
        got = self._call("GET", "/_emulator/requests")
        return got if isinstance(got, list) else list(got["requests"])

    def state(self) -> dict[str, Any]:
        return dict(self._call("GET", "/_emulator/state"))
