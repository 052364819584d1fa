from __future__ import annotations

import json

import pytest
import requests
from scenario_texture_upscale.api import (
    AccessDeniedError,
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    RateLimitedError,
    RequestTimeoutError,
    ScenarioError,
    ServiceUnavailableError,
    UnexpectedResponseError,
    error_from_response,
)
from scenario_texture_upscale.api.errors import JobFailedError, parse_error_body


def make_response(
    status: int, body: object = None, headers: dict[str, str] | None = None, text: str = ""
) -> requests.Response:
    resp = requests.Response()
    resp.status_code = status
    resp.headers.update(headers or {})
    if body is not None:
        resp._content = json.dumps(body).encode()
        resp.headers.setdefault("Content-Type", "application/json")
    else:
        resp._content = text.encode()
    return resp


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, InvalidRequestError),
        (401, AuthenticationError),
        (403, AccessDeniedError),
        (404, NotFoundError),
        (408, RequestTimeoutError),
        (422, InvalidRequestError),
        (429, RateLimitedError),
        (500, ServiceUnavailableError),
        (502, ServiceUnavailableError),
        (503, ServiceUnavailableError),
        (504, ServiceUnavailableError),
        (418, UnexpectedResponseError),
    ],
)
def test_status_maps_to_class(status: int, cls: type[ScenarioError]) -> None:
    err = error_from_response(make_response(status, {"reason": "why"}))
    assert type(err) is cls
    assert isinstance(err, ScenarioError)
    assert err.status == status


def test_401_message_points_to_preferences() -> None:
    err = error_from_response(make_response(401, {"reason": "Unauthorized"}))
    assert err.message == (
        "Scenario rejected the API key/secret — check them in the add-on preferences."
    )
    assert err.reason == "Unauthorized"


def test_403_mentions_plan_credits_and_reason() -> None:
    err = error_from_response(
        make_response(403, {"reason": "API Keys cannot access protected resources"})
    )
    assert "API Keys cannot access protected resources" in err.message
    assert "plan" in err.message and "credits" in err.message


def test_404_keeps_service_text() -> None:
    err = error_from_response(make_response(404, {"reason": "Job job_x not found"}))
    assert "Job job_x not found" in err.message
    assert err.reason == "Job job_x not found"


def test_400_and_422_say_what_to_fix() -> None:
    err = error_from_response(make_response(422, {"message": "upscaleFactor must be <= 8"}))
    assert isinstance(err, InvalidRequestError)
    assert "upscaleFactor must be <= 8" in err.message
    assert "settings" in err.message
    assert err.field is None


def test_429_parses_retry_after() -> None:
    err = error_from_response(make_response(429, {"reason": "Too many"}, {"Retry-After": "3"}))
    assert isinstance(err, RateLimitedError)
    assert err.retry_after == 3.0
    err_ms = error_from_response(make_response(429, {}, {"retry-after-ms": "250"}))
    assert isinstance(err_ms, RateLimitedError)
    assert err_ms.retry_after == 0.25


def test_5xx_message() -> None:
    err = error_from_response(make_response(503, {"message": "Service Unavailable"}))
    assert "HTTP 503" in err.message and "Try again" in err.message


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"reason": "r", "message": "m", "error": "e", "detail": "d"}, "r"),
        ({"message": "m", "error": "e", "detail": "d"}, "m"),
        ({"error": "e", "detail": "d"}, "e"),
        ({"detail": "d"}, "d"),
        ({"error": {"message": "nested"}}, "nested"),
        ({"reason": "  ", "message": "fallback"}, "fallback"),
        ({}, None),
        (["not", "an", "object"], None),
    ],
)
def test_reason_read_in_order(body: object, reason: str | None) -> None:
    assert parse_error_body(make_response(400, body))[0] == reason


def test_trace_id_kept_and_shown() -> None:
    err = error_from_response(make_response(500, {"reason": "boom", "trace_id": "tr-123"}))
    assert err.trace_id == "tr-123"
    assert "tr-123" in str(err)
    assert parse_error_body(make_response(500, {"traceId": "camel"}))[1] == "camel"


def test_non_json_bodies() -> None:
    plain = make_response(502, text="Bad gateway", headers={"Content-Type": "text/plain"})
    assert parse_error_body(plain)[0] == "Bad gateway"
    html = make_response(502, text="<html>...</html>", headers={"Content-Type": "text/html"})
    assert parse_error_body(html)[0] is None


def test_long_reason_is_cut() -> None:
    reason = parse_error_body(make_response(400, {"reason": "x" * 5000}))[0]
    assert reason is not None and len(reason) <= 300


def test_secret_scrubbed_from_service_text() -> None:
    body = {"reason": "bad header Authorization: Basic QUJDOkRFRjEyMw== for key s3cr3t-canary"}
    err = error_from_response(make_response(400, body), ("s3cr3t-canary",))
    assert "s3cr3t-canary" not in err.message and "s3cr3t-canary" not in repr(err)
    assert "QUJDOkRFRjEyMw==" not in err.message
    assert "***" in err.message


def test_repr_shows_fields() -> None:
    err = ScenarioError("m", status=500, trace_id="t", reason="r")
    assert repr(err) == "ScenarioError(message='m', status=500, trace_id='t', reason='r')"


def test_defaults_and_extra_fields() -> None:
    assert ScenarioError().message
    err = JobFailedError("failed", job_id="job_1", job_status="failure", hint="h", reason="r")
    assert (err.job_id, err.job_status, err.hint, err.reason) == ("job_1", "failure", "h", "r")
    assert InvalidRequestError("x", field="seed").field == "seed"
    assert RateLimitedError().retry_after is None
    assert ScenarioError().not_sent is False
