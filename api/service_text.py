"""Text from Scenario, made safe to show and to log.

Whatever the service says (a ``reason``, a job's error and hint, an upload's ``errorMessage``, a
model's labels) is read through ``clean_text`` where it enters the client: terminal escape codes
and control characters are removed, line breaks become spaces, and the text is cut to a length a
report can show. So a reason cannot colour a console, rewrite a line, forge a line in the log
file or reorder text with bidi overrides. Identifiers and URLs (``is_token``) are never
repaired: one that holds such characters is not what it claims to be, and is refused.
"""

from __future__ import annotations

import math
import re
from typing import Any

# Longer service texts are cut: they are usually HTML pages or stack traces, not advice.
MAX_TEXT = 300
# Ids and signed URLs are long, but not this long.
MAX_TOKEN = 8192

# Terminal escape sequences, removed whole so no "[31m" is left behind: CSI (ESC [ or the C1
# byte 0x9B), OSC (ESC ] … BEL or ESC \), and ESC with one character.
_ESCAPE_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[@-Z\\-_]"
)
# What no shown or logged text may hold: C0 and C1 controls with DEL, the line and paragraph
# separators, bidi embeddings, overrides, isolates and marks, invisible format characters
# (zero-width space, word joiner, BOM, interlinear annotations, tags), and lone surrogates
# (which cannot even be written as UTF-8).
UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb"
    "\ud800-\udfff\U000e0000-\U000e007f]"
)
# Of those, the ones that separate words: they become a space, the others disappear.
_SPACING = re.compile("[\t\n\v\f\r\x85\u2028\u2029]")
_SPACES = re.compile(r"\s{2,}")


def clean_text(value: Any, limit: int = MAX_TEXT) -> str | None:
    """``value`` as a single line without control characters, at most ``limit`` characters;
    None when it is not text or nothing readable is left."""
    if not isinstance(value, str):
        return None
    text = _ESCAPE_SEQUENCE.sub("", value[: limit * 8])  # a page of HTML is not read whole
    text = UNSAFE.sub("", _SPACING.sub(" ", text))
    text = _SPACES.sub(" ", text).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text or None


def is_token(value: Any) -> bool:
    """Whether ``value`` can be an id, a status, a date or a URL: text without any character
    ``clean_text`` would remove, and of a sane length."""
    return (isinstance(value, str) and 0 < len(value) <= MAX_TOKEN
            and UNSAFE.search(value) is None)


def visible(text: str) -> str:
    """``text`` with every unsafe character written as its escape (``\\n``, ``\\x1b``,
    ``\\u202e``): for the log, where what was received matters, but never as it was."""
    return UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def message_text(value: Any, limit: int = MAX_TEXT) -> str | None:
    """A text field of an answer, which Scenario sometimes nests one level down as
    ``{"message": …}`` or ``{"reason": …}``; made safe with ``clean_text``."""
    if isinstance(value, dict):
        value = value.get("message") or value.get("reason")
    return clean_text(value, limit)


def json_kind(value: Any) -> str:
    """What kind of JSON value ``value`` is, for a message that must not echo it: "null",
    "true", "text", "a number", "a list", "an object"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "text"
    if isinstance(value, int):
        return "a number"
    if isinstance(value, float):
        return "a number" if math.isfinite(value) else "NaN or Infinity"
    if isinstance(value, list):
        return "a list"
    return "an object" if isinstance(value, dict) else type(value).__name__
