"""UDIM sets in the bpy-free core against the emulator over real sockets: progress per tile,
nothing paid when a tile fails before the price, and a stopped set kept for Recover."""

from __future__ import annotations

import queue
import threading
from pathlib import Path

import numpy as np
import pytest
from scenario_texture_upscale.api.params import UpscaleParams
from scenario_texture_upscale.core import imagefile, png, udim_set, upscale_job
from scenario_texture_upscale.core.journal import JobRecord, Journal, new_job_id
from scenario_texture_upscale.core.scheduler import JobContext, Scheduler
from scenario_texture_upscale.core.source import FileSource
from scenario_texture_upscale.core.states import EventKind, JobState

from emulator.options import EmulatorOptions
from emulator.server import EmulatorServer
from tests.unit.core.emulated import connect_to, stopped_while_generating

TILES = (1001, 1002, 1011)


@pytest.fixture(autouse=True)
def _reset(emulated: EmulatorServer) -> None:
    """Every test here starts with a fresh emulator."""


def a_set(tmp_path: Path) -> udim_set.SetJob:
    rng = np.random.default_rng(3)
    record = JobRecord(local_id=new_job_id(), source_image="skin",
                       output_dir=str(tmp_path / "out"), output_stem="skin",
                       params={"upscaleFactor": 2},
                       tiles=[{"tile": n, "label": "", "local_id": ""} for n in TILES])
    jobs = []
    for entry in record.tiles:
        path = tmp_path / f"skin.{entry['tile']}.png"
        png.write_png(path, rng.integers(0, 255, (32, 32, 3), dtype=np.uint8))
        tile = JobRecord.from_json(record.to_json())
        tile.local_id, tile.tiles = new_job_id(), []
        tile.tile_set, tile.tile, tile.source_size = record.local_id, entry["tile"], [32, 32]
        entry["local_id"] = tile.local_id
        jobs.append(upscale_job.UpscaleJob(record=tile, params=UpscaleParams(upscale_factor=2),
                                           work_dir=tmp_path / "work" / tile.local_id,
                                           source=FileSource(str(path), path.name)))
    return udim_set.SetJob(record=record, tiles=jobs)


def context(parallel: int = 2) -> tuple[JobContext, queue.Queue]:
    """The set's context, as the scheduler gives it: its tiles take ``parallel`` places."""
    events: queue.Queue = queue.Queue()
    runner = Scheduler(parallel)
    return JobContext("set", threading.Event(), events, runner.slots, runner), events


def drained(events: queue.Queue) -> list:
    found = []
    while not events.empty():
        found.append(events.get())
    return found


def paid(server: EmulatorServer) -> list[dict]:
    return [r for r in server.requests() if r["path"].startswith("/v1/generate")
            and "dryRun" not in (r.get("query") or {})]


def test_every_tile_runs_and_the_board_shows_each(server, tmp_path) -> None:
    journal = Journal(tmp_path / "journal")
    job = a_set(tmp_path)
    ctx, events = context()

    result = udim_set.run(job, ctx, journal, connect_to(server))

    assert result.tiles == 3 and result.path == str(tmp_path / "out" / "skin_x2.<UDIM>.png")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        f"skin_x2.{n}.png" for n in TILES]
    saved = journal.load(job.record.local_id)
    assert saved is not None and saved.state == JobState.DOWNLOADED
    assert [e["tile"] for e in saved.tiles] == list(TILES)
    assert all(e["job_id"].startswith("job") for e in saved.tiles)
    assert saved.result_files == [str(tmp_path / "out" / f"skin_x2.{n}.png") for n in TILES]
    boards = [e for e in drained(events) if e.kind == EventKind.PROGRESS and e.payload]
    assert boards[-1].message == "3 of 3 tiles done" and boards[-1].fraction == 1.0
    assert [t.tile for t in boards[-1].payload] == list(TILES)
    seen = {t.text for board in boards for t in board.payload}
    assert {"Priced", "Done"} <= seen
    assert len(paid(server)) == 3


def test_tiles_are_asked_for_in_their_reserved_format_whatever_scenario_makes(tmp_path) -> None:
    """Scenario does not promise PNG: a set's names are reserved as .png before any tile is
    paid, so each tile's result is asked for as a PNG, and its file is one."""
    options = EmulatorOptions(job_seconds=0.4, log_requests=False, result_format="jpeg")
    with EmulatorServer(options) as jpeg_server:
        result = udim_set.run(a_set(tmp_path), context()[0], Journal(tmp_path / "journal"),
                              connect_to(jpeg_server))
        asked = [r["body"] for r in jpeg_server.requests() if r["path"].endswith("/download")]
        made = {a["mimeType"] for a in jpeg_server.state()["assets"] if a["source"] == "upscale-texture"}

    assert made == {"image/jpeg"}, "Scenario made JPEGs"
    assert asked == [{"targetFormat": "png"}] * 3
    assert result.tiles == 3
    for n in TILES:
        path = tmp_path / "out" / f"skin_x2.{n}.png"
        assert imagefile.sniff_format(path.read_bytes()[:64]) == "png"
        assert png.read_png(path).pixels.shape[:2] == (64, 64)


def test_a_tile_failing_before_the_price_stops_the_set_unpaid(server, tmp_path) -> None:
    server.set_faults([{"kind": "status", "method": "POST", "path": "^/v1/assets",
                        "status": 400, "after": 1, "times": 1}])
    journal = Journal(tmp_path / "journal")
    job = a_set(tmp_path)
    ctx, _ = context(parallel=1)

    with pytest.raises(Exception, match=r"The UDIM set 'skin' was not upscaled \(tile 1002"):
        udim_set.run(job, ctx, journal, connect_to(server))

    assert paid(server) == []
    states = {t.record.tile: journal.load(t.record.local_id).state for t in job.tiles}
    assert set(states.values()) == {JobState.FAILED}
    assert journal.load(job.record.local_id).state == JobState.FAILED
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_a_set_stopped_while_generating_is_kept_for_recover(server, tmp_path) -> None:
    journal = Journal(tmp_path / "journal")
    job = a_set(tmp_path)
    stopped_while_generating(udim_set.run, job, context()[0], journal, server,
                             lambda: len(paid(server)) >= 3)
    assert all(journal.load(t.record.local_id).recoverable for t in job.tiles)


def test_a_record_from_before_sets_still_loads(tmp_path) -> None:
    old = {"local_id": "a1", "source_image": "brick", "state": "applied", "version": 1,
           "result_path": "/x/brick_x2.png"}
    record = JobRecord.from_json(old)
    assert not record.is_set and record.tile_set == "" and record.result_files == [
        "/x/brick_x2.png"]


def test_forgetting_a_set_forgets_its_tiles(tmp_path) -> None:
    journal = Journal(tmp_path / "journal")
    job = a_set(tmp_path)
    for record in [job.record, *(t.record for t in job.tiles)]:
        journal.save(record)
    other = JobRecord(local_id=new_job_id(), source_image="brick")
    journal.save(other)

    journal.forget(job.record.local_id)

    assert [r.local_id for r in journal.load_all()[0]] == [other.local_id]
