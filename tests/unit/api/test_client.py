from __future__ import annotations

import json

import pytest
import requests
import responses
from scenario_texture_upscale.api import (
    DRY_RUN_STATUS,
    MODEL_ID,
    AuthenticationError,
    CancelledError,
    ConnectionFailedError,
    DryRunIgnoredError,
    InvalidRequestError,
    Job,
    JobFailedError,
    NotFoundError,
    RateLimitedError,
    ScenarioClient,
    ServiceUnavailableError,
    SubmissionUncertainError,
    UnexpectedResponseError,
    UnusablePriceError,
    UpscaleParams,
    raise_for_job,
)

from .conftest import (
    BASE,
    CANARY,
    GENERATE,
    FakeClock,
    asset_json,
    connect_timeout,
    dropped,
    job_json,
    read_timeout,
    refused,
)

PARAMS = UpscaleParams(image="asset_src", upscale_factor=4, preset="precise")
CANNOT_CANCEL = {"reason": "Cannot cancel this type of job. Action not permitted."}


def generate_calls(mocked: responses.RequestsMock) -> int:
    return sum(1 for c in mocked.calls if c.request.url.split("?")[0] == GENERATE)


# --- check_connection ---------------------------------------------------------------------------


def test_check_connection_ok(mocked: responses.RequestsMock, client: ScenarioClient) -> None:
    mocked.add(
        responses.GET, f"{BASE}/models/{MODEL_ID}",
        json={"model": {"id": MODEL_ID, "inputs": [{"name": "image", "type": "file"}]}},
    )
    described = client.check_connection()
    assert described.model_id == MODEL_ID


def test_check_connection_bad_keys(mocked: responses.RequestsMock, client: ScenarioClient) -> None:
    mocked.add(responses.GET, f"{BASE}/models/{MODEL_ID}", status=401, json={"reason": "nope"})
    with pytest.raises(AuthenticationError) as info:
        client.check_connection()
    assert "add-on preferences" in info.value.message
    assert len(mocked.calls) == 1


def test_check_connection_offline_does_not_fall_back(
    mocked: responses.RequestsMock, client: ScenarioClient
) -> None:
    for _ in range(4):
        mocked.add(responses.GET, f"{BASE}/models/{MODEL_ID}", body=refused())
    with pytest.raises(ConnectionFailedError):
        client.check_connection()


# --- quote --------------------------------------------------------------------------------------


def test_quote_is_a_dry_run(mocked: responses.RequestsMock, client: ScenarioClient) -> None:
    mocked.add(
        responses.POST, GENERATE, status=DRY_RUN_STATUS,
        json={"creativeUnitsCost": 24, "creativeUnitsDiscount": 4, "costDetails": {"x": 1}},
    )
    quote = client.quote(PARAMS)
    assert (quote.cost, quote.discount, quote.details) == (24.0, 4.0, {"x": 1})
    request = mocked.calls[0].request
    assert request.url == f"{GENERATE}?dryRun=true"
    assert json.loads(request.body) == {
        "image": "asset_src", "upscaleFactor": 4, "preset": "precise"
    }


def test_quote_200_means_dry_run_ignored(
    mocked: responses.RequestsMock, client: ScenarioClient
) -> None:
    mocked.add(responses.POST, GENERATE, json=job_json())
    with pytest.raises(DryRunIgnoredError) as info:
        client.quote(PARAMS)
    assert "job_1" in info.value.message and "may have started" in info.value.message
    assert info.value.job_id == "job_1"
    assert generate_calls(mocked) == 1


# What a broken or hostile dry run may state as the price, and how the refusal names it.
UNUSABLE_PRICES = [
    ({"creativeUnitsCost": -500}, "-500, below zero"),
    ({"creativeUnitsCost": float("nan")}, "NaN"),
    ({"creativeUnitsCost": float("inf")}, "Infinity"),
    ({"creativeUnitsCost": -float("inf")}, "-Infinity"),
    ({"creativeUnitsCost": 1e300}, "1e+300, more than any upscale costs"),
    ({"creativeUnitsCost": 10**400}, "a number too large for any price"),
    ({"creativeUnitsCost": "9"}, 'the text "9"'),
    ({"creativeUnitsCost": "\x1b[31m9\nforged"}, 'the text "9 forged"'),
    ({"creativeUnitsCost": True}, "true"),
    ({"creativeUnitsCost": None}, "null"),
    ({"creativeUnitsCost": [9]}, "a list"),
    ({"creativeUnitsCost": {"value": 9}}, "an object"),
    ({}, "no price at all"),
]


@pytest.mark.parametrize(("body", "named"), UNUSABLE_PRICES)
def test_a_quote_that_is_not_a_usable_number_is_refused_and_named(
    mocked: responses.RequestsMock, client: ScenarioClient, body: dict[str, object], named: str
) -> None:
    # json.dumps writes NaN and Infinity as the bare words a lax server sends.
    mocked.add(responses.POST, GENERATE, status=DRY_RUN_STATUS, body=json.dumps(body),
               content_type="application/json")
    with pytest.raises(UnusablePriceError) as info:
        client.quote(PARAMS)
    assert info.value.message == (
        f"Scenario's price answer was not a usable number ({named}); nothing was spent.")
    assert generate_calls(mocked) == 1


@pytest.mark.parametrize("cost", [0, 0.5, 9, 1_000_000])
def test_a_usable_quote_is_kept_as_stated(
    mocked: responses.RequestsMock, client: ScenarioClient, cost: float
) -> None:
    mocked.add(responses.POST, GENERATE, status=DRY_RUN_STATUS, json={"creativeUnitsCost": cost})
    assert client.quote(PARAMS).cost == cost


def test_quote_validates_first(mocked: responses.RequestsMock, client: ScenarioClient) -> None:
    with pytest.raises(InvalidRequestError):
        client.quote(UpscaleParams(image="asset_src", upscale_factor=10))
    assert len(mocked.calls) == 0


def test_quote_not_repeated_after_5xx(
    mocked: responses.RequestsMock, client: ScenarioClient
) -> None:
    mocked.add(responses.POST, GENERATE, status=502)
    with pytest.raises(ServiceUnavailableError):
        client.quote(PARAMS)
    assert generate_calls(mocked) == 1


def test_quote_for_missing_asset(mocked: responses.RequestsMock, client: ScenarioClient) -> None:
    mocked.add(responses.POST, GENERATE, status=404, json={"reason": "Asset asset_src not found"})
    with pytest.raises(NotFoundError, match="asset_src"):
        client.quote(PARAMS)


# --- run ----------------------------------------------------------------------------------------


def test_run_returns_job_with_cost(mocked: responses.RequestsMock, client: ScenarioClient) -> None:
    mocked.add(responses.POST, GENERATE, json={**job_json("queued"), "creativeUnitsCost": 12})
    job = client.run(PARAMS)
    assert (job.job_id, job.status, job.cost) == ("job_1", "queued", 12.0)
    request = mocked.calls[0].request
    assert request.url == GENERATE
    assert json.loads(request.body) == PARAMS.to_body()


def test_run_validates_first(mocked: responses.RequestsMock, client: ScenarioClient) -> None:
    with pytest.raises(InvalidRequestError) as info:
        client.run(UpscaleParams())
    assert info.value.field == "image"
    assert len(mocked.calls) == 0


def test_run_uses_given_specs(mocked: responses.RequestsMock, client: ScenarioClient) -> None:
    import dataclasses

    from scenario_texture_upscale.api import FIELD_SPECS

    specs = dict(FIELD_SPECS)
    specs["upscale_factor"] = dataclasses.replace(specs["upscale_factor"], maximum=16)
    mocked.add(responses.POST, GENERATE, json=job_json())
    client.run(UpscaleParams(image="asset_src", upscale_factor=16), specs)


@pytest.mark.parametrize("failure", [read_timeout, dropped])
def test_run_never_resent_after_lost_answer(
    mocked: responses.RequestsMock, client: ScenarioClient, clock: FakeClock, failure: object
) -> None:
    mocked.add(responses.POST, GENERATE, body=failure())  # type: ignore[operator]
    mocked.add(responses.POST, GENERATE, json=job_json())
    with pytest.raises(SubmissionUncertainError) as info:
        client.run(PARAMS)
    assert generate_calls(mocked) == 1
    assert clock.sleeps == []
    assert "app.scenario.com" in info.value.message and "not sent again" in info.value.message
    assert not info.value.not_sent


def test_run_chunked_error_is_uncertain(
    mocked: responses.RequestsMock, client: ScenarioClient
) -> None:
    mocked.add(responses.POST, GENERATE, body=requests.exceptions.ChunkedEncodingError("cut"))
    with pytest.raises(SubmissionUncertainError):
        client.run(PARAMS)
    assert generate_calls(mocked) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408, 409, 202, 418])
def test_an_error_status_on_run_is_uncertain_names_the_status_and_is_never_resent(
    mocked: responses.RequestsMock, client: ScenarioClient, status: int
) -> None:
    mocked.add(responses.POST, GENERATE, status=status, json={"reason": "upstream\x1b[2J"})
    mocked.add(responses.POST, GENERATE, json=job_json())
    with pytest.raises(SubmissionUncertainError) as info:
        client.run(PARAMS)
    assert generate_calls(mocked) == 1
    assert info.value.message.startswith(
        f"Scenario answered the upscale request with an error (HTTP {status}: upstream), so it "
        "is unknown whether Scenario started (and charged for) the job. It was not sent again, "
        "to avoid paying twice: check your jobs on app.scenario.com")
    assert "connection broke" not in info.value.message
    assert info.value.status == status and not info.value.not_sent


@pytest.mark.parametrize(("status", "error"), [
    (400, InvalidRequestError), (401, AuthenticationError), (404, NotFoundError),
    (422, InvalidRequestError),
])
def test_a_refusal_on_run_is_a_refusal(
    mocked: responses.RequestsMock, client: ScenarioClient, status: int, error: type
) -> None:
    mocked.add(responses.POST, GENERATE, status=status, json={"reason": "no"})
    with pytest.raises(error):
        client.run(PARAMS)
    assert generate_calls(mocked) == 1


@pytest.mark.parametrize("failure", [refused, connect_timeout])
def test_run_resent_when_connection_never_opened(
    mocked: responses.RequestsMock, client: ScenarioClient, clock: FakeClock, failure: object
) -> None:
    mocked.add(responses.POST, GENERATE, body=failure())  # type: ignore[operator]
    mocked.add(responses.POST, GENERATE, json=job_json())
    assert client.run(PARAMS).job_id == "job_1"
    assert generate_calls(mocked) == 2
    assert clock.sleeps == [0.5]


def test_run_offline_is_not_sent(mocked: responses.RequestsMock, client: ScenarioClient) -> None:
    for _ in range(4):
        mocked.add(responses.POST, GENERATE, body=refused())
    with pytest.raises(ConnectionFailedError) as info:
        client.run(PARAMS)
    assert info.value.not_sent
    assert generate_calls(mocked) == 4


def test_run_refused_with_429_comes_back_at_once_with_the_team_limit(
    mocked: responses.RequestsMock, client: ScenarioClient, clock: FakeClock
) -> None:
    # The pipeline, not the client, decides when to send again: it waits for a team slot.
    mocked.add(
        responses.POST, GENERATE, status=429, headers={"Retry-After": "3"},
        json={"reason": "Too many concurrent jobs",
              "details": {"actionName": "parallel-custom-jobs", "actionLimit": 4}},
    )
    with pytest.raises(RateLimitedError) as info:
        client.run(PARAMS)
    assert (info.value.action_name, info.value.action_limit) == ("parallel-custom-jobs", 4)
    assert info.value.retry_after == 3.0
    assert clock.sleeps == []
    assert generate_calls(mocked) == 1


@pytest.mark.parametrize("details", [None, "x", {"actionLimit": "4"}, {"actionLimit": -1},
                                     {"actionLimit": True}, {"actionLimit": 10**9},
                                     {"actionLimit": 2.5}])
def test_a_429_without_a_sane_limit_names_none(
    mocked: responses.RequestsMock, client: ScenarioClient, details: object
) -> None:
    mocked.add(responses.POST, GENERATE, status=429,
               json={"reason": "Too many", "details": details})
    with pytest.raises(RateLimitedError) as info:
        client.run(PARAMS)
    assert info.value.action_limit is None


def test_run_408_not_resent(mocked: responses.RequestsMock, client: ScenarioClient) -> None:
    mocked.add(responses.POST, GENERATE, status=408)
    with pytest.raises(Exception):  # noqa: B017
        client.run(PARAMS)
    assert generate_calls(mocked) == 1


@pytest.mark.parametrize("body", [
    {"creativeUnitsCost": 3}, {"job": {"status": "queued"}}, {"job": None},
    {"job": {"jobId": "job_1\nforged", "status": "queued"}}, {"job": {"jobId": 7}},
])
def test_run_answer_without_job(
    mocked: responses.RequestsMock, client: ScenarioClient, body: object
) -> None:
    mocked.add(responses.POST, GENERATE, json=body)
    with pytest.raises(SubmissionUncertainError) as info:
        client.run(PARAMS)
    assert info.value.message.startswith(
        "Scenario answered the upscale request (HTTP 200) without naming a job, so it is "
        "unknown whether Scenario started")
    assert generate_calls(mocked) == 1


def test_run_answer_not_json(mocked: responses.RequestsMock, client: ScenarioClient) -> None:
    mocked.add(responses.POST, GENERATE, body="<html>ok</html>")
    with pytest.raises(SubmissionUncertainError,
                       match=r"\(HTTP 200\) with something that is not JSON.*app.scenario.com"):
        client.run(PARAMS)


@pytest.mark.parametrize("stated", [-500, float("nan"), "12", True, 1e300])
def test_a_garbage_cost_in_the_run_answer_makes_the_cost_unknown_never_free(
    mocked: responses.RequestsMock, client: ScenarioClient, stated: object
) -> None:
    answer = {**job_json("queued"), "creativeUnitsCost": stated}
    mocked.add(responses.POST, GENERATE, body=json.dumps(answer), content_type="application/json")
    job = client.run(PARAMS)
    assert job.job_id == "job_1" and job.cost is None and job.cost_problem


def test_run_rejected_by_server(mocked: responses.RequestsMock, client: ScenarioClient) -> None:
    mocked.add(responses.POST, GENERATE, status=400, json={"reason": "Image is too large"})
    with pytest.raises(InvalidRequestError, match="Image is too large"):
        client.run(PARAMS)


# --- jobs ---------------------------------------------------------------------------------------


def test_get_job(mocked: responses.RequestsMock, client: ScenarioClient) -> None:
    mocked.add(
        responses.GET, f"{BASE}/jobs/job_1",
        json=job_json("success", progress=1, metadata={"assetIds": ["asset_out"]},
                      billing={"cuCost": 9}),
    )
    job = client.get_job("job_1")
    assert job.succeeded and job.asset_ids == ("asset_out",) and job.cost == 9.0


def test_get_job_quotes_the_id(mocked: responses.RequestsMock, client: ScenarioClient) -> None:
    mocked.add(responses.GET, f"{BASE}/jobs/a%2Fb", json={"job": {"jobId": "a/b"}})
    assert client.get_job("a/b").job_id == "a/b"


def test_get_job_errors(mocked: responses.RequestsMock, client: ScenarioClient) -> None:
    mocked.add(
        responses.GET, f"{BASE}/jobs/job_x", status=404, json={"reason": "Job job_x not found"}
    )
    with pytest.raises(NotFoundError, match="Job job_x not found"):
        client.get_job("job_x")
    with pytest.raises(InvalidRequestError):
        client.get_job(" ")
    mocked.add(responses.GET, f"{BASE}/jobs/job_y", json={"job": {}})
    with pytest.raises(UnexpectedResponseError):
        client.get_job("job_y")


def test_cancel_job(mocked: responses.RequestsMock, client: ScenarioClient) -> None:
    mocked.add(responses.POST, f"{BASE}/jobs/job_1/action", json=job_json("canceled"))
    assert client.cancel_job("job_1") is True
    assert json.loads(mocked.calls[0].request.body) == {"action": "cancel"}


def test_cancel_is_sent_after_the_stop_flag_once_and_the_flag_still_stops_the_rest(
    mocked: responses.RequestsMock, client: ScenarioClient
) -> None:
    import threading

    stop = threading.Event()
    client.transport.cancel_event = stop
    stop.set()
    mocked.add(responses.POST, f"{BASE}/jobs/job_1/action", status=503, json={"reason": "busy"})
    with pytest.raises(ServiceUnavailableError):
        client.cancel_job("job_1")
    assert len(mocked.calls) == 1, "one try: the artist is waiting for the answer"
    with pytest.raises(CancelledError):
        client.get_job("job_1")
    assert len(mocked.calls) == 1 and client.transport.max_retries > 0


def test_cancel_not_supported_is_false(
    mocked: responses.RequestsMock, client: ScenarioClient
) -> None:
    mocked.add(responses.POST, f"{BASE}/jobs/job_1/action", status=400, json=CANNOT_CANCEL)
    assert client.cancel_job("job_1") is False


def test_cancel_other_errors_raise(mocked: responses.RequestsMock, client: ScenarioClient) -> None:
    mocked.add(responses.POST, f"{BASE}/jobs/job_1/action", status=400, json={"reason": "Nope"})
    with pytest.raises(InvalidRequestError):
        client.cancel_job("job_1")
    mocked.add(responses.POST, f"{BASE}/jobs/job_2/action", status=404, json={"reason": "gone"})
    with pytest.raises(NotFoundError):
        client.cancel_job("job_2")


def test_raise_for_job() -> None:
    ok = Job(job_id="j", status="success")
    assert raise_for_job(ok) is ok
    assert raise_for_job(Job(job_id="j", status="in-progress")).status == "in-progress"
    failed = Job(job_id="j", status="failure", error="Out of memory.", hint="Try factor 2")
    with pytest.raises(JobFailedError) as info:
        raise_for_job(failed)
    err = info.value
    assert (err.job_id, err.job_status, err.reason, err.hint) == (
        "j", "failure", "Out of memory.", "Try factor 2"
    )
    assert "Out of memory" in err.message and "Try factor 2" in err.message
    with pytest.raises(JobFailedError, match="no reason given"):
        raise_for_job(Job(job_id="j", status="failure"))
    with pytest.raises(JobFailedError, match="canceled") as canceled:
        raise_for_job(Job(job_id="j", status="canceled"))
    assert canceled.value.job_status == "canceled"


def test_raise_for_job_method(client: ScenarioClient) -> None:
    with pytest.raises(JobFailedError):
        client.raise_for_job(Job(job_id="j", status="failure", error="x"))


# --- assets -------------------------------------------------------------------------------------


def test_get_asset(mocked: responses.RequestsMock, client: ScenarioClient) -> None:
    mocked.add(responses.GET, f"{BASE}/assets/asset_1", json=asset_json())
    asset = client.get_asset("asset_1")
    assert (asset.id, asset.width, asset.height, asset.mime_type) == (
        "asset_1", 512, 256, "image/png"
    )
    mocked.add(responses.GET, f"{BASE}/assets/asset_2", json={})
    with pytest.raises(UnexpectedResponseError):
        client.get_asset("asset_2")


def test_client_repr_has_no_secret(client: ScenarioClient) -> None:
    assert CANARY not in repr(client) and BASE in repr(client)
    assert CANARY not in repr(client.transport.__dict__)


def test_custom_logger_gets_redacted_lines(
    mocked: responses.RequestsMock, credentials: object, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    logger = logging.getLogger("addon.custom")
    caplog.set_level(logging.DEBUG, logger="addon.custom")
    mocked.add(responses.GET, f"{BASE}/jobs/job_1", status=404, json={"reason": CANARY})
    with ScenarioClient.open(credentials, BASE, logger=logger) as c:  # type: ignore[arg-type]
        with pytest.raises(NotFoundError):
            c.get_job("job_1")
    assert any(r.name == "addon.custom" for r in caplog.records)
    assert CANARY not in caplog.text
