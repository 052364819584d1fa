"""Scenario's team limit: a generate sent while the team's jobs are at the limit is refused with
429 in Scenario's shape and creates nothing; jobs of every client of the key count, stuck ones
too; a job that ends frees its slot."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests
from emulator_support import Api, data_url, png_bytes
from PIL import Image

from emulator.options import DEFAULT_TEAM_PARALLEL_JOBS
from emulator.process import start_emulator_process, stop_emulator_process

SMALL = Image.new("RGB", (16, 16), (90, 60, 30))


def test_the_default_limit_refuses_the_third_job_in_scenarios_shape(make_api) -> None:
    api = make_api(job_seconds=2.0)
    asset = api.upload(SMALL)["id"]
    started = [api.start_job(asset) for _ in range(DEFAULT_TEAM_PARALLEL_JOBS)]

    refused = api.generate(asset)

    assert refused.status_code == 429
    body = refused.json()
    assert body["details"] == {"actionName": "parallel-custom-jobs",
                               "actionLimit": DEFAULT_TEAM_PARALLEL_JOBS}
    assert "2 jobs at a time" in body["reason"] and body["trace_id"]
    jobs = api.control("GET", "/_emulator/state").json()["jobs"]
    assert {j["jobId"] for j in jobs} == {j["jobId"] for j in started}, "nothing was created"


def test_a_dry_run_is_never_refused_for_the_limit(make_api) -> None:
    api = make_api(job_seconds=2.0, team_parallel_jobs=1)
    asset = api.upload(SMALL)["id"]
    api.start_job(asset)
    answer = api.post("/generate/custom/model_sc-upscale-flux-texture?dryRun=true",
                      {"image": asset})
    assert answer.status_code == 269


def test_a_job_that_ends_frees_its_slot(make_api) -> None:
    api = make_api(job_seconds=0.3, team_parallel_jobs=1)
    asset = api.upload(SMALL)["id"]
    first = api.start_job(asset)
    assert api.generate(asset).status_code == 429
    assert api.wait_job(first["jobId"])["status"] == "success"
    assert api.generate(asset).status_code == 200


def test_every_client_of_the_key_counts(make_server) -> None:
    server = make_server(job_seconds=2.0, team_parallel_jobs=2)
    one, other = Api(server), Api(server)  # two clients, two connections, one key
    asset = one.upload(SMALL)["id"]
    one.start_job(asset)
    other.start_job(asset)
    assert one.generate(asset).status_code == 429
    assert other.generate(asset).status_code == 429


def test_a_stuck_job_holds_its_slot_until_a_reset_ends_it(make_api) -> None:
    api = make_api(job_seconds=0.3, team_parallel_jobs=1)
    api.control("POST", "/_emulator/faults", [{"kind": "job_never_finishes", "times": 2}])
    asset = api.upload(SMALL)["id"]
    stuck = api.start_job(asset)
    refused = api.generate(asset)
    assert refused.status_code == 429
    [rule] = api.server.faults()
    assert rule["fired"] == 1, "the refused request claimed no fault"

    api.control("POST", "/_emulator/reset", {})

    assert api.job(stuck["jobId"])["status"] == "failure"
    assert api.generate(asset).status_code == 200


def test_zero_means_no_limit(make_api) -> None:
    api = make_api(job_seconds=2.0, team_parallel_jobs=0)
    asset = api.upload(SMALL)["id"]
    assert all(api.generate(asset).status_code == 200 for _ in range(6))


def test_the_command_line_sets_the_limit() -> None:
    proc, base_url = start_emulator_process(["--quiet", "--team-parallel-jobs", "1",
                                             "--job-seconds", "2"])
    try:
        auth = ("demo-key", "demo-secret")
        asset = requests.post(f"{base_url}/assets", json={"name": "a.png", "image": data_url(
            png_bytes(SMALL))}, auth=auth, timeout=10).json()["asset"]["id"]
        url = f"{base_url}/generate/custom/model_sc-upscale-flux-texture"
        codes = [requests.post(url, json={"image": asset}, auth=auth, timeout=10).status_code
                 for _ in range(2)]
        assert codes == [200, 429]
    finally:
        stop_emulator_process(proc)


@pytest.mark.parametrize("value", ["-1", "x"])
def test_a_bad_limit_is_refused_at_start(value: str) -> None:
    done = subprocess.run([sys.executable, "-m", "emulator", "--port", "0",
                           "--team-parallel-jobs", value], capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 2
    assert "team" in done.stderr
