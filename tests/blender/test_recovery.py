"""Nothing lost, nothing paid twice: jobs survive a killed process, a disabled add-on, a file
switch and a cancelled wait, and are collected later without a new generate request."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import bpy
import pytest
import scenes
from conftest import API_KEY, API_SECRET, data_folder
from fake_ui import draw, enabled_when_drawn, texts

pytestmark = pytest.mark.usefixtures("clean_file", "prefs")
HERE = Path(__file__).parent


def addon_module(name: str):
    return sys.modules[f"{bpy.context.preferences.addons[ADDON].module}.{name}"]


ADDON = ""


@pytest.fixture(autouse=True)
def _addon_name(addon: str) -> None:
    global ADDON
    ADDON = addon


def journal_states() -> dict[str, str]:
    folder = data_folder(ADDON) / "journal"
    return {p.stem: json.loads(p.read_text())["state"] for p in folder.glob("*.json")}


def slow_jobs(emulator, seconds: float = 2.0) -> None:
    """Makes the next jobs take ``seconds`` by delaying their first polls."""
    emulator.faults([{"kind": "delay", "method": "GET", "path": "^/v1/jobs/", "seconds": seconds,
                      "times": 1}])


def test_killed_after_submission_recovers_with_exactly_one_generate(emulator, emulator_url,
                                                                    tmp_path: Path) -> None:
    slow_jobs(emulator, 3.0)
    child = subprocess.run(
        [sys.executable, str(HERE / "submit_then_die.py"), emulator_url, API_KEY, API_SECRET,
         str(tmp_path)],
        env={**os.environ}, capture_output=True, text=True, timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stdout + child.stderr
    assert "submitted" in journal_states().values()

    bpy.ops.wm.open_mainfile(filepath=str(tmp_path / "scene.blend"))
    rt = addon_module("bridge.runtime").get()
    [waiting] = rt.recoverable(bpy.data.filepath)
    assert waiting.state == "submitted" and waiting.job_id

    assert bpy.ops.scenario.recover_jobs() == {"FINISHED"}

    node = scenes.texture_nodes(bpy.data.materials["Brick"])[0]
    assert node.image["scenario_job_id"] == waiting.job_id
    assert (tmp_path / "upscaled" / "brick_x2.png").is_file()
    assert len(emulator.generates()) == 1
    assert journal_states()[waiting.local_id] == "applied"
    bpy.ops.wm.read_homefile(use_empty=True)


def start_without_waiting(image_name: str) -> str:
    """Starts an upscale as the modal operator would, without blocking this thread."""
    request = addon_module("bridge.request")
    rt = addon_module("bridge.runtime").get()
    prepared = request.prepare(bpy.context, bpy.data.images[image_name], "SELECTED_OBJECTS",
                               rt.user_dir, rt.work_dir)
    return rt.start_upscale(prepared.job, prepared.connection.connect, image_name).local_id


def wait_for_state(local_id: str, state: str, timeout: float = 20.0) -> None:
    done = threading.Event()
    for _ in range(int(timeout / 0.05)):
        if journal_states().get(local_id) == state:
            return
        done.wait(0.05)
    raise AssertionError(f"{local_id} never reached {state}: {journal_states().get(local_id)}")


def test_disabling_the_addon_stops_threads_and_keeps_the_job(addon, emulator, tmp_path) -> None:
    slow_jobs(emulator, 2.0)
    brick = scenes.texture_file(tmp_path, "brick")
    scenes.object_with("Wall", [scenes.material_with("Brick", brick)], selected=True)
    local_id = start_without_waiting("brick")
    wait_for_state(local_id, "submitted")

    bpy.ops.preferences.addon_disable(module=addon)
    assert not [t for t in threading.enumerate() if t.name.startswith("scenario-worker")]
    assert journal_states()[local_id] == "abandoned"

    bpy.ops.preferences.addon_enable(module=addon)
    prefs = bpy.context.preferences.addons[addon].preferences
    prefs.api_key, prefs.api_secret = API_KEY, API_SECRET
    prefs.base_url, prefs.output_dir = emulator.root + "/v1", str(tmp_path / "out")
    assert bpy.ops.scenario.recover_jobs() == {"FINISHED"}
    assert journal_states()[local_id] == "applied"
    assert len(emulator.generates()) == 1


def test_loading_another_file_stops_waiting_and_keeps_the_job(emulator, tmp_path) -> None:
    slow_jobs(emulator, 2.0)
    brick = scenes.texture_file(tmp_path, "brick")
    scenes.object_with("Wall", [scenes.material_with("Brick", brick)], selected=True)
    bpy.ops.wm.save_as_mainfile(filepath=str(tmp_path / "first.blend"))
    local_id = start_without_waiting("brick")
    wait_for_state(local_id, "submitted")

    bpy.ops.wm.read_homefile(use_empty=True)
    wait_for_state(local_id, "abandoned")
    assert "brick" not in bpy.data.images, "nothing applied to the other file"

    bpy.ops.wm.open_mainfile(filepath=str(tmp_path / "first.blend"))
    assert bpy.ops.scenario.recover_jobs() == {"FINISHED"}
    assert scenes.texture_nodes(bpy.data.materials["Brick"])[0].image.name == "brick_x2"
    assert len(emulator.generates()) == 1
    bpy.ops.wm.read_homefile(use_empty=True)


def test_cancelled_wait_keeps_the_paid_job_and_says_it_may_be_charged(emulator, tmp_path) -> None:
    emulator.faults([{"kind": "job_never_finishes", "path": "^/v1/generate"}])
    brick = scenes.texture_file(tmp_path, "brick")
    rt = addon_module("bridge.runtime").get()
    local_id = start_without_waiting("brick")
    wait_for_state(local_id, "submitted")

    rt.cancel(local_id)
    wait_for_state(local_id, "abandoned")
    while rt.jobs[local_id].status == "running":
        rt.pump(timeout=0.1)
    outcome = addon_module("bridge.apply").conclude(rt, rt.jobs[local_id])

    assert outcome.level == "WARNING" and outcome.applied is None
    record = rt.jobs[local_id].record
    assert record.job_id in outcome.message and "may still finish and be charged" in outcome.message
    assert record in rt.recoverable(bpy.data.filepath)
    assert [i.name for i in bpy.data.images] == [brick.name], "no result image was created"


def test_recover_is_disabled_with_the_reason_while_a_stopped_job_winds_down(
        emulator, tmp_path, monkeypatch) -> None:
    emulator.faults([{"kind": "job_never_finishes", "path": "^/v1/generate"}])
    scenes.object_with("Wall", [scenes.material_with("Brick", scenes.texture_file(tmp_path, "brick"))],
                       selected=True)
    # The stopped job's thread is held after it recorded the job as abandoned, before it returns.
    release = threading.Event()
    client = addon_module("api.client").ScenarioClient
    close = client.close
    monkeypatch.setattr(client, "close", lambda self: (release.wait(20), close(self)))
    rt = addon_module("bridge.runtime").get()
    recovery = addon_module("bridge.recovery")
    panels = {"upscale": addon_module("ui.panel_upscale").IMAGE_PT_scenario_upscale,
              "recent jobs": addon_module("ui.panel_recent_jobs").IMAGE_PT_scenario_recent_jobs}
    local_id = start_without_waiting("brick")
    wait_for_state(local_id, "submitted")
    try:
        rt.cancel(local_id)
        wait_for_state(local_id, "abandoned")

        assert rt.winding_down() == [local_id]
        for name, panel in panels.items():
            log = draw(panel, None)
            # Recent Jobs lists this job first, then those of earlier tests
            assert enabled_when_drawn(log, "scenario.recover_jobs")[0] is False, name
            assert recovery.WINDING_DOWN in texts(log), name
        started = time.monotonic()
        with pytest.raises(RuntimeError, match="Recover is possible again in a moment"):
            bpy.ops.scenario.recover_jobs(local_id=local_id)
        assert time.monotonic() - started < 0.5, "refused at once, never waited for"
    finally:
        release.set()
    while rt.is_busy(local_id):
        rt.pump(timeout=0.05)

    for name, panel in panels.items():
        log = draw(panel, None)
        assert enabled_when_drawn(log, "scenario.recover_jobs")[0] is True, name
        assert recovery.WINDING_DOWN not in texts(log), name
    rt.forget(local_id)  # it would never finish
