"""Faults during a real upscale in Blender, the source changing under a running job, and a canary
secret that must appear in no artefact written along the way."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import bpy
import pytest
import scenes
from conftest import API_SECRET

pytestmark = pytest.mark.usefixtures("clean_file", "prefs")


def module(addon: str, name: str):
    return sys.modules[f"{addon}.{name}"]


def run_without_blocking(addon: str, image_name: str, scope: str = "SELECTED_OBJECTS"):
    request = module(addon, "bridge.request")
    rt = module(addon, "bridge.runtime").get()
    prepared = request.prepare(bpy.context, bpy.data.images[image_name], scope, rt.user_dir,
                               rt.work_dir)
    return rt, rt.start_upscale(prepared.job, prepared.connection.connect, image_name)


def wait(rt, view) -> None:
    while view.status == "running":
        rt.pump(timeout=0.05)


def test_source_renamed_while_running_is_still_swapped(addon, emulator, tmp_path) -> None:
    emulator.faults([{"kind": "delay", "method": "GET", "path": "^/v1/jobs/", "seconds": 0.5}])
    brick = scenes.texture_file(tmp_path, "brick")
    material = scenes.material_with("Brick", brick)
    scenes.object_with("Wall", [material], selected=True)
    rt, view = run_without_blocking(addon, "brick")

    brick.name = "renamed brick"
    wait(rt, view)
    outcome = module(addon, "bridge.apply").conclude(rt, view)

    assert outcome.applied and outcome.applied.nodes_switched == 1
    assert scenes.texture_nodes(material)[0].image.name == "brick_x2"


def test_source_deleted_while_running_still_gives_the_result(addon, emulator, tmp_path) -> None:
    emulator.faults([{"kind": "delay", "method": "GET", "path": "^/v1/jobs/", "seconds": 0.5}])
    brick = scenes.texture_file(tmp_path, "brick")
    material = scenes.material_with("Brick", brick)
    scenes.object_with("Wall", [material], selected=True)
    rt, view = run_without_blocking(addon, "brick")

    bpy.data.images.remove(brick)
    wait(rt, view)
    outcome = module(addon, "bridge.apply").conclude(rt, view)

    assert outcome.level == "INFO" and "was removed" in outcome.message
    assert "brick_x2" in bpy.data.images
    assert Path(view.record.result_path).is_file()


FAULTS = [
    {"kind": "status", "method": "POST", "path": "^/v1/assets$", "status": 429,
     "headers": {"Retry-After": "0"}},
    {"kind": "status", "method": "POST", "path": "^/v1/generate", "status": 429},
    {"kind": "status", "method": "GET", "path": "^/v1/jobs/", "status": 503, "times": 2},
    {"kind": "drop", "method": "GET", "path": "^/v1/jobs/"},
    {"kind": "expire_urls"},
    {"kind": "truncate", "method": "GET", "path": "^/_cdn/", "bytes": 100},
]


def test_canary_secret_is_in_no_artefact_of_a_faulty_run(addon, emulator, tmp_path, capfd,
                                                         caplog) -> None:
    caplog.set_level(logging.DEBUG)
    emulator.faults(FAULTS)
    brick = scenes.texture_file(tmp_path, "brick")
    scenes.object_with("Wall", [scenes.material_with("Brick", brick)], selected=True)
    bpy.ops.wm.save_as_mainfile(filepath=str(tmp_path / "scene.blend"))
    try:
        assert bpy.ops.scenario.upscale_image(image_name="brick") == {"FINISHED"}
        prefs = bpy.context.preferences.addons[addon].preferences
        prefs.api_secret = "wrong-" + API_SECRET
        with pytest.raises(RuntimeError) as failure:
            bpy.ops.scenario.upscale_image(image_name="brick")
        bpy.ops.wm.save_mainfile()

        fired = {rule["kind"]: rule["fired"] for rule in emulator.fault_state()}
        assert all(fired.values()), f"every fault was exercised: {fired}"
        rt = module(addon, "bridge.runtime").get()
        artefacts = [tmp_path / "scene.blend", *rt.user_dir.rglob("*"), *tmp_path.rglob("*")]
        texts = {
            "reports and console": capfd.readouterr().out + capfd.readouterr().err,
            "logging": caplog.text,
            "exception": str(failure.value),
            "emulator request log": json.dumps(emulator.requests()),
        }
        for path in artefacts:
            if path.is_file():
                texts[str(path)] = path.read_bytes().decode("latin-1")
        leaks = [where for where, text in texts.items() if API_SECRET in text]
        assert leaks == []
        assert len(texts) > 6, "the journal, the blend and the result were all read"
    finally:
        bpy.ops.wm.read_homefile(use_empty=True)
