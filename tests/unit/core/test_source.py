"""What a source's first bytes are, without decoding it."""

from __future__ import annotations

from scenario_texture_upscale.core.source import BytesSource, head_bytes

PNG_HEAD = b"\x89PNG\r\n\x1a\n" + bytes(8)


def test_head_bytes_of_packed_bytes() -> None:
    assert head_bytes(BytesSource(PNG_HEAD, "a.png"), 8) == PNG_HEAD[:8]
