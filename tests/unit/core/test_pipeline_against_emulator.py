"""The bpy-free job pipeline against the emulator over real sockets: every outcome the journal must
record, and the rule that a generate is never sent twice."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from scenario_texture_upscale.api import errors
from scenario_texture_upscale.api.lora_check import LoraCheck
from scenario_texture_upscale.api.params import UpscaleParams
from scenario_texture_upscale.api.prices import credits_text
from scenario_texture_upscale.api.service_text import UNSAFE
from scenario_texture_upscale.core import job_text, pipeline, png, spend_policy, upscale_job
from scenario_texture_upscale.core.fidelity import FidelityPlan
from scenario_texture_upscale.core.journal import JobRecord, Journal, new_job_id
from scenario_texture_upscale.core.scheduler import JobCancelled, JobContext
from scenario_texture_upscale.core.source import (
    BytesSource,
    FileSource,
    PixelSource,
)
from scenario_texture_upscale.core.spend_ledger import SpendLedger
from scenario_texture_upscale.core.states import JobState

from emulator.model_catalog import LORA_MODELS
from emulator.options import EmulatorOptions
from emulator.server import EmulatorServer
from tests.unit.core.emulated import connect_to

STONE = next(iter(LORA_MODELS))


@pytest.fixture(autouse=True)
def _reset(emulated: EmulatorServer) -> None:
    """Every test here starts with a fresh emulator."""


def context() -> tuple[JobContext, list]:
    import queue

    events: queue.Queue = queue.Queue()
    return JobContext("job", threading.Event(), events), events


def texture(tmp_path: Path, size: int = 32) -> Path:
    rng = np.random.default_rng(1)
    path = tmp_path / "brick.png"
    png.write_png(path, rng.integers(0, 255, (size, size, 3), dtype=np.uint8))
    return path


def new_job(tmp_path: Path, source=None, **record_fields) -> upscale_job.UpscaleJob:
    record = JobRecord(local_id=new_job_id(), source_image="brick",
                       output_dir=str(tmp_path / "out"), output_stem="brick",
                       params={"upscaleFactor": 2}, **record_fields)
    # Pricing has its own tests below; here it would add a dry run to every request log.
    return upscale_job.UpscaleJob(record=record, params=UpscaleParams(upscale_factor=2),
                                  work_dir=tmp_path / "work", source=source,
                                  spend=spend_policy.SpendPolicy(quote=False))


def generates(server: EmulatorServer) -> list[dict]:
    return [r for r in server.requests() if r["path"].startswith("/v1/generate")]


def test_file_source_runs_to_a_downloaded_result(server, tmp_path) -> None:
    journal = Journal(tmp_path / "journal")
    src = texture(tmp_path)
    job = new_job(tmp_path, FileSource(str(src), "brick.png"))
    ctx, events = context()

    result = pipeline.run(job, ctx, journal, connect_to(server))

    assert Path(result.path) == tmp_path / "out" / "brick_x2.png"
    assert png.decode_png(result.path).shape[:2] == (64, 64)
    record = journal.load(job.record.local_id)
    assert record.state == JobState.DOWNLOADED and record.job_id == result.job_id
    assert [h[0] for h in record.history if h[0] != "sending"] == [
        JobState.SUBMITTING, JobState.SUBMITTED, JobState.SUCCEEDED, JobState.DOWNLOADED]
    stages = {events.get().stage for _ in range(events.qsize())}
    assert {"uploading", "submitting", "generating", "downloading"} <= stages
    upload = [r for r in server.requests() if r["path"] == "/v1/assets"][0]
    assert "image data" in str(upload["body"]["image"])


def test_pixel_source_is_encoded_off_blender(server, tmp_path) -> None:
    journal = Journal(tmp_path / "journal")
    pixels = np.linspace(0, 1, 24 * 20 * 4, dtype=np.float32)
    job = new_job(tmp_path, PixelSource(pixels, 24, 20, "generated.png"))
    result = pipeline.run(job, context()[0], journal, connect_to(server))
    assert png.decode_png(result.path).shape[:2] == (40, 48)


def test_a_result_made_as_jpeg_is_asked_for_as_png_only_when_its_pixels_are_needed(tmp_path) -> None:
    """Scenario does not promise PNG. A result whose alpha must be rebuilt (read by the add-on's
    PNG codec) is asked for as a PNG; one taken as it is keeps Scenario's own format."""
    rgba = np.zeros((32, 32, 4), np.uint8)
    rgba[..., :3] = np.random.default_rng(2).integers(0, 255, (32, 32, 3))
    rgba[..., 3] = np.linspace(0, 255, 32)[None, :]  # an alpha the emulator drops
    png.write_png(tmp_path / "leaf.png", rgba)
    texture(tmp_path)  # brick.png: opaque, nothing to rebuild
    options = EmulatorOptions(job_seconds=0.2, log_requests=False, result_format="jpeg")
    with EmulatorServer(options) as jpeg_server:
        results = {}
        for name in ("leaf.png", "brick.png"):
            folder = tmp_path / name.replace(".", "_")
            job = new_job(folder, FileSource(str(tmp_path / name), name))
            job.fidelity = FidelityPlan(check_tiling=False)
            results[name] = pipeline.run(job, context()[0], Journal(folder / "journal"),
                                         connect_to(jpeg_server))
        asked = [r["body"] for r in jpeg_server.requests() if r["path"].endswith("/download")]

    assert asked == [{"targetFormat": "png"}], "only the result whose alpha is rebuilt"
    leaf = png.decode_png(results["leaf.png"].path)
    assert results["leaf.png"].path.endswith("brick_x2.png") and leaf.shape == (64, 64, 4)
    assert np.ptp(leaf[..., 3]) > 200, "the source's alpha, rebuilt"
    brick = Path(results["brick.png"].path)
    assert brick.name == "brick_x2.jpg" and brick.read_bytes()[:3] == b"\xff\xd8\xff"


@pytest.mark.parametrize("kind", ["file", "pixels"])
def test_big_image_work_runs_in_a_child_with_the_threads_result(server, tmp_path, monkeypatch,
                                                                kind) -> None:
    from scenario_texture_upscale.core import fidelity, offload

    rgba = np.zeros((32, 32, 4), np.uint8)
    rgba[..., :3] = np.random.default_rng(2).integers(0, 255, (32, 32, 3))
    rgba[..., 3] = np.linspace(0, 255, 32)[None, :]  # an alpha the emulator drops
    png.write_png(tmp_path / "leaf.png", rgba)
    floats = (rgba[::-1].reshape(-1) / 255).astype(np.float32)

    def outcome(offloaded: bool, folder: Path):
        source = (FileSource(str(tmp_path / "leaf.png"), "leaf.png") if kind == "file"
                  else PixelSource(floats.copy(), 32, 32, "leaf"))
        job = new_job(folder, source)
        job.fidelity = fidelity.FidelityPlan(seam_pad=8)
        offload.set_enabled(offloaded)
        result = pipeline.run(job, context()[0], Journal(folder / "journal"), connect_to(server))
        return png.decode_png(result.path), job.record.fidelity

    children = []
    run_in_child = offload._run_in_child
    monkeypatch.setattr(offload, "OFFLOAD_MIN_PIXELS", 1)
    monkeypatch.setattr(offload, "_run_in_child",
                        lambda fn, *a: children.append(fn.__name__) or run_in_child(fn, *a))
    try:
        in_thread, report_in_thread = outcome(False, tmp_path / "thread")
        assert children == []
        in_child, report_in_child = outcome(True, tmp_path / "child")
    finally:
        offload.set_enabled(True)
    # Pixels are analysed when they are encoded; a file is read again while Scenario works.
    assert children == {"file": ["pad_source", "analyse_source", "finish_result"],
                        "pixels": ["prepare_pixels", "finish_result"]}[kind]
    assert in_child.shape == (64, 64, 4) and report_in_child["alpha_rebuilt"]
    assert np.array_equal(in_child, in_thread) and report_in_child == report_in_thread


def test_a_helper_that_dies_after_payment_keeps_the_result_recoverable(server, tmp_path,
                                                                       monkeypatch) -> None:
    from scenario_texture_upscale.core import fidelity, offload

    def dying(fn, args, cancel):
        raise offload.OffloadError("The image processing helper stopped unexpectedly (exit code "
                                   "-9); the computer may be short of memory.")

    rgba = np.zeros((16, 16, 4), np.uint8)
    rgba[..., 3] = np.arange(16)[None, :] * 16  # an alpha to rebuild: the result is decoded
    png.write_png(tmp_path / "leaf.png", rgba)
    journal = Journal(tmp_path / "journal")
    job = new_job(tmp_path, FileSource(str(tmp_path / "leaf.png"), "leaf.png"))
    job.analysis = fidelity.analyse_source(job.source, job.fidelity)
    monkeypatch.setattr(offload, "OFFLOAD_MIN_PIXELS", 1)
    monkeypatch.setattr(offload, "_run_in_child", dying)
    with pytest.raises(errors.ScenarioError, match="paid for and kept.*Recover"):
        pipeline.run(job, context()[0], journal, connect_to(server))
    record = journal.load(job.record.local_id)
    assert record.state == JobState.SUCCEEDED

    monkeypatch.undo()
    again = upscale_job.UpscaleJob(record=record, params=job.params, work_dir=job.work_dir,
                                   analysis=job.analysis, spend=job.spend)
    result = pipeline.run(again, context()[0], journal, connect_to(server))
    assert png.decode_png(result.path).shape == (32, 32, 4)
    assert len(generates(server)) == 1


def uploads(server: EmulatorServer) -> list[dict]:
    return [r for r in server.requests() if r["path"] in ("/v1/assets", "/v1/uploads")]


@pytest.mark.parametrize("damaged", ["source", "style"])
def test_a_damaged_png_is_refused_before_any_upload(server, tmp_path, damaged) -> None:
    whole = texture(tmp_path).read_bytes()
    cut = tmp_path / "cut.png"
    cut.write_bytes(whole[: len(whole) // 2])
    journal = Journal(tmp_path / "journal")
    good = FileSource(str(texture(tmp_path)), "brick.png")
    job = new_job(tmp_path, FileSource(str(cut), "cut.png") if damaged == "source" else good)
    if damaged == "style":
        job.style_sources = [good, BytesSource(whole[: len(whole) // 2], "style.png")]

    with pytest.raises(errors.ScenarioError, match="is damaged .*Nothing was uploaded") as info:
        pipeline.run(job, context()[0], journal, connect_to(server))

    named = str(cut) if damaged == "source" else "The packed image style.png"
    assert named in str(info.value)
    assert server.requests() == []
    assert journal.load(job.record.local_id).state == JobState.FAILED


def test_an_unknown_lora_is_refused_before_any_upload_and_a_known_one_looked_up_once(
        server, tmp_path) -> None:
    journal = Journal(tmp_path / "journal")
    loras = LoraCheck()
    typo = new_job(tmp_path, FileSource(str(texture(tmp_path)), "brick.png"))
    typo.params, typo.loras = UpscaleParams(upscale_factor=2, loras=[STONE, "model_typo"],
                                            loras_scale=[1.0, 1.0]), loras

    with pytest.raises(errors.InvalidRequestError, match="LoRA 'model_typo' is not a model"):
        pipeline.run(typo, context()[0], journal, connect_to(server))
    assert uploads(server) == [] and generates(server) == []
    assert journal.load(typo.record.local_id).state == JobState.FAILED

    for _ in range(2):
        job = new_job(tmp_path, FileSource(str(texture(tmp_path)), "brick.png"))
        job.params, job.loras = UpscaleParams(upscale_factor=2, loras=[STONE],
                                              loras_scale=[0.8]), loras
        pipeline.run(job, context()[0], journal, connect_to(server))
    lookups = [r["path"] for r in server.requests() if r["path"].startswith("/v1/models/")]
    assert lookups == [f"/v1/models/{STONE}", "/v1/models/model_typo"]
    assert [g["body"]["loras"] for g in generates(server)] == [[STONE], [STONE]]


def test_lost_generate_answer_is_uncertain_and_never_resent(server, tmp_path) -> None:
    server.set_faults([{"kind": "drop", "path": "^/v1/generate", "drop_after_processing": True}])
    journal = Journal(tmp_path / "journal")
    job = new_job(tmp_path, FileSource(str(texture(tmp_path)), "brick.png"))

    with pytest.raises(errors.SubmissionUncertainError, match="not sent again"):
        pipeline.run(job, context()[0], journal, connect_to(server))

    assert journal.load(job.record.local_id).state == JobState.UNCERTAIN
    assert len(generates(server)) == 1
    # Running the same record again (a recovery) must not send it either.
    with pytest.raises(errors.ScenarioError):
        pipeline.run(job, context()[0], journal, connect_to(server))
    assert len(generates(server)) == 1


def test_crash_between_sending_and_answer_is_uncertain_on_resume(server, tmp_path) -> None:
    journal = Journal(tmp_path / "journal")
    job = new_job(tmp_path, None, input_asset_id="asset_x")
    job.record.state = JobState.SUBMITTING
    job.record.history = [[JobState.SUBMITTING, 0], ["sending", 0]]

    with pytest.raises(errors.SubmissionUncertainError):
        pipeline.run(job, context()[0], journal, connect_to(server))
    assert generates(server) == []


def test_failed_job_records_scenario_reason(server, tmp_path) -> None:
    server.set_faults([{"kind": "job_failure", "path": "^/v1/generate", "error": "NSFW content",
                        "hint": "Use another image"}])
    journal = Journal(tmp_path / "journal")
    job = new_job(tmp_path, FileSource(str(texture(tmp_path)), "brick.png"))

    with pytest.raises(errors.JobFailedError, match="NSFW content"):
        pipeline.run(job, context()[0], journal, connect_to(server))
    record = journal.load(job.record.local_id)
    assert record.state == JobState.FAILED and "NSFW content" in record.error


def test_job_that_never_finishes_times_out_and_stays_recoverable(server, tmp_path) -> None:
    server.set_faults([{"kind": "job_never_finishes", "path": "^/v1/generate"}])
    journal = Journal(tmp_path / "journal")
    job = new_job(tmp_path, FileSource(str(texture(tmp_path)), "brick.png"))
    job.timeout_s = 1.5

    with pytest.raises(errors.ScenarioError, match="still running"):
        pipeline.run(job, context()[0], journal, connect_to(server))
    record = journal.load(job.record.local_id)
    assert record.state == JobState.TIMED_OUT and record.recoverable and record.job_id


def test_cancel_while_waiting_abandons_but_keeps_the_job_id(server, tmp_path) -> None:
    server.set_faults([{"kind": "job_never_finishes", "path": "^/v1/generate"}])
    journal = Journal(tmp_path / "journal")
    job = new_job(tmp_path, FileSource(str(texture(tmp_path)), "brick.png"))
    ctx, _ = context()
    threading.Timer(1.0, ctx.cancel_event.set).start()

    with pytest.raises(JobCancelled):
        pipeline.run(job, ctx, journal, connect_to(server))
    record = journal.load(job.record.local_id)
    assert record.state == JobState.ABANDONED and record.job_id


def cancel_requests(server: EmulatorServer) -> list[dict]:
    return [r for r in server.requests() if r["path"].endswith("/action")
            and r["path"].startswith("/v1/jobs/")]


def _stopped_while_waiting(server, tmp_path, by_user: bool) -> JobRecord:
    server.set_faults([{"kind": "job_never_finishes", "path": "^/v1/generate"}])
    journal = Journal(tmp_path / "journal")
    job = new_job(tmp_path, FileSource(str(texture(tmp_path)), "brick.png"))
    ctx, _ = context()

    def stop() -> None:
        ctx.stopped_by_user = by_user
        ctx.cancel_event.set()

    threading.Timer(1.0, stop).start()
    with pytest.raises(JobCancelled):
        pipeline.run(job, ctx, journal, connect_to(server))
    return journal.load(job.record.local_id)


def test_stopped_by_the_user_asks_scenario_and_keeps_the_job_when_refused(server, tmp_path):
    record = _stopped_while_waiting(server, tmp_path, by_user=True)
    assert record.state == JobState.ABANDONED and record.recoverable and record.job_id
    [asked] = cancel_requests(server)
    assert asked["path"] == f"/v1/jobs/{record.job_id}/action" and asked["status"] == 400


def test_stopped_by_the_user_and_accepted_is_journaled_cancelled(tmp_path) -> None:
    options = EmulatorOptions(job_seconds=0.4, log_requests=False, accept_cancel=True)
    with EmulatorServer(options) as accepting:
        record = _stopped_while_waiting(accepting, tmp_path, by_user=True)
        [asked] = cancel_requests(accepting)
        [job] = accepting.app.scheduler.jobs()
    assert asked["status"] == 200 and job.status == "canceled"
    assert record.state == JobState.CANCELLED and not record.recoverable
    assert record.error == job_text.cancelled_at_service(record.job_id)


def test_stopped_by_a_file_load_never_asks_scenario(tmp_path) -> None:
    options = EmulatorOptions(job_seconds=0.4, log_requests=False, accept_cancel=True)
    with EmulatorServer(options) as accepting:
        record = _stopped_while_waiting(accepting, tmp_path, by_user=False)
        assert cancel_requests(accepting) == []
    assert record.state == JobState.ABANDONED and record.recoverable


def test_cancel_before_submission_charges_nothing(server, tmp_path) -> None:
    journal = Journal(tmp_path / "journal")
    job = new_job(tmp_path, FileSource(str(texture(tmp_path)), "brick.png"))
    ctx, _ = context()
    ctx.cancel_event.set()

    with pytest.raises(JobCancelled):
        pipeline.run(job, ctx, journal, connect_to(server))
    assert journal.load(job.record.local_id).state == JobState.FAILED
    assert generates(server) == []


def test_cancel_during_the_lora_check_is_a_cancel_and_sends_nothing(server, tmp_path) -> None:
    journal = Journal(tmp_path / "journal")
    job = new_job(tmp_path, FileSource(str(texture(tmp_path)), "brick.png"))
    job.params, job.loras = UpscaleParams(upscale_factor=2, loras=[STONE]), LoraCheck()
    ctx, _ = context()
    ctx.cancel_event.set()

    with pytest.raises(JobCancelled):
        pipeline.run(job, ctx, journal, connect_to(server))
    assert journal.load(job.record.local_id).error == job_text.CANCELLED_UNPAID
    assert server.requests() == []


def test_recovery_from_submitted_downloads_without_a_new_generate(server, tmp_path) -> None:
    journal = Journal(tmp_path / "journal")
    job = new_job(tmp_path, FileSource(str(texture(tmp_path)), "brick.png"))
    pipeline.run(job, context()[0], journal, connect_to(server))
    # The same job as a crashed session left it: submitted, result never fetched, no source.
    record = journal.load(job.record.local_id)
    record.state, record.result_asset_ids, record.result_path = JobState.SUBMITTED, [], ""
    resumed = upscale_job.UpscaleJob(record=record, params=UpscaleParams(), work_dir=tmp_path / "w")

    result = pipeline.run(resumed, context()[0], journal, connect_to(server))

    assert len(generates(server)) == 1
    assert Path(result.path).name == "brick_x2_2.png"
    assert journal.load(record.local_id).state == JobState.DOWNLOADED


def test_names_never_overwrite(server, tmp_path) -> None:
    journal = Journal(tmp_path / "journal")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "brick_x2.png").write_bytes(b"keep me")
    job = new_job(tmp_path, FileSource(str(texture(tmp_path)), "brick.png"))
    result = pipeline.run(job, context()[0], journal, connect_to(server))
    assert Path(result.path).name == "brick_x2_2.png"
    assert (tmp_path / "out" / "brick_x2.png").read_bytes() == b"keep me"


def test_unwritable_output_keeps_the_paid_result_collectable(server, tmp_path) -> None:
    journal = Journal(tmp_path / "journal")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    job = new_job(tmp_path, FileSource(str(texture(tmp_path)), "brick.png"))
    job.record.output_dir = str(blocker / "out")

    with pytest.raises(errors.ScenarioError, match="will not be paid again"):
        pipeline.run(job, context()[0], journal, connect_to(server))
    record = journal.load(job.record.local_id)
    assert record.state == JobState.SUCCEEDED and record.recoverable

    record.output_dir = str(tmp_path / "elsewhere")
    resumed = upscale_job.UpscaleJob(record=record, params=UpscaleParams(), work_dir=tmp_path / "w")
    result = pipeline.run(resumed, context()[0], journal, connect_to(server))
    assert Path(result.path).parent == tmp_path / "elsewhere"
    assert len(generates(server)) == 1


def dry_runs(server: EmulatorServer) -> list[dict]:
    return [r for r in server.requests()
            if r["path"].startswith("/v1/generate") and r["query"].get("dryRun")]


def paid(server: EmulatorServer) -> list[dict]:
    return [r for r in generates(server) if not r["query"].get("dryRun")]


def test_price_is_recorded_before_paying(server, tmp_path) -> None:
    journal = Journal(tmp_path / "journal")
    job = new_job(tmp_path, FileSource(str(texture(tmp_path)), "brick.png"))
    job.spend = spend_policy.SpendPolicy()
    ctx, events = context()
    pipeline.run(job, ctx, journal, connect_to(server))
    record = journal.load(job.record.local_id)
    assert record.quote is not None and record.quote > 0
    assert len(dry_runs(server)) == 1 and len(paid(server)) == 1
    messages = [events.get() for _ in range(events.qsize())]
    price = f"Price: {credits_text(record.quote)}"
    assert any(e.stage == "pricing" and e.message == price for e in messages)


def test_never_spend_stops_before_the_paid_call(server, tmp_path) -> None:
    journal = Journal(tmp_path / "journal")
    job = new_job(tmp_path, FileSource(str(texture(tmp_path)), "brick.png"))
    job.spend = spend_policy.SpendPolicy(never_spend=True)
    with pytest.raises(spend_policy.NotSpentError, match="Rehearsal: this upscale would cost") as info:
        pipeline.run(job, context()[0], journal, connect_to(server))
    assert len(dry_runs(server)) == 1 and paid(server) == []
    assert journal.load(job.record.local_id).state == JobState.FAILED
    assert "turn off Stop Before Paying" in str(info.value)
    assert info.value.by_choice and not info.value.declined


@pytest.mark.parametrize("answer", [True, False])
def test_price_above_the_limit_waits_for_the_user(server, tmp_path, answer) -> None:
    journal = Journal(tmp_path / "journal")
    job = new_job(tmp_path, FileSource(str(texture(tmp_path)), "brick.png"))
    job.spend = spend_policy.SpendPolicy(confirm_above=0.5)
    ctx, events = context()
    asked = []

    def answer_when_asked() -> None:
        while True:
            event = events.get(timeout=10)
            if event.kind == "question":
                asked.append(event.payload)
                ctx.answer(answer)
                return

    helper = threading.Thread(target=answer_when_asked)
    helper.start()
    if answer:
        pipeline.run(job, ctx, journal, connect_to(server))
        assert len(paid(server)) == 1
    else:
        with pytest.raises(spend_policy.NotSpentError, match="Declined at") as info:
            pipeline.run(job, ctx, journal, connect_to(server))
        assert paid(server) == []
        # The artist's no is no failure: said as such, and journaled as declined.
        assert info.value.by_choice and info.value.declined
        record = journal.load(job.record.local_id)
        assert record.state == JobState.FAILED and record.declined
    helper.join()
    assert asked[0].limit == 0.5 and asked[0].cost > 0.5


def test_price_above_the_limit_without_anyone_to_ask_spends_nothing(server, tmp_path) -> None:
    journal = Journal(tmp_path / "journal")
    job = new_job(tmp_path, FileSource(str(texture(tmp_path)), "brick.png"))
    job.spend = spend_policy.SpendPolicy(confirm_above=0.5, can_ask=False)
    with pytest.raises(spend_policy.NotSpentError, match="above your confirmation limit"):
        pipeline.run(job, context()[0], journal, connect_to(server))
    assert paid(server) == []


def test_a_batch_is_confirmed_by_its_total_not_per_image(server, tmp_path) -> None:
    # Each 32 px image costs 1 credit at ×2 here: under a limit of 1.5 alone, not together.
    journal = Journal(tmp_path / "journal")
    ledger = SpendLedger(1.5)
    jobs = [new_job(tmp_path, FileSource(str(texture(tmp_path)), "brick.png")) for _ in range(3)]
    for job in jobs:
        job.spend = spend_policy.SpendPolicy(confirm_above=1.5, ledger=ledger)

    pipeline.run(jobs[0], context()[0], journal, connect_to(server))  # 1 credit: no question
    ctx, events = context()

    def decline_when_asked() -> None:
        while (event := events.get(timeout=10)).kind != "question":
            pass
        questions.append(event.payload)
        ctx.answer(False)

    questions: list = []
    helper = threading.Thread(target=decline_when_asked)
    helper.start()
    with pytest.raises(spend_policy.NotSpentError, match="Declined at 2 credits for the batch"):
        pipeline.run(jobs[1], ctx, journal, connect_to(server))
    helper.join()
    [question] = questions
    assert (question.cost, question.batch_total, question.limit) == (1, 2, 1.5)
    # The answer holds for the batch: the next image is not spent either, and nobody is asked.
    with pytest.raises(spend_policy.NotSpentError, match="batch was declined"):
        pipeline.run(jobs[2], context()[0], journal, connect_to(server))
    assert len(paid(server)) == 1 and len(dry_runs(server)) == 3


def test_without_anyone_to_ask_a_batch_stops_at_its_limit(server, tmp_path) -> None:
    journal = Journal(tmp_path / "journal")
    ledger = SpendLedger(1.5)
    jobs = [new_job(tmp_path, FileSource(str(texture(tmp_path)), "brick.png")) for _ in range(2)]
    for job in jobs:
        job.spend = spend_policy.SpendPolicy(confirm_above=1.5, ledger=ledger, can_ask=False)
    pipeline.run(jobs[0], context()[0], journal, connect_to(server))
    with pytest.raises(spend_policy.NotSpentError, match="The batch would pass 1.5 credits"):
        pipeline.run(jobs[1], context()[0], journal, connect_to(server))
    assert len(paid(server)) == 1


# --- a service that lies: prices, and what happened to the paid request -------------------------

BAD_PRICES = [-500, float("nan"), float("inf"), "9", True, None, 1e300]


@pytest.mark.parametrize("value", BAD_PRICES)
def test_a_dry_run_price_that_is_not_a_usable_number_is_refused_before_paying(
        server, tmp_path, value) -> None:
    server.set_faults([{"kind": "bad_price", "answer": "dry_run", "value": value}])
    journal = Journal(tmp_path / "journal")
    job = new_job(tmp_path, FileSource(str(texture(tmp_path)), "brick.png"))
    job.spend = spend_policy.SpendPolicy(confirm_above=20.0)

    with pytest.raises(spend_policy.NotSpentError) as info:
        pipeline.run(job, context()[0], journal, connect_to(server))

    assert str(info.value).startswith("Scenario's price answer was not a usable number (")
    assert str(info.value).endswith("); nothing was spent.")
    assert len(dry_runs(server)) == 1 and paid(server) == []
    record = journal.load(job.record.local_id)
    assert record.state == JobState.FAILED and record.quote is None
    assert record.error == str(info.value)


@pytest.mark.parametrize("spend", [spend_policy.SpendPolicy(), spend_policy.SpendPolicy(never_spend=True)])
def test_a_missing_price_is_refused_even_when_the_price_only_informs(server, tmp_path,
                                                                     spend) -> None:
    server.set_faults([{"kind": "bad_price", "answer": "dry_run", "missing": True}])
    journal = Journal(tmp_path / "journal")
    job = new_job(tmp_path, FileSource(str(texture(tmp_path)), "brick.png"))
    job.spend = spend
    with pytest.raises(spend_policy.NotSpentError, match=r"\(no price at all\); nothing was spent"):
        pipeline.run(job, context()[0], journal, connect_to(server))
    assert paid(server) == []


@pytest.mark.parametrize("spend", [spend_policy.SpendPolicy(), spend_policy.SpendPolicy(confirm_above=20.0)])
def test_a_dry_run_answered_with_a_job_is_never_paid_on_top(server, tmp_path, spend) -> None:
    # The price only informs (first case): this used to go on and pay a second job.
    server.set_faults([{"kind": "status", "status": 200, "path": "^/v1/generate",
                        "body": {"job": {"jobId": "job_ran", "status": "queued"},
                                 "creativeUnitsCost": 1}}])
    journal = Journal(tmp_path / "journal")
    job = new_job(tmp_path, FileSource(str(texture(tmp_path)), "brick.png"))
    job.spend = spend
    with pytest.raises(errors.DryRunIgnoredError, match="may have started a real job"):
        pipeline.run(job, context()[0], journal, connect_to(server))
    assert len(generates(server)) == 1 and paid(server) == []
    record = journal.load(job.record.local_id)
    assert record.state == JobState.UNCERTAIN and record.job_id == "job_ran"


def test_a_batch_with_a_negative_price_never_lowers_its_total(server, tmp_path) -> None:
    # -500 would have let the next image "fit" under the limit: refused before the ledger.
    ledger = SpendLedger(20.0)
    server.set_faults([{"kind": "bad_price", "answer": "dry_run", "value": -500}])
    journal = Journal(tmp_path / "journal")
    job = new_job(tmp_path, FileSource(str(texture(tmp_path)), "brick.png"))
    job.spend = spend_policy.SpendPolicy(confirm_above=20.0, can_ask=False, ledger=ledger)
    with pytest.raises(spend_policy.NotSpentError):
        pipeline.run(job, context()[0], journal, connect_to(server))
    assert ledger.committed == 0 and paid(server) == []


@pytest.mark.parametrize(("answer", "cost"), [
    (["generate", "job"], None),  # both costs it states are garbage: unknown, never 0
    ("generate", 1),  # its creativeUnitsCost is garbage, its job's billing is not
    ("job", 1),
])
@pytest.mark.parametrize("value", [-500, float("nan"), "12"])
def test_a_garbage_cost_in_the_paid_answer_is_never_taken(server, tmp_path, answer, cost,
                                                          value) -> None:
    server.set_faults([{"kind": "bad_price", "answer": answer, "path": "^/v1/generate",
                        "value": value}])
    journal = Journal(tmp_path / "journal")
    job = new_job(tmp_path, FileSource(str(texture(tmp_path)), "brick.png"))
    job.spend = spend_policy.SpendPolicy()  # a good dry-run price first

    result = pipeline.run(job, context()[0], journal, connect_to(server))

    record = journal.load(job.record.local_id)
    assert record.quote == 1 and record.cost == cost and result.cost == cost
    assert len(paid(server)) == 1


def test_a_500_on_the_paid_generate_is_uncertain_and_says_what_happened(server, tmp_path) -> None:
    server.set_faults([{"kind": "status", "status": 500, "path": "^/v1/generate"}])
    journal = Journal(tmp_path / "journal")
    job = new_job(tmp_path, FileSource(str(texture(tmp_path)), "brick.png"))

    with pytest.raises(errors.SubmissionUncertainError) as info:
        pipeline.run(job, context()[0], journal, connect_to(server))

    said = str(info.value)
    assert said.startswith("Scenario answered the upscale request with an error (HTTP 500: "
                           "Internal Server Error), so it is unknown whether Scenario started")
    assert "not sent again, to avoid paying twice" in said and "app.scenario.com" in said
    assert "connection broke" not in said
    record = journal.load(job.record.local_id)
    assert record.state == JobState.UNCERTAIN and record.error == said
    assert len(generates(server)) == 1
    with pytest.raises(errors.ScenarioError):
        pipeline.run(job, context()[0], journal, connect_to(server))
    assert len(generates(server)) == 1, "a resumed run never sends it again"


def test_a_200_without_a_job_is_uncertain_and_says_so(server, tmp_path) -> None:
    server.set_faults([{"kind": "status", "status": 200, "path": "^/v1/generate",
                        "body": {"creativeUnitsCost": 1}}])
    journal = Journal(tmp_path / "journal")
    job = new_job(tmp_path, FileSource(str(texture(tmp_path)), "brick.png"))
    with pytest.raises(errors.SubmissionUncertainError,
                       match=r"^Scenario answered the upscale request \(HTTP 200\) without naming "
                             r"a job, so it is unknown"):
        pipeline.run(job, context()[0], journal, connect_to(server))
    assert journal.load(job.record.local_id).state == JobState.UNCERTAIN


def test_a_job_failure_with_control_characters_is_reported_clean(server, tmp_path) -> None:
    server.set_faults([{"kind": "job_failure", "error": "GPU\x1b[31m exploded\r\nforged",
                        "hint": "\u202eTry later\x00"},
                       {"kind": "hostile_text", "path": "^/v1/jobs/", "times": None}])
    journal = Journal(tmp_path / "journal")
    job = new_job(tmp_path, FileSource(str(texture(tmp_path)), "brick.png"))
    with pytest.raises(errors.JobFailedError) as info:
        pipeline.run(job, context()[0], journal, connect_to(server))
    said = journal.load(job.record.local_id).error
    assert said == str(info.value)
    assert said.startswith("Scenario could not upscale the texture: GPU exploded forged red")
    assert "Try later" in said
    assert not UNSAFE.search(said) and "[31m" not in said


@pytest.mark.parametrize("cost", [-500, float("nan"), float("inf"), "9", None, True, 1e300])
@pytest.mark.parametrize("policy", [
    spend_policy.SpendPolicy(confirm_above=20.0), spend_policy.SpendPolicy(never_spend=True),
    spend_policy.SpendPolicy(confirm_above=20.0, ledger=SpendLedger(20.0)), spend_policy.SpendPolicy(),
], ids=["limit", "never spend", "batch", "no limit"])
def test_the_spending_decision_refuses_a_price_that_is_not_a_usable_number(cost, policy) -> None:
    asked = []
    ctx = context()[0]
    ctx.ask = lambda question: asked.append(question) or True  # type: ignore[method-assign]
    refusal = spend_policy.spend_refusal(policy, ctx, cost, "brick")
    assert refusal is not None and refusal.message.startswith(
        "Scenario's price answer was not a usable number (")
    assert not refusal.by_choice and not refusal.declined
    assert asked == [] and (policy.ledger is None or policy.ledger.committed == 0)


@pytest.mark.parametrize(("status", "shown"), [
    ("in-progress", "Generating"), ("rendering-on-mars", "rendering-on-mars"),
    ("x" * 500, "x" * 29 + "…"),
])
def test_a_status_is_shown_by_its_label_or_briefly(status, shown) -> None:
    from scenario_texture_upscale.api.models import Job

    ctx, events = context()
    pipeline._report_job(ctx, Job(job_id="j", status=status))
    assert events.get_nowait().message == shown
