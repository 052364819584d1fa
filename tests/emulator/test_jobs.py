"""Job lifecycle, concurrency limit and the refused cancel."""

from __future__ import annotations

import threading
import time

import pytest
from PIL import Image

from emulator.scheduler import Job, JobScheduler
from emulator.store import Store

ORDER = ["queued", "warming-up", "in-progress", "finalizing", "success"]


def _observe(api, job_id: str, timeout: float = 10.0) -> list[tuple[str, float]]:
    seen: list[tuple[str, float]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.job(job_id)
        seen.append((job["status"], job["progress"]))
        if job["status"] in ("success", "failure"):
            return seen
        time.sleep(0.01)
    raise AssertionError(f"job did not finish: {seen[-3:]}")


def _distinct(statuses: list[str]) -> list[str]:
    return [s for i, s in enumerate(statuses) if i == 0 or statuses[i - 1] != s]


def test_statuses_run_in_order_with_rising_progress(make_api):
    api = make_api(job_seconds=1.0)
    asset = api.upload(Image.new("RGB", (32, 32), (50, 60, 70)))
    started = time.monotonic()
    job = api.start_job(asset["id"])
    seen = _observe(api, job["jobId"])
    elapsed = time.monotonic() - started
    assert _distinct([status for status, _ in seen]) == ORDER
    progress = [p for _, p in seen]
    assert progress == sorted(progress)
    running = [p for status, p in seen if status == "in-progress"]
    assert len(set(running)) >= 3 and 0 <= min(running) < max(running) < 1
    assert all(p == 0 for status, p in seen if status in ("queued", "warming-up"))
    assert seen[-1][1] == 1
    assert 0.9 <= elapsed < 5.0

    final = api.job(job["jobId"])
    history = [entry["status"] for entry in final["statusHistory"]]
    assert history == ORDER
    dates = [entry["date"] for entry in final["statusHistory"]]
    assert dates == sorted(dates) and final["updatedAt"] == dates[-1]
    assert final["metadata"]["assetIds"][0].startswith("asset_")


def test_concurrency_limit_keeps_later_jobs_queued(make_api):
    api = make_api(job_seconds=0.6, max_concurrent_jobs=1)
    asset = api.upload(Image.new("RGB", (16, 16)))
    first = api.start_job(asset["id"])["jobId"]
    second = api.start_job(asset["id"])["jobId"]
    while True:
        # The second is read first: if the first is still running after that read, it was
        # running during it too, so the second must still have been waiting.
        second_status = api.job(second)["status"]
        if api.job(first)["status"] in ("success", "failure"):
            break
        assert second_status == "queued"
        time.sleep(0.02)
    done_first = api.job(first)
    done_second = api.wait_job(second)
    assert done_second["status"] == "success"
    first_end = done_first["statusHistory"][-1]["date"]
    second_start = next(e["date"] for e in done_second["statusHistory"]
                        if e["status"] == "warming-up")
    assert second_start >= first_end


def test_jobs_run_in_parallel_up_to_the_limit(make_api):
    api = make_api(job_seconds=1.0, max_concurrent_jobs=2, team_parallel_jobs=0)
    asset = api.upload(Image.new("RGB", (16, 16)))
    ids = [api.start_job(asset["id"])["jobId"] for _ in range(3)]
    deadline = time.monotonic() + 5
    while True:
        third_status = api.job(ids[2])["status"]  # read before the two, as in the queued test
        first_two = [api.job(job_id)["status"] for job_id in ids[:2]]
        if "queued" not in first_two:
            break
        assert time.monotonic() < deadline
        time.sleep(0.01)
    if "success" not in first_two:  # both still running: the third must wait
        assert third_status == "queued"
    assert [api.wait_job(job_id)["status"] for job_id in ids] == ["success"] * 3
    first, third = api.job(ids[0]), api.job(ids[2])
    assert first["statusHistory"][1]["date"] < api.job(ids[1])["statusHistory"][-1]["date"]
    assert third["statusHistory"][1]["date"] >= first["statusHistory"][-1]["date"]


def test_cancel_is_refused_for_custom_model_jobs(api):
    asset = api.upload(Image.new("RGB", (16, 16)))
    job_id = api.start_job(asset["id"])["jobId"]
    answer = api.post(f"/jobs/{job_id}/action", {"action": "cancel"})
    assert answer.status_code == 400
    assert answer.json()["reason"] == "Cannot cancel this type of job. Action not permitted."
    assert api.wait_job(job_id)["status"] == "success"
    assert api.post("/jobs/job_nope/action", {"action": "cancel"}).status_code == 404


def test_cancel_when_accepted_ends_the_job_canceled_with_no_result(make_api):
    api = make_api(job_seconds=5.0, accept_cancel=True)
    asset = api.upload(Image.new("RGB", (16, 16)))
    job_id = api.start_job(asset["id"])["jobId"]
    answer = api.post(f"/jobs/{job_id}/action", {"action": "cancel"})
    assert answer.status_code == 200 and answer.json()["job"]["status"] == "canceled"
    time.sleep(0.3)
    job = api.job(job_id)
    assert job["status"] == "canceled" and not job["metadata"].get("assetIds")
    again = api.post(f"/jobs/{job_id}/action", {"action": "cancel"})
    assert again.status_code == 400 and "already ended" in again.json()["reason"]


def test_status_is_exact_even_without_polling(make_api):
    api = make_api(job_seconds=0.3, max_concurrent_jobs=1, team_parallel_jobs=0)
    asset = api.upload(Image.new("RGB", (16, 16)))
    ids = [api.start_job(asset["id"])["jobId"] for _ in range(3)]
    time.sleep(1.5)
    jobs = [api.job(job_id) for job_id in ids]
    assert [job["status"] for job in jobs] == ["success"] * 3
    # Back-to-back in one slot: each job starts when the previous one ended.
    for before, after in zip(jobs, jobs[1:], strict=False):
        assert after["statusHistory"][1]["date"] >= before["statusHistory"][-1]["date"]


def test_the_upscale_runs_within_the_job_time_and_its_asset_appears_at_success():
    # Rendering from the moment a job takes its slot keeps a job's length what --job-seconds
    # says even when renders are slow; the result is published only when the job succeeds.
    store = Store()
    rendered = threading.Event()
    seen: dict[str, object] = {}

    def render(job: Job) -> object:
        seen["status_when_rendering"] = job.status
        rendered.set()

        def publish() -> str:
            seen["status_when_publishing"] = job.status
            return "asset_result"
        return publish

    scheduler = JobScheduler(store, job_seconds=0.8, max_concurrent=1, render=render)
    scheduler.start()
    try:
        job = Job(id="job_1", model_id="m", input={}, source_asset_id="a", factor=2, cost=1,
                  owner_id="o")
        scheduler.submit(lambda: job)
        assert rendered.wait(5)
        assert seen["status_when_rendering"] == "warming-up"
        assert scheduler.get("job_1").result_asset_id is None  # not before success
        while not scheduler.get("job_1").terminal:
            time.sleep(0.02)
        assert job.status == "success" and job.result_asset_id == "asset_result"
        assert seen["status_when_publishing"] == "finalizing"
        history = dict(job.history)
        # Success came at the job's own end, not after a render started at finalizing.
        assert history["success"] - history["warming-up"] == pytest.approx(0.9 * 0.8, abs=1e-6)
    finally:
        scheduler.stop()
