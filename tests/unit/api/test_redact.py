from __future__ import annotations

import pytest
from scenario_texture_upscale.api import mask_key, redact
from scenario_texture_upscale.api.redact import redact_keys


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Basic ZGVtbzpzZWNyZXQ=", "Authorization: Basic ***"),
        ("{'Authorization': 'Basic ZGVtbzpzZWNyZXQ='}", "{'Authorization': 'Basic ***'}"),
        ('"authorization": "Bearer abc.def-123"', '"authorization": "Bearer ***"'),
        ("authorization=Token xyz", "authorization=***"),
        ("Basic settings are fine", "Basic settings are fine"),
        ("nothing to hide", "nothing to hide"),
        ("", ""),
    ],
)
def test_auth_headers_masked(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_known_secrets_masked_longest_first() -> None:
    assert redact("a=topsecret-long b=topsecret", ["topsecret", "topsecret-long"]) == "a=*** b=***"
    assert redact("x", ["", "y"]) == "x"


def test_mask_key() -> None:
    assert mask_key("demo-key-123") == "demo…"
    assert mask_key("abc") == "a…"
    assert mask_key("") == ""


def test_redact_keys_masks_secrets_and_shortens_keys() -> None:
    text = "key demo-key-123 secret s3cret-value other-key-456"
    assert redact_keys(text, ["s3cret-value"], ["demo-key-123", "other-key-456", ""]) == (
        "key demo… secret *** othe…")
