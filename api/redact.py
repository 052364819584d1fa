"""Scrub secrets out of any text before it is shown to the user or logged."""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "***"

# "Basic <base64>" / "Bearer <token>": the token must contain a digit, "+", "/" or "=" so that
# ordinary prose ("Basic settings") is left alone. Known secrets are replaced before this anyway.
_SCHEME_TOKEN = re.compile(
    r"(?i)\b(basic|bearer)(\s+)(?=[A-Za-z0-9+/._~-]*[0-9+/=])[A-Za-z0-9+/._~-]{6,}=*"
)
# "Authorization: xyz" or "'Authorization': 'xyz'" whatever the scheme.
_AUTH_VALUE = re.compile(
    r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)(?!(?:basic|bearer)\s+\*\*\*)([^'\"\s,}]+(?:\s+[^'\"\s,}]+)?)"
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Return ``text`` with every secret and anything that looks like an auth header masked."""
    if not text:
        return text
    # Longest first, so a secret that contains a shorter one is masked whole.
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _SCHEME_TOKEN.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    return _AUTH_VALUE.sub(lambda m: f"{m.group(1)}{MASK}", text)


def redact_keys(text: str, secrets: Iterable[str] = (), keys: Iterable[str] = ()) -> str:
    """``redact``, and every API key in ``keys`` shortened to its first characters (``mask_key``):
    enough to tell which key was used, too little to use it."""
    text = redact(text, secrets)
    for key in sorted({k for k in keys if k}, key=len, reverse=True):
        text = text.replace(key, mask_key(key))
    return text


def mask_key(api_key: str) -> str:
    """Show just enough of an API key to recognise it: at most its first 4 characters."""
    shown = min(4, len(api_key) // 2)
    return f"{api_key[:shown]}…" if api_key else ""
