"""Preview sets in the bpy-free core against the emulator over real sockets: one crop uploaded,
every variant priced and the whole texture priced by dry runs, one question for all, explicit
seeds on the wire, nothing paid on a no, and a set stopped while generating kept for Recover."""

from __future__ import annotations

import queue
import threading
from pathlib import Path

import numpy as np
import pytest
from scenario_texture_upscale.api.params import UpscaleParams
from scenario_texture_upscale.api.prices import credits_text
from scenario_texture_upscale.core import png, preview, spend_policy, upscale_job
from scenario_texture_upscale.core.crop import Region
from scenario_texture_upscale.core.journal import JobRecord, Journal, new_job_id
from scenario_texture_upscale.core.scheduler import JobContext, Scheduler
from scenario_texture_upscale.core.source import FileSource
from scenario_texture_upscale.core.states import EventKind, JobState

from emulator.pricing import upscale_cost
from emulator.server import EmulatorServer
from tests.unit.core.emulated import connect_to, stopped_while_generating

SIZE = (640, 480)
REGION = Region(40, 30, 64, 48)


@pytest.fixture(autouse=True)
def _reset(emulated: EmulatorServer) -> None:
    """Every test here starts with a fresh emulator, no stand-in known from an earlier one."""
    preview._stand_ins.clear()


def a_set(tmp_path: Path, field: str = "STRENGTH", values: list | None = None,
          spend: spend_policy.SpendPolicy | None = None) -> preview.PreviewJob:
    image = np.random.default_rng(5).integers(0, 255, (SIZE[1], SIZE[0], 3), dtype=np.uint8)
    source = tmp_path / "brick.png"
    png.write_png(source, image)
    base = UpscaleParams(upscale_factor=2, preset="balanced", strength=0.4)
    variants = preview.variant_params(base, field, values if values is not None else [0.2, 0.6],
                                      seed=1234)
    record = JobRecord(local_id=new_job_id(), source_image="brick", scope="NONE",
                       output_dir=str(tmp_path / "previews"), output_stem="brick",
                       params=variants[0][1].to_body(), source_size=[REGION.width, REGION.height])
    jobs = []
    for index, (label, params) in enumerate(variants):
        vrecord = JobRecord.from_json(record.to_json())
        vrecord.local_id, vrecord.params = new_job_id(), params.to_body()
        vrecord.preview = {"set": record.local_id, "label": label, "index": index}
        jobs.append(upscale_job.UpscaleJob(record=vrecord, params=params,
                                           work_dir=tmp_path / "work" / vrecord.local_id))
    record.preview = {"region": REGION.as_list(), "variants": [
        {"local_id": j.record.local_id, "label": j.record.preview["label"]} for j in jobs]}
    return preview.PreviewJob(record=record, variants=jobs, region=REGION, image_size=SIZE,
                              work_dir=tmp_path / "work" / record.local_id,
                              source=FileSource(str(source), "brick.png"),
                              whole_sizes=[SIZE], spend=spend or spend_policy.SpendPolicy())


def context(parallel: int = 2) -> tuple[JobContext, queue.Queue]:
    events: queue.Queue = queue.Queue()
    runner = Scheduler(parallel)
    return JobContext("set", threading.Event(), events, runner.slots, runner), events


def generates(server: EmulatorServer, dry: bool = False) -> list[dict]:
    return [r for r in server.requests() if r["path"].startswith("/v1/generate")
            and ("dryRun" in (r.get("query") or {})) == dry]


def test_labels_and_explicit_seeds() -> None:
    base = UpscaleParams(upscale_factor=2, preset="balanced", seed=None)
    made = preview.variant_params(base, "PRESET", ["precise", "creative"], seed=77)
    assert [(label, p.preset, p.seed) for label, p in made] == [("Precise", "precise", 77),
                                                                ("Creative", "creative", 77)]
    seeds = preview.variant_params(base, "SEED", [1, 2], seed=77)
    assert [(label, p.seed) for label, p in seeds] == [("Seed 1", 1), ("Seed 2", 2)]
    [(label, single)] = preview.variant_params(UpscaleParams(seed=9), "NONE", [], seed=77)
    assert single.seed == 9, "the panel's own seed wins over a random one"
    with pytest.raises(ValueError, match="at most 4"):
        preview.variant_params(base, "STRENGTH", [0.1, 0.2, 0.3, 0.4, 0.5], seed=1)


def test_one_crop_upload_every_variant_priced_and_sent_with_its_values(server, tmp_path) -> None:
    journal = Journal(tmp_path / "journal")
    job = a_set(tmp_path)
    ctx, events = context()

    result = preview.run(job, ctx, journal, connect_to(server))

    assert [p.label for p in result.previews] == ["Strength 0.2", "Strength 0.6"]
    for made in result.previews:
        assert png.decode_png(made.path).shape[:2] == (96, 128), "the crop at ×2"
        assert Path(made.path).parent == tmp_path / "previews"
    sent = generates(server)
    assert sorted((r["body"]["strength"], r["body"]["seed"]) for r in sent) == [(0.2, 1234),
                                                                                (0.6, 1234)]
    assert len({r["body"]["image"] for r in sent}) == 1, "one upload of the crop for both"
    uploads = [r for r in server.requests() if r["method"] == "POST" and r["path"] == "/v1/assets"]
    assert len(uploads) == 2, "the crop, and the whole texture's stand-in"
    crop_cost = upscale_cost(REGION.width, REGION.height, 2)
    assert result.cost == 2 * crop_cost
    saved = journal.load(job.record.local_id)
    assert saved.state == JobState.DOWNLOADED
    assert saved.preview["whole_cost"] == [upscale_cost(*SIZE, 2)] * 2
    assert Path(saved.preview["original"]).is_file()
    notes = [e.payload for e in drained(events) if isinstance(e.payload, str)]
    assert notes == [f"2 previews of 64×48 → 128×96, {credits_text(2 * crop_cost)} (the "
                     f"whole texture: {credits_text(upscale_cost(*SIZE, 2))})"]
    assert upscale_cost(*SIZE, 2) > 2 * crop_cost


def drained(events: queue.Queue) -> list:
    found = []
    while not events.empty():
        found.append(events.get())
    return found


def answering(ctx: JobContext, events: queue.Queue, yes: bool
              ) -> tuple[threading.Thread, list]:
    """A thread that answers the first price question with ``yes``, as the panel's buttons
    would; the questions asked land in the list."""
    asked: list = []

    def answer() -> None:
        while True:
            event = events.get()
            if event.kind == EventKind.QUESTION:
                asked.append(event.payload)
                ctx.answer(yes)
                return

    helper = threading.Thread(target=answer)
    helper.start()
    return helper, asked


@pytest.mark.parametrize("yes", [True, False])
def test_one_question_covers_every_variant(server, tmp_path, yes) -> None:
    journal = Journal(tmp_path / "journal")
    job = a_set(tmp_path, "PRESET", ["precise", "balanced", "creative"],
                spend_policy.SpendPolicy(confirm_above=0.5))
    ctx, events = context()
    helper, asked = answering(ctx, events, yes)
    if yes:
        result = preview.run(job, ctx, journal, connect_to(server))
        assert len(result.previews) == 3
    else:
        with pytest.raises(spend_policy.NotSpentError, match="Declined at"):
            preview.run(job, ctx, journal, connect_to(server))
    helper.join(10)

    [question] = asked
    crop_cost = upscale_cost(REGION.width, REGION.height, 2)
    assert (question.previews, question.cost) == (3, 3 * crop_cost)
    assert "the whole texture" in question.note
    assert len(generates(server)) == (3 if yes else 0)
    if not yes:
        states = {journal.load(v.record.local_id).state for v in job.variants}
        assert states == {JobState.FAILED}
        assert journal.load(job.record.local_id).state == JobState.FAILED
        assert list((tmp_path / "previews").glob("*.png")) == []


def test_never_spend_prices_and_pays_nothing(server, tmp_path) -> None:
    job = a_set(tmp_path, spend=spend_policy.SpendPolicy(never_spend=True))
    ctx, _ = context()
    with pytest.raises(spend_policy.NotSpentError, match="the 2 previews of 'brick' would cost"):
        preview.run(job, ctx, Journal(tmp_path / "journal"), connect_to(server))
    assert generates(server) == [] and len(generates(server, dry=True)) == 4


def test_a_set_stopped_while_generating_is_kept_and_recovered(server, tmp_path) -> None:
    journal = Journal(tmp_path / "journal")
    server.set_faults([{"kind": "delay", "method": "GET", "path": "^/v1/jobs/", "seconds": 1.0,
                        "times": 2}])
    job = a_set(tmp_path)
    saved = stopped_while_generating(preview.run, job, context()[0], journal, server,
                                     lambda: len(generates(server)) >= 2)
    variants = [journal.load(v.record.local_id) for v in job.variants]
    assert all(v.recoverable for v in variants)

    again = preview.PreviewJob(
        record=saved, region=REGION, image_size=SIZE, work_dir=job.work_dir, recovering=True,
        variants=[upscale_job.UpscaleJob(record=v, params=UpscaleParams(),
                                         work_dir=tmp_path / "work" / v.local_id) for v in variants])
    result = preview.run(again, context()[0], journal, connect_to(server))

    assert len(result.previews) == 2 and len(generates(server)) == 2, "nothing paid twice"
    assert journal.load(job.record.local_id).state == JobState.DOWNLOADED


def test_a_crop_that_cannot_be_cut_sends_nothing(server, tmp_path) -> None:
    job = a_set(tmp_path)
    Path(job.source.path).write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    with pytest.raises(Exception, match=r"could not be cut: .*Nothing was uploaded or spent"):
        preview.run(job, context()[0], Journal(tmp_path / "journal"), connect_to(server))
    assert server.requests() == []


def test_one_variant_failing_keeps_the_others(server, tmp_path) -> None:
    server.set_faults([{"kind": "job_failure", "error": "GPU fell over", "after": 1}])
    journal = Journal(tmp_path / "journal")
    job = a_set(tmp_path)

    result = preview.run(job, context()[0], journal, connect_to(server))

    # The variants run side by side: whichever was sent second is the one that fails.
    [kept] = [p.label for p in result.previews]
    [failed] = result.failed
    assert {kept, failed.split(": ")[0]} == {"Strength 0.2", "Strength 0.6"}
    assert "GPU fell over" in failed
    assert journal.load(job.record.local_id).state == JobState.DOWNLOADED
    names = sorted(p.name for p in (tmp_path / "previews").iterdir())
    assert names == sorted([f"brick_preview_{kept}_x2.png", "brick_preview_original_x2.png"]), \
        "no empty file left for the failed one"


def test_a_whole_texture_that_cannot_be_priced_does_not_stop_the_previews(server,
                                                                          tmp_path) -> None:
    # The second upload is the stand-in: refused, so the whole texture has no price.
    server.set_faults([{"kind": "status", "status": 400, "method": "POST",
                        "path": "^/v1/assets", "after": 1}])
    job = a_set(tmp_path, spend=spend_policy.SpendPolicy(confirm_above=0.5))
    ctx, events = context()
    helper, asked = answering(ctx, events, True)
    result = preview.run(job, ctx, Journal(tmp_path / "journal"), connect_to(server))
    helper.join(10)

    assert len(result.previews) == 2
    assert "the whole texture could not be priced" in asked[0].note


def test_a_stand_in_removed_at_scenario_is_uploaded_again(server, tmp_path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    preview.run(a_set(tmp_path / "a"), context()[0], Journal(tmp_path / "journal"),
                connect_to(server))
    server.reset(clear_state=True)  # every asset gone, the stand-in too
    job = a_set(tmp_path / "b")

    preview.run(job, context()[0], Journal(tmp_path / "journal"), connect_to(server))

    saved = Journal(tmp_path / "journal").load(job.record.local_id)
    assert saved.preview["whole_cost"] == [upscale_cost(*SIZE, 2)] * 2
