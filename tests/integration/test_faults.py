"""The client under the emulator's faults: what is retried, what is never re-sent, what is said."""

from __future__ import annotations

import logging
import socket
import threading
import time
from pathlib import Path

import pytest
from scenario_texture_upscale.api import (
    AuthenticationError,
    CancelledError,
    ConnectionFailedError,
    Credentials,
    DownloadError,
    JobFailedError,
    NotFoundError,
    RateLimitedError,
    RedirectRefusedError,
    ScenarioClient,
    ServiceUnavailableError,
    SubmissionUncertainError,
    UnsafeLinkError,
    UnusablePriceError,
    UpscaleParams,
    raise_for_job,
)
from scenario_texture_upscale.api.service_text import UNSAFE

from emulator.server import EmulatorServer

from .conftest import (
    GENERATE,
    SECRET,
    RecordingSleep,
    calls,
    make_client,
    png_bytes,
    wait_for_job,
)


def fault(kind: str, method: str, path: str, **extra: object) -> dict[str, object]:
    return {"kind": kind, "method": method, "path": path, **extra}


@pytest.fixture
def asset_id(client: ScenarioClient) -> str:
    return client.upload_image(png_bytes(), name="src.png").id


@pytest.fixture
def result_id(client: ScenarioClient, asset_id: str) -> str:
    job = client.run(UpscaleParams(image=asset_id))
    return raise_for_job(wait_for_job(client, job.job_id)).asset_ids[0]


# --- rate limits and server errors --------------------------------------------------------------


def test_429_on_generate_comes_back_at_once_with_the_teams_limit(
    client: ScenarioClient, server: EmulatorServer, sleeper: RecordingSleep, asset_id: str
) -> None:
    """The emulator's own team limit (2 by default): a third generate while two jobs run is
    refused in Scenario's shape, creates nothing, and the client does not send it again (the
    pipeline waits for a slot: tests/unit/core/test_pipeline_against_emulator.py)."""
    first = client.run(UpscaleParams(image=asset_id))
    second = client.run(UpscaleParams(image=asset_id))
    with pytest.raises(RateLimitedError) as info:
        client.run(UpscaleParams(image=asset_id))
    assert (info.value.action_name, info.value.action_limit) == ("parallel-custom-jobs", 2)
    assert [c["status"] for c in calls(server, "POST", GENERATE)] == [200, 200, 429]
    assert sleeper.waits == []
    assert {j["jobId"] for j in server.state()["jobs"]} == {first.job_id, second.job_id}


def test_429_that_persists_is_sent_once_and_creates_nothing(
    client: ScenarioClient, server: EmulatorServer, asset_id: str
) -> None:
    server.set_faults([fault("status", "POST", "^/v1/generate", status=429, times=0,
                             body={"reason": "Too many concurrent jobs"})])
    with pytest.raises(RateLimitedError, match="Too many concurrent jobs"):
        client.run(UpscaleParams(image=asset_id))
    assert len(calls(server, "POST", GENERATE)) == 1
    assert server.state()["jobs"] == []


def test_429_on_the_dry_run_is_retried_as_told(
    client: ScenarioClient, server: EmulatorServer, sleeper: RecordingSleep, asset_id: str
) -> None:
    server.set_faults([fault("status", "POST", "^/v1/generate", status=429,
                             retry_after_ms=1500, times=1)])
    assert client.quote(UpscaleParams(image=asset_id)).cost > 0
    assert sleeper.waits == [1.5]


def test_5xx_burst_on_poll_is_retried(
    client: ScenarioClient, server: EmulatorServer, sleeper: RecordingSleep, asset_id: str
) -> None:
    job = client.run(UpscaleParams(image=asset_id))
    server.set_faults([fault("status", "GET", "^/v1/jobs/", status=503, times=2)])
    assert client.get_job(job.job_id).job_id == job.job_id
    assert [c["status"] for c in calls(server, "GET", "/v1/jobs/")] == [503, 503, 200]
    assert len(sleeper.waits) == 2 and sleeper.waits[1] > sleeper.waits[0]


def test_5xx_burst_longer_than_retries(
    client: ScenarioClient, server: EmulatorServer, asset_id: str
) -> None:
    job = client.run(UpscaleParams(image=asset_id))
    server.set_faults([fault("status", "GET", "^/v1/jobs/", status=502, times=10)])
    with pytest.raises(ServiceUnavailableError, match="HTTP 502"):
        client.get_job(job.job_id)
    assert len(calls(server, "GET", "/v1/jobs/")) == 4


@pytest.mark.parametrize("status", [500, 503])
def test_5xx_on_generate_is_not_resent(
    client: ScenarioClient, server: EmulatorServer, asset_id: str, status: int
) -> None:
    server.set_faults([fault("status", "POST", "^/v1/generate", status=status, times=1)])
    with pytest.raises(SubmissionUncertainError) as info:
        client.run(UpscaleParams(image=asset_id))
    assert info.value.message.startswith(
        f"Scenario answered the upscale request with an error (HTTP {status}: ")
    assert "not sent again, to avoid paying twice" in info.value.message
    assert "connection broke" not in info.value.message
    assert len(calls(server, "POST", GENERATE)) == 1


# --- dropped connections and timeouts ------------------------------------------------------------


def test_dropped_connection_on_poll_is_retried(
    client: ScenarioClient, server: EmulatorServer, asset_id: str
) -> None:
    job = client.run(UpscaleParams(image=asset_id))
    server.set_faults([fault("drop", "GET", "^/v1/jobs/", times=1)])
    assert client.get_job(job.job_id).job_id == job.job_id
    outcomes = [c["outcome"] for c in calls(server, "GET", "/v1/jobs/")]
    assert outcomes == ["dropped", "answered"]


def test_dropped_connection_on_small_upload_is_retried(
    client: ScenarioClient, server: EmulatorServer
) -> None:
    # A repeated asset upload can at worst leave a duplicate asset: nothing is charged for it.
    server.set_faults([fault("drop", "POST", "^/v1/assets$", times=1)])
    asset = client.upload_image(png_bytes(), name="src.png")
    outcomes = [c["outcome"] for c in calls(server, "POST", "/v1/assets")]
    assert outcomes == ["dropped", "answered"] and asset.id.startswith("asset")


def test_dropped_connection_on_download_is_retried(
    client: ScenarioClient, server: EmulatorServer, result_id: str, tmp_path: Path
) -> None:
    server.set_faults([fault("drop", "GET", "^/_cdn/", times=1)])
    client.download_asset(result_id, tmp_path / "out.png")
    assert [c["outcome"] for c in calls(server, "GET", "/_cdn/")] == ["dropped", "answered"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]


@pytest.mark.parametrize("after_processing", [True, False])
def test_generate_dropped_is_never_resent(
    client: ScenarioClient, server: EmulatorServer, asset_id: str, after_processing: bool
) -> None:
    server.set_faults([fault("drop", "POST", "^/v1/generate", times=1,
                             drop_after_processing=after_processing)])
    with pytest.raises(SubmissionUncertainError) as info:
        client.run(UpscaleParams(image=asset_id))
    assert "unknown whether Scenario started" in info.value.message
    assert "app.scenario.com" in info.value.message
    generates = calls(server, "POST", GENERATE)
    assert len(generates) == 1
    expected = "dropped-after-processing" if after_processing else "dropped"
    assert generates[0]["outcome"] == expected
    # After processing the job exists: a re-send would have paid for it twice.
    assert len(server.state()["jobs"]) == (1 if after_processing else 0)


def test_generate_read_timeout_is_never_resent(
    server: EmulatorServer, sleeper: RecordingSleep
) -> None:
    with make_client(server, sleeper, timeout=(2.0, 0.5)) as client:
        asset = client.upload_image(png_bytes())
        server.set_faults([fault("delay", "POST", "^/v1/generate", seconds=1.5, times=1)])
        with pytest.raises(SubmissionUncertainError, match="did not answer within 0.5 s"):
            client.run(UpscaleParams(image=asset.id))
    assert len(calls(server, "POST", GENERATE)) == 1


def test_slow_poll_times_out_then_succeeds(
    server: EmulatorServer, sleeper: RecordingSleep
) -> None:
    with make_client(server, sleeper, timeout=(2.0, 0.5)) as client:
        asset = client.upload_image(png_bytes())
        job = client.run(UpscaleParams(image=asset.id))
        server.set_faults([fault("delay", "GET", "^/v1/jobs/", seconds=1.0, times=1)])
        assert client.get_job(job.job_id).job_id == job.job_id
    assert len(calls(server, "GET", "/v1/jobs/")) == 2


def test_connection_refused(tmp_path: Path, sleeper: RecordingSleep) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = ScenarioClient.open(
        Credentials("k", "s"), f"http://127.0.0.1:{port}/v1", sleep=sleeper, timeout=(1, 1)
    )
    with client, pytest.raises(ConnectionFailedError, match="internet connection") as info:
        client.run(UpscaleParams(image="asset_1"))
    assert info.value.not_sent
    assert len(sleeper.waits) == 3


# --- jobs, URLs, bodies -------------------------------------------------------------------------


def test_job_failure_carries_reason_and_hint(
    client: ScenarioClient, server: EmulatorServer, asset_id: str
) -> None:
    server.set_faults([fault("job_failure", "POST", "^/v1/generate", times=1,
                             error="GPU out of memory", hint="Try a smaller upscale factor")])
    job = wait_for_job(client, client.run(UpscaleParams(image=asset_id)).job_id)
    assert job.status == "failure"
    assert (job.error, job.hint) == ("GPU out of memory", "Try a smaller upscale factor")
    with pytest.raises(JobFailedError) as info:
        raise_for_job(job)
    err = info.value
    assert err.job_id == job.job_id and err.reason == "GPU out of memory"
    assert "GPU out of memory" in err.message and "Try a smaller upscale factor" in err.message


def test_job_that_never_finishes_stays_open(
    client: ScenarioClient, server: EmulatorServer, asset_id: str
) -> None:
    import time

    server.set_faults([fault("job_never_finishes", "POST", "^/v1/generate", times=1)])
    job = client.run(UpscaleParams(image=asset_id))
    time.sleep(1.2)  # well past job_seconds
    assert not client.get_job(job.job_id).is_terminal


@pytest.mark.parametrize("where", ["^/v1/assets/", "^/_cdn/"])
def test_expired_url_gets_a_fresh_one(
    client: ScenarioClient, server: EmulatorServer, result_id: str, tmp_path: Path, where: str
) -> None:
    server.set_faults([fault("expire_urls", "GET", where, times=1)])
    client.download_asset(result_id, tmp_path / "out.png")
    assert [c["status"] for c in calls(server, "GET", "/_cdn/")] == [403, 200]
    assert len(calls(server, "GET", f"/v1/assets/{result_id}")) == 2


def test_truncated_download_is_retried(
    client: ScenarioClient, server: EmulatorServer, result_id: str, tmp_path: Path
) -> None:
    server.set_faults([fault("truncate", "GET", "^/_cdn/", times=1)])
    result = client.download_asset(result_id, tmp_path / "out.png")
    assert [c["outcome"] for c in calls(server, "GET", "/_cdn/")] == ["truncated", "answered"]
    stored = {a["id"]: a for a in server.state()["assets"]}
    assert result.size == stored[result_id]["size"]


def test_always_truncated_download_fails_cleanly(
    client: ScenarioClient, server: EmulatorServer, result_id: str, tmp_path: Path
) -> None:
    server.set_faults([fault("truncate", "GET", "^/_cdn/", times=0, bytes=100)])
    with pytest.raises(DownloadError, match="3 attempts"):
        client.download_asset(result_id, tmp_path / "out.png")
    assert list(tmp_path.iterdir()) == []


def test_multipart_part_failure_is_retried(
    client: ScenarioClient, server: EmulatorServer, tmp_path: Path
) -> None:
    from scenario_texture_upscale.api import uploads as uploads_mod

    server.set_faults([fault("status", "PUT", "^/_parts/", status=500, times=1)])
    asset = uploads_mod.upload_image(client.transport, png_bytes(64), small_limit=10)
    assert asset.id
    assert [c["status"] for c in calls(server, "PUT", "/_parts/")] == [500, 200]


# --- a service that lies, stalls or redirects -----------------------------------------------------


def other_origin(server: EmulatorServer) -> list[dict[str, object]]:
    return [e for e in server.requests() if e["listener"] == "other"]


def test_a_lying_content_length_is_fetched_again(
    client: ScenarioClient, server: EmulatorServer, result_id: str, tmp_path: Path
) -> None:
    server.set_faults([fault("short_length", "GET", "^/_cdn/", bytes=60, times=1)])
    result = client.download_asset(result_id, tmp_path / "out.png")
    assert [c["outcome"] for c in calls(server, "GET", "/_cdn/")] == ["short-length", "answered"]
    stored = {a["id"]: a for a in server.state()["assets"]}
    assert result.size == stored[result_id]["size"]


def test_a_content_length_that_always_lies_fails_naming_the_missing_end(
    client: ScenarioClient, server: EmulatorServer, result_id: str, tmp_path: Path
) -> None:
    server.set_faults([fault("short_length", "GET", "^/_cdn/", bytes=60, times=0)])
    with pytest.raises(DownloadError, match="60 bytes arrived, and the PNG's .* runs past the end"):
        client.download_asset(result_id, tmp_path / "out.png")
    assert list(tmp_path.iterdir()) == []


def test_a_dripping_download_stalls_and_is_given_up(
    server: EmulatorServer, sleeper: RecordingSleep, result_id: str, tmp_path: Path
) -> None:
    """One byte every 0.2 s never trips the 1 s read timeout: the stall rule (less than 1 KiB
    over the read timeout) stops each attempt."""
    server.set_faults([fault("drip", "GET", "^/_cdn/", bytes=1, seconds=0.2, times=0)])
    with make_client(server, sleeper, timeout=(1.0, 1.0)) as slow:
        started = time.monotonic()
        with pytest.raises(DownloadError, match="kept stalling"):
            slow.download_asset(result_id, tmp_path / "out.png")
    assert time.monotonic() - started < 3 * 1.2 + 2.0
    assert len(calls(server, "GET", "/_cdn/")) == 3


def test_a_poll_answer_that_drips_is_stopped_and_polled_again(
    server: EmulatorServer, sleeper: RecordingSleep, result_id: str
) -> None:
    server.set_faults([fault("drip", "GET", "^/v1/assets/", bytes=1, seconds=0.1, times=1)])
    with make_client(server, sleeper, timeout=(0.5, 0.5)) as slow:
        assert slow.get_asset(result_id).id == result_id
    assert [c["outcome"] for c in calls(server, "GET", "/v1/assets/")] == ["dripped", "answered"]


def test_cancel_stops_a_dripping_download_at_once(
    server: EmulatorServer, sleeper: RecordingSleep, result_id: str, tmp_path: Path
) -> None:
    server.set_faults([fault("drip", "GET", "^/_cdn/", bytes=1, seconds=0.5)])
    event, asked = threading.Event(), []
    with make_client(server, sleeper, cancel_event=event) as client:
        threading.Timer(0.8, lambda: (asked.append(time.monotonic()), event.set())).start()
        with pytest.raises(CancelledError):
            client.download_asset(result_id, tmp_path / "out.png")
        took = time.monotonic() - asked[0]
    assert took < 1.0, f"the cancel took {took:.2f} s (the watchdog looks every 0.05 s)"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_an_api_redirect_is_refused_and_nothing_goes_to_the_other_origin(
    client: ScenarioClient, server: EmulatorServer, status: int
) -> None:
    server.set_faults([fault("redirect", "POST", "^/v1/assets$", status=status)])
    with pytest.raises(RedirectRefusedError, match=f"redirect \\(HTTP {status}\\)"):
        client.upload_image(png_bytes(), name="src.png")
    assert other_origin(server) == []
    assert len(calls(server, "POST", "/v1/assets")) == 1


@pytest.mark.parametrize("rule", [
    fault("redirect", "GET", "^/_cdn/"),
    fault("redirect", "GET", "^/_cdn/", to="http://cdn.example.com/plain.png"),
    fault("local_link", "GET", "^/v1/assets/"),
], ids=["to the other origin", "to plain http elsewhere", "a link to another local service"])
def test_a_download_led_elsewhere_is_refused_before_anything_is_sent(
    client: ScenarioClient, server: EmulatorServer, result_id: str, tmp_path: Path,
    rule: dict[str, object]
) -> None:
    server.set_faults([rule])
    with pytest.raises(UnsafeLinkError, match="It was refused, and nothing was sent to it"):
        client.download_asset(result_id, tmp_path / "out.png")
    assert other_origin(server) == []
    assert list(tmp_path.iterdir()) == []


# --- credentials ----------------------------------------------------------------------------------


def test_wrong_keys(
    server: EmulatorServer, sleeper: RecordingSleep, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    canary = "wrong-secret-canary-77"
    with make_client(server, sleeper, secret=canary) as client:
        with pytest.raises(AuthenticationError) as info:
            client.check_connection()
        with pytest.raises(AuthenticationError):
            client.upload_image(png_bytes())
    assert info.value.message == (
        "Scenario rejected the API key/secret — check them in the add-on preferences."
    )
    assert info.value.status == 401
    for text in (caplog.text, str(info.value), repr(info.value)):
        assert canary not in text and SECRET not in text
    assert len(calls(server, "GET", "/v1/models/")) == 1  # a 401 is not retried


# --- a service that lies: prices and texts -------------------------------------------------------


@pytest.mark.parametrize("rule", [
    {"value": -500}, {"value": float("nan")}, {"value": float("inf")}, {"value": "9"},
    {"value": True}, {"value": None}, {"value": 1e300}, {"missing": True},
])
def test_an_unusable_dry_run_price_is_refused(
    client: ScenarioClient, server: EmulatorServer, asset_id: str, rule: dict[str, object]
) -> None:
    server.set_faults([{"kind": "bad_price", "answer": "dry_run", **rule}])
    with pytest.raises(UnusablePriceError, match=r"^Scenario's price answer was not a usable "
                                                 r"number \(.+\); nothing was spent\.$"):
        client.quote(UpscaleParams(image=asset_id))
    assert [c["query"] for c in calls(server, "POST", GENERATE)] == [{"dryRun": "true"}]
    assert server.state()["jobs"] == []


def test_an_unusable_cost_on_the_job_is_unknown_never_zero(
    client: ScenarioClient, server: EmulatorServer, asset_id: str
) -> None:
    server.set_faults([{"kind": "bad_price", "value": -3, "times": None}])
    job = client.run(UpscaleParams(image=asset_id))
    assert job.job_id and job.cost is None and job.cost_problem == "-3, below zero"
    polled = wait_for_job(client, job.job_id)
    assert polled.succeeded and polled.cost is None


def test_hostile_text_in_errors_reaches_neither_the_message_nor_the_log(
    client: ScenarioClient, server: EmulatorServer, asset_id: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    server.set_faults([{"kind": "status", "status": 500, "path": "^/v1/generate"},
                       {"kind": "hostile_text", "times": None}])
    with pytest.raises(SubmissionUncertainError) as uncertain:
        client.run(UpscaleParams(image=asset_id))
    with pytest.raises(NotFoundError) as missing:
        client.get_job("job_nope")
    for error in (uncertain.value, missing.value):
        for text in (str(error), error.reason or "", repr(error)):
            assert UNSAFE.search(text) is None, text
    assert "forged record" in str(uncertain.value), "the words are kept"
    assert all(UNSAFE.search(r.getMessage()) is None for r in caplog.records)


def test_hostile_text_in_a_failed_job_is_reported_clean(
    client: ScenarioClient, server: EmulatorServer, asset_id: str
) -> None:
    server.set_faults([{"kind": "job_failure", "error": "GPU\x1b[31m exploded\r\nforged",
                        "hint": "\u202eTry later"},
                       {"kind": "hostile_text", "path": "^/v1/jobs/", "times": None}])
    job = wait_for_job(client, client.run(UpscaleParams(image=asset_id)).job_id)
    with pytest.raises(JobFailedError) as info:
        raise_for_job(job)
    assert info.value.message.startswith("Scenario could not upscale the texture: GPU exploded "
                                         "forged red ")
    assert UNSAFE.search(info.value.message) is None and "Try later" in info.value.message


def test_a_generate_answered_200_without_a_job_is_uncertain(
    client: ScenarioClient, server: EmulatorServer, asset_id: str
) -> None:
    server.set_faults([fault("status", "POST", "^/v1/generate", status=200, body={})])
    with pytest.raises(SubmissionUncertainError, match=r"\(HTTP 200\) without naming a job"):
        client.run(UpscaleParams(image=asset_id))
    assert len(calls(server, "POST", GENERATE)) == 1
