"""Identifiers and timestamps in the shapes the real API uses."""

from __future__ import annotations

import secrets
import string
from datetime import UTC, datetime

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    """``asset_…``/``job_…`` style id: a prefix and random base62 characters."""
    return f"{prefix}_" + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_trace_id() -> str:
    return secrets.token_hex(16)


def iso(epoch: float) -> str:
    """ISO 8601 with milliseconds and ``Z``, like ``2023-02-03T11:19:41.579Z``."""
    text = datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")
