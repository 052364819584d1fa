from __future__ import annotations

import logging
import threading
import time

import pytest
import requests
import responses
from scenario_texture_upscale.api import (
    AuthenticationError,
    CancelledError,
    ConnectionFailedError,
    Credentials,
    InvalidRequestError,
    RateLimitedError,
    RedirectRefusedError,
    RequestTimeoutError,
    RetryPolicy,
    ServiceUnavailableError,
    Transport,
    UnexpectedResponseError,
    UnsafeLinkError,
)

from .conftest import (
    API_KEY,
    BASE,
    CANARY,
    S3,
    TOKEN,
    FakeClock,
    connect_timeout,
    dropped,
    read_timeout,
    refused,
)

URL = f"{BASE}/jobs/job_1"


def make(clock: FakeClock, **kw: object) -> Transport:
    return Transport(
        Credentials(API_KEY, CANARY), BASE, sleep=clock.sleep, clock=clock.now,
        rand=lambda: 0.0, **kw,  # type: ignore[arg-type]
    )


def add_statuses(mocked: responses.RequestsMock, *statuses: int, url: str = URL) -> None:
    for status in statuses:
        mocked.add(responses.GET, url, json={"job": {"jobId": "job_1"}}, status=status)


def test_sends_basic_auth_user_agent_and_json(
    mocked: responses.RequestsMock, clock: FakeClock
) -> None:
    mocked.add(responses.POST, f"{BASE}/assets", json={"ok": True})
    transport = make(clock, user_agent="test-agent/1")
    assert transport.request_json("POST", "/assets", json={"a": 1}) == {"ok": True}
    request = mocked.calls[0].request
    assert request.headers["Authorization"] == f"Basic {TOKEN}"
    assert request.headers["User-Agent"] == "test-agent/1"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Accept"] == "application/json"
    assert request.body == b'{"a":1}'


def test_default_user_agent_names_the_extension(
    mocked: responses.RequestsMock, clock: FakeClock
) -> None:
    add_statuses(mocked, 200)
    make(clock).request("GET", "/jobs/job_1")
    assert "scenario-texture-upscale" in mocked.calls[0].request.headers["User-Agent"]


def test_project_id_query(mocked: responses.RequestsMock, clock: FakeClock) -> None:
    add_statuses(mocked, 200)
    make(clock, project_id="proj_9").request("GET", "/jobs/job_1", params={"x": "1"})
    url = mocked.calls[0].request.url
    assert "projectId=proj_9" in url and "x=1" in url


def test_timeout_passed_to_requests(clock: FakeClock) -> None:
    seen: dict[str, object] = {}

    class Recorder(requests.Session):
        def request(self, *args: object, **kw: object) -> requests.Response:  # type: ignore[override]
            seen.update(kw)
            resp = requests.Response()
            resp.status_code = 200
            resp._content = b"{}"
            return resp

    session = Recorder()
    transport = make(clock, timeout=(3, 42), session=session)
    transport.request_json("GET", "/jobs/job_1")
    assert seen["timeout"] == (3.0, 42.0)
    transport.close()  # a session we did not create stays open for its owner
    assert transport.session is session


def test_get_retried_on_5xx_with_exponential_backoff(
    mocked: responses.RequestsMock, clock: FakeClock
) -> None:
    add_statuses(mocked, 500, 502, 503, 200)
    make(clock).request("GET", "/jobs/job_1")
    assert len(mocked.calls) == 4
    assert clock.sleeps == [0.5, 1.0, 2.0]


def test_gives_up_after_max_retries(mocked: responses.RequestsMock, clock: FakeClock) -> None:
    add_statuses(mocked, 503, 503, 503, 503, 503)
    with pytest.raises(ServiceUnavailableError):
        make(clock).request("GET", "/jobs/job_1")
    assert len(mocked.calls) == 4  # first try + 3 retries (the default)


def test_max_retries_configurable(mocked: responses.RequestsMock, clock: FakeClock) -> None:
    add_statuses(mocked, 503, 503, 503, 503, 503, 503, 503, 200)
    make(clock, max_retries=7).request("GET", "/jobs/job_1")
    assert clock.sleeps == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]  # capped at 8 s


def test_no_retries_when_zero(mocked: responses.RequestsMock, clock: FakeClock) -> None:
    add_statuses(mocked, 503, 200)
    with pytest.raises(ServiceUnavailableError):
        make(clock, max_retries=0).request("GET", "/jobs/job_1")
    assert len(mocked.calls) == 1


def test_jitter_applied(mocked: responses.RequestsMock, clock: FakeClock) -> None:
    add_statuses(mocked, 503, 503, 200)
    transport = Transport(
        Credentials(API_KEY, CANARY), BASE, sleep=clock.sleep, clock=clock.now, rand=lambda: 1.0
    )
    transport.request("GET", "/jobs/job_1")
    assert clock.sleeps == [0.375, 0.75]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "3"}, 3.0),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after-ms": "250", "Retry-After": "10"}, 0.25),
        ({"Retry-After": "0"}, 0.0),
        ({"Retry-After": "60"}, 60.0),
        ({"Retry-After": "61"}, 0.5),  # out of range: own backoff
        ({"Retry-After": "-2"}, 0.5),
        ({}, 0.5),
    ],
)
def test_retry_after_honoured(
    mocked: responses.RequestsMock, clock: FakeClock, headers: dict[str, str], expected: float
) -> None:
    mocked.add(responses.GET, URL, json={"reason": "slow down"}, status=429, headers=headers)
    add_statuses(mocked, 200)
    make(clock).request("GET", "/jobs/job_1")
    assert sum(clock.sleeps) == expected  # a zero wait is not slept at all
    assert len(mocked.calls) == 2


def test_408_retried_for_safe_requests(mocked: responses.RequestsMock, clock: FakeClock) -> None:
    add_statuses(mocked, 408, 200)
    make(clock).request("GET", "/jobs/job_1")
    assert len(mocked.calls) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_client_errors_not_retried(
    mocked: responses.RequestsMock, clock: FakeClock, status: int
) -> None:
    add_statuses(mocked, status, 200)
    with pytest.raises(Exception):  # noqa: B017 - the class is covered in test_errors
        make(clock).request("GET", "/jobs/job_1")
    assert len(mocked.calls) == 1


def test_server_may_forbid_retry(mocked: responses.RequestsMock, clock: FakeClock) -> None:
    mocked.add(responses.GET, URL, status=503, headers={"x-should-retry": "false"})
    add_statuses(mocked, 200)
    with pytest.raises(ServiceUnavailableError):
        make(clock).request("GET", "/jobs/job_1")
    assert len(mocked.calls) == 1


@pytest.mark.parametrize("failure", [refused, dropped, read_timeout, connect_timeout])
def test_safe_requests_retried_on_network_failures(
    mocked: responses.RequestsMock, clock: FakeClock, failure: object
) -> None:
    mocked.add(responses.GET, URL, body=failure())  # type: ignore[operator]
    add_statuses(mocked, 200)
    make(clock).request("GET", "/jobs/job_1")
    assert len(mocked.calls) == 2
    assert clock.sleeps == [0.5]


def test_refused_exhausted_is_connection_failed_and_not_sent(
    mocked: responses.RequestsMock, clock: FakeClock
) -> None:
    for _ in range(4):
        mocked.add(responses.GET, URL, body=refused())
    with pytest.raises(ConnectionFailedError) as info:
        make(clock).request("GET", "/jobs/job_1")
    assert "internet connection" in info.value.message
    assert info.value.not_sent is True
    assert len(mocked.calls) == 4


def test_dns_failure_counts_as_not_sent(mocked: responses.RequestsMock, clock: FakeClock) -> None:
    import socket

    err = requests.exceptions.ConnectionError(socket.gaierror(-2, "Name or service not known"))
    mocked.add(responses.POST, f"{BASE}/x", body=err)
    with pytest.raises(ConnectionFailedError) as info:
        make(clock, max_retries=0).request("POST", "/x", policy=RetryPolicy.SUBMIT)
    assert info.value.not_sent


def test_read_timeout_exhausted(mocked: responses.RequestsMock, clock: FakeClock) -> None:
    for _ in range(4):
        mocked.add(responses.GET, URL, body=read_timeout())
    with pytest.raises(RequestTimeoutError) as info:
        make(clock, timeout=(5, 42)).request("GET", "/jobs/job_1")
    assert "42 s" in info.value.message
    assert not info.value.not_sent


def test_dropped_exhausted(mocked: responses.RequestsMock, clock: FakeClock) -> None:
    for _ in range(4):
        mocked.add(responses.GET, URL, body=dropped())
    with pytest.raises(ConnectionFailedError) as info:
        make(clock).request("GET", "/jobs/job_1")
    assert "interrupted" in info.value.message


def test_tls_failure_not_retried(mocked: responses.RequestsMock, clock: FakeClock) -> None:
    mocked.add(responses.GET, URL, body=requests.exceptions.SSLError("certificate verify failed"))
    with pytest.raises(ConnectionFailedError) as info:
        make(clock).request("GET", "/jobs/job_1")
    assert "TLS" in info.value.message
    assert len(mocked.calls) == 1


def test_other_request_errors_wrapped(mocked: responses.RequestsMock, clock: FakeClock) -> None:
    mocked.add(responses.GET, URL, body=requests.exceptions.InvalidHeader("bad"))
    with pytest.raises(Exception) as info:
        make(clock).request("GET", "/jobs/job_1")
    assert type(info.value).__name__ == "ScenarioError"


def test_non_object_json_is_unexpected(mocked: responses.RequestsMock, clock: FakeClock) -> None:
    mocked.add(responses.GET, URL, json=[1, 2])
    mocked.add(responses.GET, f"{BASE}/text", body="not json")
    with pytest.raises(UnexpectedResponseError):
        make(clock).request_json("GET", "/jobs/job_1")
    with pytest.raises(UnexpectedResponseError):
        make(clock).request_json("GET", "/text")


# --- the unsent-only policies (POST /generate) -------------------------------------------------


@pytest.mark.parametrize("policy", [RetryPolicy.UNSENT_ONLY, RetryPolicy.SUBMIT])
@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
def test_unsent_only_never_repeats_after_server_answer(
    mocked: responses.RequestsMock, clock: FakeClock, policy: RetryPolicy, status: int
) -> None:
    mocked.add(responses.POST, f"{BASE}/g", status=status)
    mocked.add(responses.POST, f"{BASE}/g", json={})
    with pytest.raises(Exception):  # noqa: B017
        make(clock).request("POST", "/g", json={}, policy=policy)
    assert len(mocked.calls) == 1
    assert clock.sleeps == []


@pytest.mark.parametrize("policy", [RetryPolicy.UNSENT_ONLY, RetryPolicy.SUBMIT])
@pytest.mark.parametrize("failure", [refused, connect_timeout])
def test_unsent_only_repeats_when_not_sent(
    mocked: responses.RequestsMock, clock: FakeClock, policy: RetryPolicy, failure: object
) -> None:
    mocked.add(responses.POST, f"{BASE}/g", body=failure())  # type: ignore[operator]
    mocked.add(responses.POST, f"{BASE}/g", json={"ok": 1})
    assert make(clock).request_json("POST", "/g", json={}, policy=policy) == {"ok": 1}
    assert len(mocked.calls) == 2


def test_unsent_only_repeats_after_429(mocked: responses.RequestsMock, clock: FakeClock) -> None:
    mocked.add(responses.POST, f"{BASE}/g", status=429, headers={"Retry-After": "2"})
    mocked.add(responses.POST, f"{BASE}/g", json={"ok": 1})
    make(clock).request("POST", "/g", json={}, policy=RetryPolicy.UNSENT_ONLY)
    assert clock.sleeps == [2.0]


def test_submit_hands_a_429_back_at_once(mocked: responses.RequestsMock, clock: FakeClock) -> None:
    # The paid generate waits for a team slot in the pipeline (core/team_slots.py), not here.
    mocked.add(responses.POST, f"{BASE}/g", status=429, headers={"Retry-After": "2"})
    with pytest.raises(RateLimitedError):
        make(clock).request("POST", "/g", json={}, policy=RetryPolicy.SUBMIT)
    assert clock.sleeps == [] and len(mocked.calls) == 1


def test_unsent_only_read_timeout_is_plain_timeout(
    mocked: responses.RequestsMock, clock: FakeClock
) -> None:
    mocked.add(responses.POST, f"{BASE}/g", body=read_timeout())
    with pytest.raises(RequestTimeoutError):
        make(clock).request("POST", "/g", json={}, policy=RetryPolicy.UNSENT_ONLY)
    assert len(mocked.calls) == 1


# --- cancellation ---------------------------------------------------------------------------


def test_cancel_before_sending(mocked: responses.RequestsMock, clock: FakeClock) -> None:
    event = threading.Event()
    event.set()
    with pytest.raises(CancelledError) as info:
        make(clock, cancel_event=event).request("GET", "/jobs/job_1")
    assert info.value.not_sent
    assert len(mocked.calls) == 0


def test_cancel_checked_between_retries(mocked: responses.RequestsMock) -> None:
    event = threading.Event()
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        event.set()

    add_statuses(mocked, 503, 200)
    transport = Transport(Credentials(API_KEY, CANARY), BASE, sleep=sleep, cancel_event=event)
    with pytest.raises(CancelledError):
        transport.request("GET", "/jobs/job_1")
    assert len(mocked.calls) == 1
    assert len(slept) == 1


def test_real_sleep_wakes_on_cancel(mocked: responses.RequestsMock) -> None:
    event = threading.Event()
    mocked.add(responses.GET, URL, status=429, headers={"Retry-After": "30"})
    transport = Transport(Credentials(API_KEY, CANARY), BASE, cancel_event=event)
    threading.Timer(0.05, event.set).start()
    started = time.monotonic()
    with pytest.raises(CancelledError):
        transport.request("GET", "/jobs/job_1")
    assert time.monotonic() - started < 5


# --- logging ----------------------------------------------------------------------------------


def test_logs_are_redacted(
    mocked: responses.RequestsMock, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="scenario_texture_upscale.api")
    mocked.add(responses.GET, URL, body=dropped())
    mocked.add(responses.GET, URL, status=503)
    mocked.add(responses.GET, URL, json={"job": {"jobId": "job_1"}})
    mocked.add(responses.GET, f"{BASE}/bad", status=401, json={"reason": f"bad secret {CANARY}"})
    transport = make(clock)
    transport.request("GET", "/jobs/job_1")
    with pytest.raises(AuthenticationError) as info:
        transport.request("GET", "/bad")
    transport.log(logging.INFO, "echo %s %s %s", CANARY, TOKEN, API_KEY)
    assert caplog.records, "expected some log lines"
    assert "retry 1/3" in caplog.text
    for text in (caplog.text, info.value.message, repr(info.value), str(info.value)):
        assert CANARY not in text
        assert TOKEN not in text
        assert API_KEY not in text


def test_transport_scrub_masks_key(clock: FakeClock) -> None:
    assert make(clock).scrub(f"key {API_KEY} secret {CANARY}") == "key demo… secret ***"


def test_invalid_request_error_has_no_field_from_server(
    mocked: responses.RequestsMock, clock: FakeClock
) -> None:
    mocked.add(responses.POST, f"{BASE}/g", status=400, json={"reason": "bad"})
    with pytest.raises(InvalidRequestError) as info:
        make(clock).request("POST", "/g", json={}, policy=RetryPolicy.SUBMIT)
    assert info.value.field is None and info.value.reason == "bad"


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize(
    "location", ["http://evil.example/v1/assets", "https://other.example/v1/assets", "/v1/x"])
def test_api_calls_follow_no_redirect(
    mocked: responses.RequestsMock, clock: FakeClock, status: int, location: str
) -> None:
    """A 307 on POST /assets once sent the image again, over plain http, to another host, and
    the add-on took that host's asset id. API calls now follow no redirect at all."""
    mocked.add(responses.POST, f"{BASE}/assets", status=status, headers={"Location": location})
    with pytest.raises(RedirectRefusedError) as info:
        make(clock).request_json("POST", "/assets", body=b'{"image": "data:..."}')
    assert f"redirect (HTTP {status})" in info.value.message
    assert "nothing was sent there" in info.value.message
    assert [c.request.url for c in mocked.calls] == [f"{BASE}/assets"]
    assert clock.sleeps == []


def test_a_redirected_generate_is_refused_without_being_resent(
    mocked: responses.RequestsMock, clock: FakeClock
) -> None:
    mocked.add(responses.POST, f"{BASE}/g", status=307,
               headers={"Location": "http://127.0.0.1:9/g"})
    with pytest.raises(RedirectRefusedError):
        make(clock).request("POST", "/g", json={}, policy=RetryPolicy.SUBMIT)
    assert len(mocked.calls) == 1


@pytest.mark.parametrize(
    ("status", "location", "refused"),
    [(302, f"{S3}/elsewhere", "would drop what was sent"),
     (307, "http://s3.scenario.test/up/1", "is not https"),
     (308, "https://127.0.0.1/up/1", "this computer or its local network")],
)
def test_a_part_upload_redirect_is_checked_before_the_part_is_sent_again(
    mocked: responses.RequestsMock, clock: FakeClock, status: int, location: str, refused: str
) -> None:
    part = f"{S3}/up/1?X-Amz-Signature=s"
    mocked.add(responses.PUT, part, status=status, headers={"Location": location})
    with pytest.raises(UnsafeLinkError, match=refused):
        make(clock).send_external("PUT", part, data=b"part", what="upload address")
    assert [c.request.url for c in mocked.calls] == [part]


def test_a_part_upload_redirect_that_keeps_the_method_is_followed(
    mocked: responses.RequestsMock, clock: FakeClock
) -> None:
    part, moved = f"{S3}/up/1?X-Amz-Signature=s", f"{S3}/region/up/1?X-Amz-Signature=s"
    mocked.add(responses.PUT, part, status=307, headers={"Location": moved})
    mocked.add(responses.PUT, moved, status=200)
    resp = make(clock).send_external("PUT", part, data=b"part")
    assert resp.status_code == 200
    assert [(c.request.url, c.request.body) for c in mocked.calls] == [(part, b"part"),
                                                                       (moved, b"part")]


def test_an_answer_shorter_than_its_length_is_a_broken_connection(
    mocked: responses.RequestsMock, clock: FakeClock
) -> None:
    """urllib3 before 2.0 hands over what came when a connection ends early; a shortened JSON
    answer is a broken connection (retried), never a parse error."""
    whole = b'{"job": {"jobId": "job_1"}}'
    mocked.add(responses.GET, URL, body=whole[:10], auto_calculate_content_length=False,
               headers={"Content-Length": str(len(whole))})
    mocked.add(responses.GET, URL, body=whole)
    assert make(clock).request_json("GET", "/jobs/job_1") == {"job": {"jobId": "job_1"}}
    assert len(mocked.calls) == 2
