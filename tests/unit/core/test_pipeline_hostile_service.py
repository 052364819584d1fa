"""The pipeline against an emulator that lies, stalls or redirects: nothing it sends wrong becomes
a result, a paid job stays collectable (Recover downloads again and never pays again), a cancel
is quick and says what was paid, and no request goes where it was led."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from scenario_texture_upscale.api import errors
from scenario_texture_upscale.api.params import UpscaleParams
from scenario_texture_upscale.core import (
    job_text,
    pipeline,
    pipeline_download,
    png,
    spend_policy,
    upscale_job,
)
from scenario_texture_upscale.core.fidelity import FidelityPlan
from scenario_texture_upscale.core.journal import JobRecord, Journal
from scenario_texture_upscale.core.result_check import ResultLimits
from scenario_texture_upscale.core.scheduler import JobCancelled
from scenario_texture_upscale.core.source import FileSource
from scenario_texture_upscale.core.states import JobState

from emulator.server import EmulatorServer
from tests.unit.core.emulated import connect_to
from tests.unit.core.test_pipeline_against_emulator import context, generates, new_job, texture

CANCEL_PROMISE = 1.0


@pytest.fixture(autouse=True)
def _reset(emulated: EmulatorServer) -> None:
    """Every test here starts with a fresh emulator."""


def paid(server: EmulatorServer) -> list[dict]:
    return [r for r in generates(server) if not r["query"].get("dryRun")]


def to_other_origin(server: EmulatorServer) -> list[dict]:
    return [r for r in server.requests() if r["listener"] == "other"]


def start(tmp_path: Path, size: int = 32, **job_fields) -> tuple[upscale_job.UpscaleJob, Journal]:
    journal = Journal(tmp_path / "journal")
    job = new_job(tmp_path, FileSource(str(texture(tmp_path, size)), "brick.png"),
                  source_size=[size, size])
    for name, value in job_fields.items():
        setattr(job, name, value)
    return job, journal


def recover(server: EmulatorServer, journal: Journal, record: JobRecord,
            tmp_path: Path) -> upscale_job.UpscaleResult:
    """What Recover does: the journaled record, no source, no plan; the faults spent."""
    server.set_faults([])
    again = journal.load(record.local_id)
    resumed = upscale_job.UpscaleJob(record=again, params=UpscaleParams(), work_dir=tmp_path / "w")
    return pipeline.run(resumed, context()[0], journal, connect_to(server))


def refused_and_kept(server: EmulatorServer, tmp_path: Path, job: upscale_job.UpscaleJob,
                     journal: Journal, reason: str) -> JobRecord:
    with pytest.raises(errors.ScenarioError) as info:
        pipeline.run(job, context()[0], journal, connect_to(server))
    record = journal.load(job.record.local_id)
    assert reason in str(info.value)
    assert "Nothing was swapped in" in str(info.value) and "without paying again" in str(info.value)
    assert record.state == JobState.SUCCEEDED and record.recoverable
    assert record.error == str(info.value)
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []
    assert list(job.work_dir.glob("*-result*")) == []
    return record


@pytest.mark.parametrize("size", [(100, 37), (1280, 1280)])
def test_a_result_of_another_size_is_refused_and_recover_downloads_it_again(
        server, tmp_path, size) -> None:
    server.set_faults([{"kind": "result_size", "width": size[0], "height": size[1]}])
    job, journal = start(tmp_path)
    record = refused_and_kept(server, tmp_path, job, journal,
                              f"Scenario's result is {size[0]}×{size[1]} px, but 64×64 px was "
                              "asked for.")
    assert record.sent_size == [32, 32]

    result = recover(server, journal, record, tmp_path)
    assert png.decode_png(result.path).shape[:2] == (64, 64)
    assert len(paid(server)) == 1, "one paid generate in all: Recover paid nothing"


@pytest.mark.parametrize("plan", [FidelityPlan(), FidelityPlan(keep_alpha=True, normal_map=True)],
                         ids=["kept as sent", "decoded by the add-on"])
def test_a_header_bomb_is_refused_before_anything_decodes_it(server, tmp_path, plan) -> None:
    """60000 × 60000 in a valid IHDR: refused from its header, never a PNGError from a decode."""
    server.set_faults([{"kind": "header_bomb"}])
    job, journal = start(tmp_path, fidelity=plan)
    refused_and_kept(server, tmp_path, job, journal,
                     "Scenario's result is 60000×60000 px, above the 16384 px limit")


def test_a_header_bomb_within_the_side_limit_is_refused_by_memory(server, tmp_path) -> None:
    server.set_faults([{"kind": "header_bomb", "width": 30000, "height": 30000}])
    job, journal = start(tmp_path, limits=ResultLimits(max_side=65536, memory_bytes=1 << 30))
    refused_and_kept(server, tmp_path, job, journal, "would take 3600 MB of memory")


def test_a_lying_content_length_is_never_a_result(server, tmp_path) -> None:
    server.set_faults([{"kind": "short_length", "path": "^/_cdn/", "bytes": 300, "times": None}])
    job, journal = start(tmp_path, size=64)
    record = refused_and_kept(server, tmp_path, job, journal,
                              "300 bytes arrived, and the PNG's IDAT chunk at byte 33 runs past "
                              "the end of the file")
    assert len(paid(server)) == 1

    result = recover(server, journal, record, tmp_path)
    assert png.decode_png(result.path).shape[:2] == (128, 128)
    assert len(paid(server)) == 1


def test_seam_safe_results_are_checked_as_sent_then_cropped_also_on_recover(
        server, tmp_path) -> None:
    """The padded source went up (32 + 2 × 8 = 48 px): its result must be 96 px, cropped to 64.
    Recover has no plan, and still crops: the padding shows in what was sent."""
    job, journal = start(tmp_path, fidelity=FidelityPlan(seam_pad=8))
    server.set_faults([{"kind": "result_size", "width": 64, "height": 64}])
    record = refused_and_kept(server, tmp_path, job, journal,
                              "Scenario's result is 64×64 px, but 96×96 px was asked for.")
    assert record.sent_size == [48, 48]

    result = recover(server, journal, record, tmp_path)
    assert png.decode_png(result.path).shape[:2] == (64, 64)
    assert journal.load(record.local_id).fidelity["cropped"] == 16


def cancelled_when(server: EmulatorServer, job: upscale_job.UpscaleJob, journal: Journal,
                   ready: Callable[[], bool], after: float = 0.0) -> JobRecord:
    """Runs ``job``; the user cancels ``after`` s once ``ready()``. Asserts the cancel took
    effect within the promise; returns the journaled record."""
    ctx, _ = context()
    asked: list[float] = []

    def cancel() -> None:
        while not ready():
            time.sleep(0.02)
        time.sleep(after)
        ctx.stopped_by_user = True
        asked.append(time.monotonic())
        ctx.cancel_event.set()

    threading.Thread(target=cancel, daemon=True).start()
    with pytest.raises(JobCancelled):
        pipeline.run(job, ctx, journal, connect_to(server))
    took = time.monotonic() - asked[0]
    assert took < CANCEL_PROMISE, f"the cancel took {took:.2f} s"
    return journal.load(job.record.local_id)


def test_cancel_during_a_dripping_download_is_quick_and_says_the_job_is_paid(server,
                                                                             tmp_path) -> None:
    server.set_faults([{"kind": "drip", "path": "^/_cdn/", "bytes": 1, "seconds": 0.5}])
    job, journal = start(tmp_path)
    record = cancelled_when(server, job, journal, after=0.3, ready=lambda: any(
        r["outcome"] == "dripped" for r in server.requests()))

    assert record.state == JobState.SUCCEEDED and record.recoverable
    report = job_text.cancel_report(record)
    assert report.startswith(f"Cancelled while downloading: Scenario job {record.job_id} is paid")
    assert "Recover" in report and "nothing was charged" not in report
    assert [r for r in server.requests() if r["path"].endswith("/action")] == [], \
        "a finished job is not asked to cancel"

    result = recover(server, journal, record, tmp_path)
    assert Path(result.path).is_file() and len(paid(server)) == 1


def test_cancel_while_the_generate_is_on_its_way_is_quick_and_uncertain(server, tmp_path) -> None:
    """The answer is late; after a short grace the socket is shut. The request had left, so the
    job may exist: said so, journaled uncertain, never sent again."""
    server.set_faults([{"kind": "delay", "seconds": 3, "method": "POST", "path": "^/v1/generate"}])
    job, journal = start(tmp_path)
    record = cancelled_when(server, job, journal, ready=lambda: bool(generates(server)))
    assert record.state == JobState.UNCERTAIN
    assert job_text.cancel_report(record) == job_text.CANCELLED_WHILE_SENDING


def test_cancel_during_the_price_check_is_a_cancel_and_pays_nothing(server, tmp_path) -> None:
    server.set_faults([{"kind": "delay", "seconds": 3, "method": "POST", "path": "^/v1/generate"}])
    job, journal = start(tmp_path, spend=spend_policy.SpendPolicy(confirm_above=100.0))
    record = cancelled_when(server, job, journal, ready=lambda: bool(generates(server)))
    assert record.state == JobState.FAILED
    assert job_text.cancel_report(record) == job_text.CANCELLED_UNPAID
    assert paid(server) == []


def test_a_redirected_upload_is_not_followed(server, tmp_path) -> None:
    server.set_faults([{"kind": "redirect", "status": 307, "method": "POST",
                        "path": "^/v1/assets$"}])
    job, journal = start(tmp_path)
    assets = len(server.state()["assets"])
    with pytest.raises(errors.RedirectRefusedError, match=r"redirect \(HTTP 307\) to "
                                                          r"127\.0\.0\.1/v1/assets"):
        pipeline.run(job, context()[0], journal, connect_to(server))
    assert to_other_origin(server) == []
    assert generates(server) == []
    assert len(server.state()["assets"]) == assets, "no asset was made, here or there"


@pytest.mark.parametrize("rule", [
    {"kind": "local_link", "path": "^/v1/assets/"},  # the asset, or its link as a PNG
    {"kind": "redirect", "path": "^/_cdn/"},
    {"kind": "redirect", "path": "^/_cdn/", "to": "http://127.0.0.1:9/admin"},
], ids=["a link to another local service", "a CDN redirect to another origin",
        "a CDN redirect to another port"])
def test_a_download_led_elsewhere_sends_nothing_there_and_stays_collectable(
        server, tmp_path, rule) -> None:
    server.set_faults([rule])
    job, journal = start(tmp_path)
    record = refused_and_kept(server, tmp_path, job, journal, "It was refused, and nothing was "
                                                              "sent to it.")
    assert to_other_origin(server) == []

    result = recover(server, journal, record, tmp_path)
    assert Path(result.path).is_file() and len(paid(server)) == 1


def test_upload_part_addresses_are_checked_before_any_part_goes_out(server, tmp_path) -> None:
    server.set_faults([{"kind": "local_link", "method": "POST", "path": "^/v1/uploads$"}])
    rng = np.random.default_rng(3)
    big = tmp_path / "big.png"
    png.write_png(big, rng.integers(0, 255, (1100, 1100, 3), dtype=np.uint8))
    journal = Journal(tmp_path / "journal")
    job = new_job(tmp_path, FileSource(str(big), "big.png"))
    with pytest.raises(errors.UnsafeLinkError, match="upload address for part 1 of 1 that leads "
                                                     "to http://127.0.0.1:"):
        pipeline.run(job, context()[0], journal, connect_to(server))
    assert to_other_origin(server) == []
    assert [r for r in server.requests() if r["method"] == "PUT"] == []
    assert generates(server) == []


def test_a_whole_result_that_does_not_decode_is_named_damaged_not_unexpected(
        server, tmp_path, monkeypatch) -> None:
    """Whole, of the right size, and still not a PNG the add-on's decoder reads (bad image
    data): the report says so, in words, and the paid job stays collectable."""
    def broken(*args: object, **kwargs: object) -> None:
        raise png.PNGError("invalid zlib stream in IDAT")

    monkeypatch.setattr(pipeline_download, "finish_result", broken)
    job, journal = start(tmp_path)
    refused_and_kept(server, tmp_path, job, journal,
                     "Scenario's result is damaged (invalid zlib stream in IDAT).")


def test_a_redirected_poll_leaves_the_submitted_job_kept_and_says_so(server, tmp_path) -> None:
    server.set_faults([{"kind": "redirect", "method": "GET", "path": "^/v1/jobs/"}])
    job, journal = start(tmp_path)
    with pytest.raises(errors.RedirectRefusedError) as info:
        pipeline.run(job, context()[0], journal, connect_to(server))
    record = journal.load(job.record.local_id)
    assert record.state == JobState.SUBMITTED and record.recoverable
    assert str(info.value).endswith(f"Scenario job {record.job_id} was submitted and is kept: "
                                    "Recover in Recent Jobs collects its result later, without "
                                    "paying again.")
    assert to_other_origin(server) == []

    result = recover(server, journal, record, tmp_path)
    assert Path(result.path).is_file() and len(paid(server)) == 1


@pytest.mark.parametrize(("state", "error", "says"), [
    (JobState.PREPARED, "", job_text.CANCELLED_UNPAID),
    (JobState.FAILED, job_text.CANCELLED_UNPAID, job_text.CANCELLED_UNPAID),
    (JobState.ABANDONED, "", "may still finish and be charged"),
    (JobState.SUCCEEDED, "", "is paid; the result can be collected with Recover"),
    (JobState.TIMED_OUT, "", "may still finish and be charged"),
    (JobState.DOWNLOADED, "", "is paid; the result can be collected with Recover"),
    (JobState.UNCERTAIN, job_text.CANCELLED_WHILE_SENDING, "unknown whether Scenario started"),
])
def test_every_cancelled_state_is_worded_true_to_what_was_paid(state, error, says) -> None:
    record = JobRecord(local_id="a1", source_image="brick", job_id="job_1", state=state,
                       error=error)
    assert says in job_text.cancel_report(record)


def test_a_set_with_paid_tiles_is_never_called_free() -> None:
    """Its tiles' run may have left 'nothing was charged' in its error (no tile of this run was
    paid), while earlier tiles were."""
    record = JobRecord(local_id="s1", source_image="skin", state=JobState.SUBMITTED,
                       error=job_text.CANCELLED_UNPAID, tiles=[{"tile": 1001}])
    report = job_text.cancel_report(record)
    assert "nothing was charged" not in report and "already paid for are kept" in report
