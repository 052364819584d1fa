"""Scenario's team limit in real Blender: a batch, a UDIM set and the command line with more work
than the team's slots all finish, each texture or tile paid exactly once; the wait is shown and
can be cancelled for free; the limit is learned from the refusal; one limit holds for everything a
Blender process runs; two Blender processes share the slots.

The session's emulator refuses a generate while 2 jobs run (its default team limit)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import bpy
import pbr_scenes
import pytest
import scenes
from conftest import API_KEY, API_SECRET, EmulatorControl

from emulator.process import start_emulator_process, stop_emulator_process

pytestmark = pytest.mark.usefixtures("clean_file", "prefs")
HERE = Path(__file__).parent
WAITING = "Waiting for a free slot at Scenario (2 of 2 in use)"
SPEND_PREFS = ("quote_before_paying", "confirm_expensive", "confirm_above_credits")


def module(addon: str, name: str):
    return sys.modules[f"{addon}.{name}"]


@pytest.fixture(autouse=True)
def parallel_jobs(addon: str):
    prefs = bpy.context.preferences.addons[addon].preferences
    prefs.max_concurrent_jobs = 4  # more than the team's 2 slots
    yield prefs
    prefs = bpy.context.preferences.addons[addon].preferences
    prefs.max_concurrent_jobs = 0


def paid_per_image(emulator: EmulatorControl) -> Counter:
    """Accepted paid generates per uploaded file name."""
    state = emulator.state()
    names = {a["id"]: a["name"] for a in state["assets"]}
    return Counter(names[r["body"]["image"]] for r in emulator.paid())


def refused(emulator: EmulatorControl) -> int:
    return sum(r["status"] == 429 for r in emulator.generates())


def span(job: dict) -> tuple[float, float]:
    dates = {h["status"]: datetime.fromisoformat(h["date"]).timestamp()
             for h in job["statusHistory"]}
    end = max(dates.values())
    return dates["queued"], end


def peak(spans: list[tuple[float, float]]) -> int:
    edges = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans],
                   key=lambda edge: (edge[0], edge[1]))
    level = top = 0
    for _, step in edges:
        level += step
        top = max(top, level)
    return top


def drive_batch(addon: str, batch, timeout: float = 120.0) -> set[str]:
    """What the operator's modal timer does; returns every status line the list showed."""
    rt = module(addon, "bridge.runtime").get()
    conclude = module(addon, "bridge.batch_conclude").conclude
    batch_list = module(addon, "bridge.batch_list")
    seen: set[str] = set()
    deadline = time.monotonic() + timeout
    while batch.pending:
        assert time.monotonic() < deadline, [(i.image, i.status) for i in batch.items]
        rt.pump(timeout=0.05)
        seen |= {batch_list.status_text(rt, item) for item in batch.items}
        for item in batch.pending:
            view = rt.jobs[item.local_id]
            if view.status != "running":
                conclude(rt, batch, view)
    return seen


def textures(tmp_path: Path, count: int, prefix: str = "t") -> list[bpy.types.Image]:
    return [scenes.texture_file(tmp_path / "src", f"{prefix}{i}", 32, 32) for i in range(count)]


def test_a_batch_larger_than_the_limit_finishes_every_texture_paid_once(addon, emulator,
                                                                         tmp_path) -> None:
    images = textures(tmp_path, 7)
    scenes.object_with("Wall", [pbr_scenes.simple_material("M", *images)], selected=True)
    batch = module(addon, "bridge.batch_start").start(bpy.context, "SELECTED_OBJECTS")

    shown = drive_batch(addon, batch)

    assert [i.status for i in batch.items] == ["done"] * 7
    assert paid_per_image(emulator) == Counter({f"t{i}.png": 1 for i in range(7)})
    assert WAITING in shown, "the team's limit was met, and the list said so"
    jobs = emulator.state()["jobs"]
    assert peak([span(j) for j in jobs]) <= 2
    rt = module(addon, "bridge.runtime").get()
    learned = [rt.scheduler.slots.limit(p.name) for p in (rt.user_dir / "slots").iterdir()]
    assert 2 in learned, "learned from the 429's actionLimit"


def test_the_learned_limit_stops_asking_for_slots_that_do_not_exist(addon, prefs, tmp_path
                                                                    ) -> None:
    process, base_url = start_emulator_process(
        ["--job-seconds", "2", "--team-parallel-jobs", "3", "--api-key", API_KEY,
         "--api-secret", API_SECRET, "--quiet"], python=os.environ.get("EMULATOR_PYTHON"))
    try:
        prefs.base_url = base_url
        images = textures(tmp_path, 9)
        scenes.object_with("Wall", [pbr_scenes.simple_material("M", *images)], selected=True)

        assert bpy.ops.scenario.upscale_materials() == {"FINISHED"}

        control = EmulatorControl(base_url)
        assert paid_per_image(control) == Counter({f"t{i}.png": 1 for i in range(9)})
        # Four went out before the limit was known; one was refused and taught it. Every later
        # job waited in line instead of asking Scenario for a fourth slot.
        assert refused(control) == 1
        rt = module(addon, "bridge.runtime").get()
        learned = [rt.scheduler.slots.limit(p.name) for p in (rt.user_dir / "slots").iterdir()]
        assert 3 in learned
    finally:
        stop_emulator_process(process)


def test_a_udim_set_with_more_tiles_than_slots_is_complete(addon, emulator, tmp_path) -> None:
    sizes = {1001: (32, 32), 1002: (32, 32), 1011: (32, 32), 1012: (16, 32), 1013: (32, 16)}
    image = scenes.udim_files(tmp_path / "src", "skin", sizes)
    material = scenes.material_with("Skin", image)
    scenes.object_with("Body", [material], selected=True)

    assert bpy.ops.scenario.upscale_image(image_name="skin") == {"FINISHED"}

    result = scenes.texture_nodes(material)[0].image
    assert result.source == "TILED" and {t.number for t in result.tiles} == set(sizes)
    assert paid_per_image(emulator) == Counter({f"skin.{n}.png": 1 for n in sizes})
    assert peak([span(j) for j in emulator.state()["jobs"]]) <= 2


def test_the_command_line_finishes_everything_and_says_it_waits(addon, emulator, tmp_path,
                                                               capsys) -> None:
    images = textures(tmp_path, 5)
    scenes.object_with("Wall", [pbr_scenes.simple_material("M", *images)], selected=False)
    cli = module(addon, "bridge.cli")

    code = cli.execute(["--scope", "all", "--json", str(tmp_path / "summary.json")])

    err = capsys.readouterr().err
    assert code == 0, err
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["totals"]["done"] == 5 and summary["totals"]["failed"] == 0
    assert paid_per_image(emulator) == Counter({f"t{i}.png": 1 for i in range(5)})
    assert WAITING in err


def test_cancel_while_waiting_for_a_slot_costs_nothing(addon, prefs, emulator, tmp_path) -> None:
    for name in SPEND_PREFS:
        if hasattr(prefs, name):
            setattr(prefs, name, False)
    # Two jobs that never end hold both of the team's slots.
    emulator.faults([{"kind": "job_never_finishes", "times": 2}])
    images = textures(tmp_path, 4)
    scenes.object_with("Wall", [pbr_scenes.simple_material("M", *images)], selected=True)
    rt = module(addon, "bridge.runtime").get()
    batch = module(addon, "bridge.batch_start").start(bpy.context, "SELECTED_OBJECTS")
    batch_list = module(addon, "bridge.batch_list")
    try:
        deadline = time.monotonic() + 30
        waiting: list = []
        while len(waiting) < 2 or sum(paid_per_image(emulator).values()) < 2:
            assert time.monotonic() < deadline, [batch_list.status_text(rt, i)
                                                 for i in batch.items]
            rt.pump(timeout=0.05)
            waiting = [i for i in batch.items if batch_list.status_text(rt, i) == WAITING]
        paid_before = sum(paid_per_image(emulator).values())

        asked = time.monotonic()
        for item in waiting:
            assert rt.cancel(item.local_id, by_user=True)
        while any(rt.scheduler.is_active(i.local_id) for i in waiting):
            rt.pump(timeout=0.05)
        took = time.monotonic() - asked

        rt.pump()
        for item in waiting:
            record = rt.jobs[item.local_id].record
            assert record.state == "failed" and "nothing was charged" in record.error
            assert not record.job_id
        assert sum(paid_per_image(emulator).values()) == paid_before == 2
        assert took < 1.0, f"the waits ended {took:.2f} s after Cancel"
    finally:
        rt.cancel_all()
        emulator.reset()  # ends the stuck jobs, so they hold no slot for later tests
        for item in batch.items:
            while rt.scheduler.is_active(item.local_id):
                rt.pump(timeout=0.05)
            rt.journal.forget(item.local_id)
        rt.refresh_journal()


def test_one_limit_for_everything_a_blender_runs(addon, prefs, tmp_path) -> None:
    """Three UDIM sets of four tiles with Parallel Jobs 3, against a team with no limit: never
    more than 3 tile jobs at Scenario at once (a set's tiles take places like any job)."""
    process, base_url = start_emulator_process(
        ["--job-seconds", "0.8", "--team-parallel-jobs", "0", "--api-key", API_KEY,
         "--api-secret", API_SECRET, "--quiet"], python=os.environ.get("EMULATOR_PYTHON"))
    try:
        prefs.base_url = base_url
        prefs.max_concurrent_jobs = 3
        sizes = {1001: (32, 32), 1002: (32, 32), 1011: (32, 32), 1012: (32, 32)}
        sets = [scenes.udim_files(tmp_path / "src", name, sizes) for name in ("a", "b", "c")]
        scenes.object_with("Body", [pbr_scenes.simple_material("M", *sets)], selected=True)

        assert bpy.ops.scenario.upscale_materials() == {"FINISHED"}

        control = EmulatorControl(base_url)
        jobs = control.state()["jobs"]
        assert len(jobs) == 12
        assert peak([span(j) for j in jobs]) <= 3
    finally:
        stop_emulator_process(process)


def test_two_blender_processes_share_the_slots(emulator, emulator_url, tmp_path) -> None:
    """Two Blenders of one user folder, 6 textures each, against the team's 2 slots: both
    finish all their work, each texture paid once."""
    user = Path(tempfile.mkdtemp(prefix="scenario-two-blenders-"))
    env = {**os.environ, "BLENDER_USER_RESOURCES": str(user)}
    children = [subprocess.Popen(
        [sys.executable, str(HERE / "batch_process.py"), emulator_url, API_KEY, API_SECRET,
         str(tmp_path / name), name, "6"], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True) for name in ("left", "right")]
    outputs = [child.communicate(timeout=240) for child in children]
    for child, (_, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err[-3000:]
    summaries = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    for summary in summaries:
        assert summary["totals"]["done"] == 6, summary
    assert paid_per_image(emulator) == Counter(
        {f"{side}{i}.png": 1 for side in ("left", "right") for i in range(6)})
    assert peak([span(j) for j in emulator.state()["jobs"]]) <= 2
