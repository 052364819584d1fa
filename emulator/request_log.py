"""In-order record of the requests the emulator received, safe to show in test output.

Image payloads are replaced by ``"<image data: N bytes>"`` and headers are not kept at all,
so credentials never reach the log.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import re
import threading
import time
from typing import Any

_BARE_BASE64 = re.compile(r"[A-Za-z0-9+/\r\n]+={0,2}")
_BARE_BASE64_MIN = 128


def _decoded_size(text: str) -> int:
    try:
        return len(base64.b64decode(text, validate=False))
    except (binascii.Error, ValueError):
        return len(text) * 3 // 4


def elide(value: Any) -> Any:
    """Copy of a JSON value with data URLs and long base64 strings summarised."""
    if isinstance(value, str):
        head, sep, payload = value.partition(",")
        if value.startswith("data:") and sep and head.endswith(";base64"):
            return f"<image data: {_decoded_size(payload)} bytes>"
        if len(value) >= _BARE_BASE64_MIN and _BARE_BASE64.fullmatch(value):
            return f"<image data: {_decoded_size(value)} bytes>"
        return value
    if isinstance(value, dict):
        return {key: elide(item) for key, item in value.items()}
    if isinstance(value, list):
        return [elide(item) for item in value]
    return value


def summarise_body(body: bytes | None, declared_length: int | None = None) -> Any:
    if body is None:
        return None if not declared_length else f"<unread body: {declared_length} bytes>"
    if not body:
        return None
    try:
        return elide(json.loads(body))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return f"<binary data: {len(body)} bytes>"


class RequestLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[dict[str, Any]] = []
        self._seq = 0

    def start(self, method: str, path: str, query: dict[str, Any], body: Any,
              listener: str = "main") -> dict[str, Any]:
        """A new entry; ``listener`` is "other" for a request to the emulator's other origin."""
        with self._lock:
            self._seq += 1
            entry = {
                "seq": self._seq,
                "time": time.time(),
                "method": method,
                "path": path,
                "query": dict(query),
                "body": body,
                "status": None,
                "outcome": "pending",
                "faults": [],
                "durationMs": None,
                "listener": listener,
            }
            self._entries.append(entry)
            return entry

    def finish(self, entry: dict[str, Any], status: int | None, outcome: str,
               faults: list[str] | None = None) -> None:
        with self._lock:
            entry["status"] = status
            entry["outcome"] = outcome
            entry["faults"] = list(faults or [])
            entry["durationMs"] = round((time.time() - entry["time"]) * 1000, 1)

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries = []
