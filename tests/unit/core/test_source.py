"""Sources whose bytes the main thread hands over in steps (large packed images)."""

from __future__ import annotations

import threading

import pytest
from scenario_texture_upscale.core.source import (
    ArrivingBytes,
    ArrivingSource,
    BytesSource,
    SourceUnavailable,
    head_bytes,
    settle,
)

PNG_HEAD = b"\x89PNG\r\n\x1a\n" + bytes(8)


class Cancelled(Exception):
    pass


def test_settle_waits_for_the_main_thread_to_fill_the_buffer() -> None:
    data = PNG_HEAD + bytes(range(256)) * 100
    arriving = ArrivingBytes(len(data), data[:64])
    source = ArrivingSource(arriving, "packed.png")
    assert head_bytes(source, 8) == PNG_HEAD[:8]

    def fill() -> None:  # what the main thread's steps do, in three pieces
        for start in range(0, len(data), 10_000):
            piece = data[start:start + 10_000]
            arriving.buffer[start:start + len(piece)] = piece
        arriving.complete()

    filler = threading.Timer(0.05, fill)
    filler.start()
    settled = settle(source, lambda: None)
    filler.join()
    assert isinstance(settled, BytesSource) and settled.name == "packed.png"
    assert bytes(settled.data) == data
    assert head_bytes(settled, 8) == PNG_HEAD[:8]


def test_a_failed_hand_over_says_why() -> None:
    arriving = ArrivingBytes(100, PNG_HEAD)
    arriving.fail("'brick' changed while its packed bytes were being read")
    with pytest.raises(SourceUnavailable, match="changed while"):
        settle(ArrivingSource(arriving, "brick.png"), lambda: None)


def test_cancelling_the_wait_tells_the_main_thread_to_stop() -> None:
    arriving = ArrivingBytes(100, PNG_HEAD)
    calls = []

    def check_cancelled() -> None:
        calls.append(1)
        if len(calls) == 2:
            raise Cancelled()

    with pytest.raises(Cancelled):
        arriving.wait(check_cancelled, poll=0.01)
    assert arriving.abandoned


def test_settled_sources_pass_through() -> None:
    source = BytesSource(PNG_HEAD, "a.png")
    assert settle(source, lambda: None) is source
