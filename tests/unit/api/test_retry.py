from __future__ import annotations

import email.utils

import pytest
from scenario_texture_upscale.api.retry import (
    backoff_delay,
    parse_retry_after,
    server_forbids_retry,
)


@pytest.mark.parametrize(
    ("index", "expected"), [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 8.0), (60, 8.0)]
)
def test_exponential_backoff_capped_at_8s(index: int, expected: float) -> None:
    assert backoff_delay(index, None, lambda: 0.0) == expected


def test_jitter_removes_up_to_a_quarter() -> None:
    assert backoff_delay(2, None, lambda: 1.0) == pytest.approx(1.5)
    assert backoff_delay(2, None, lambda: 0.5) == pytest.approx(1.75)


@pytest.mark.parametrize(("hint", "expected"), [(0.0, 0.0), (3.5, 3.5), (60.0, 60.0)])
def test_server_hint_between_0_and_60s_wins(hint: float, expected: float) -> None:
    assert backoff_delay(0, hint, lambda: 0.9) == expected


@pytest.mark.parametrize("hint", [-1.0, 60.5, 3600.0])
def test_server_hint_out_of_range_ignored(hint: float) -> None:
    assert backoff_delay(1, hint, lambda: 0.0) == 1.0


def test_retry_after_ms_preferred_over_seconds() -> None:
    assert parse_retry_after({"retry-after-ms": "1500", "Retry-After": "9"}, 0) == 1.5


def test_retry_after_seconds_and_case() -> None:
    assert parse_retry_after({"Retry-After": "2"}, 0) == 2.0
    assert parse_retry_after({"RETRY-AFTER": "0.25"}, 0) == 0.25


def test_retry_after_http_date() -> None:
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 7, usegmt=True)
    assert parse_retry_after({"Retry-After": date}, now) == pytest.approx(7.0)


def test_retry_after_garbage_or_absent() -> None:
    assert parse_retry_after({"Retry-After": "soon"}, 0) is None
    assert parse_retry_after({"retry-after-ms": "x"}, 0) is None
    assert parse_retry_after({}, 0) is None


def test_should_retry_header() -> None:
    assert server_forbids_retry({"X-Should-Retry": "false"})
    assert not server_forbids_retry({"x-should-retry": "true"})
    assert not server_forbids_retry({})
