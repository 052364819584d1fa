"""Transport-neutral request and response objects passed between the HTTP layer and the API."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from .errors import ApiError

JSON_TYPE = "application/json; charset=utf-8"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: Message
    body: bytes
    client: str
    # Per-request scratch space (e.g. a claimed expire_urls fault).
    extras: dict[str, Any] = field(default_factory=dict)

    def json(self) -> Any:
        if not self.body.strip():
            return None
        try:
            return json.loads(self.body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ApiError(400, "Request body is not valid JSON") from None

    def json_object(self) -> dict[str, Any]:
        body = self.json()
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise ApiError(400, "Request body must be a JSON object")
        return body

    @property
    def project_id(self) -> str | None:
        return self.query.get("projectId") or None

    def note_fault(self, kind: str) -> None:
        """Records a fault that acted while answering, for the request log."""
        self.extras.setdefault("faults", []).append(kind)


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def json(
        cls, status: int, payload: Any, headers: list[tuple[str, str]] | None = None
    ) -> Response:
        data = json.dumps(payload, separators=(",", ":")).encode()
        return cls(status, data, [("Content-Type", JSON_TYPE), *(headers or [])])

    @classmethod
    def xml_error(cls, status: int, code: str, message: str) -> Response:
        # Shape of a CloudFront/S3 refusal, which is what a signed URL answers with.
        text = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
        )
        return cls(status, text.encode(), [("Content-Type", "application/xml")])
