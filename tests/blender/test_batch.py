"""Batch upscale in real Blender against the emulator: one job per distinct image, roles and
their params, the pool's concurrency limit, 429 back-off, a failing image, cancel, the skipped
list, and the command line."""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path

import bpy
import pbr_scenes
import pytest
import scenes
from conftest import API_KEY, API_SECRET
from fake_ui import FakeLayout, FakeOperator

from emulator.process import start_emulator_process, stop_emulator_process

pytestmark = pytest.mark.usefixtures("clean_file", "prefs", "batch_defaults")
# Preferences that make every upscale ask for a price first (a dry run on the generate path).
SPEND_PREFS = ("quote_before_paying", "confirm_expensive", "confirm_above_credits")


def module(addon: str, name: str):
    return sys.modules[f"{addon}.{name}"]


@pytest.fixture
def batch_defaults(addon: str):
    """Scene batch settings and the preferences these tests touch, back to their defaults."""
    bpy.context.scene.property_unset("scenario_batch")
    yield
    bpy.context.scene.property_unset("scenario_batch")  # a test may have loaded another file
    prefs = bpy.context.preferences.addons[addon].preferences
    prefs.max_concurrent_jobs = 0
    for name in ("max_output_side", *SPEND_PREFS):
        if hasattr(prefs, name):
            prefs.property_unset(name)


def latest(addon: str):
    return module(addon, "bridge.batch_list").latest(module(addon, "bridge.runtime").get())


def by_image(batch) -> dict[str, object]:
    return {item.image: item for item in batch.items}


def emulator_state(emulator) -> dict:
    return emulator.state()


def dry_runs(emulator) -> list[dict]:
    return [r for r in emulator.requests() if r["method"] == "POST"
            and str(r["path"]).startswith("/v1/generate") and (r.get("query") or {}).get("dryRun")]


def paid_generates(emulator) -> list[dict]:
    """Generate requests that created a job, with the uploaded image's name added."""
    names = {a["id"]: a["name"] for a in emulator_state(emulator)["assets"]}
    bodies = [dict(r["body"]) for r in emulator.paid()]
    for body in bodies:
        body["image_name"] = names[body["image"]].rsplit(".", 1)[0]
    return bodies


def result_images() -> list[bpy.types.Image]:
    return [i for i in bpy.data.images if "scenario_source_image" in i]


def drive(addon: str, batch, until=lambda b: not b.pending, timeout: float = 60.0) -> None:
    """What the operator's modal timer does, for batches a test started itself."""
    rt = module(addon, "bridge.runtime").get()
    batch_conclude = module(addon, "bridge.batch_conclude")
    deadline = time.monotonic() + timeout
    while not until(batch):
        assert time.monotonic() < deadline, [(i.image, i.status) for i in batch.items]
        rt.pump(timeout=0.05)
        for item in batch.pending:
            view = rt.jobs[item.local_id]
            if view.status != "running":
                batch_conclude.conclude(rt, batch, view)


def wait_until_idle(rt, local_id: str, timeout: float = 5.0) -> None:
    """Waits for a cancelled job's thread to return."""
    deadline = time.monotonic() + timeout
    while rt.scheduler.is_active(local_id) and time.monotonic() < deadline:
        time.sleep(0.01)


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    edges = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    level = peak = 0
    for _, step in edges:
        level += step
        peak = max(peak, level)
    return peak


def draw_panels(addon: str) -> list:
    """Draws the three batch panels; operators come out as ("operator", idname, props)."""
    from types import SimpleNamespace

    log: list = []
    panels = module(addon, "ui.panel_batch")
    for panel in (panels.NODE_PT_scenario_batch, panels.MATERIAL_PT_scenario_batch,
                  panels.IMAGE_PT_scenario_batch):
        panel.draw(SimpleNamespace(layout=FakeLayout(log)), bpy.context)
    return [("operator", e.idname, tuple(sorted(e.values.items())))
            if isinstance(e, FakeOperator) else e for e in log]


# --- roles, dedupe, params -----------------------------------------------------------------

def test_pbr_material_roles_dedupe_and_data_maps_sent_precise(addon, emulator, tmp_path) -> None:
    images = pbr_scenes.pbr_images(tmp_path / "src")
    rock = pbr_scenes.pbr_material("Rock", images)
    # A second material shares the albedo (twice) and the normal map, in another object.
    other = pbr_scenes.simple_material("Rock Variant", images["rock_albedo"], images["rock_albedo"],
                                       images["rock_normal"])
    scenes.object_with("Cliff", [rock], selected=True)
    scenes.object_with("Boulder", [other], selected=True)

    assert bpy.ops.scenario.upscale_materials(scope="SELECTED_OBJECTS") == {"FINISHED"}

    batch = latest(addon)
    assert {item.image: item.role for item in batch.items} == pbr_scenes.PBR_ROLES
    assert {item.status for item in batch.items} == {"done"}
    generates = paid_generates(emulator)
    assert sorted(g["image_name"] for g in generates) == sorted(pbr_scenes.PBR_ROLES), \
        "exactly one generate per distinct image"
    for body in generates:
        if body["image_name"] in pbr_scenes.DATA_IMAGES:
            assert (body["preset"], body["strength"]) == ("precise", 0.2), body
            assert body["detailsEnable"] is False and "prompt" not in body
        else:
            assert (body["preset"], body["strength"]) == ("balanced", 0.4), body
    # Every node in both materials now uses a result of its own source.
    for material in (rock, other):
        for node in scenes.texture_nodes(material):
            assert "scenario_source_image" in node.image, (material.name, node.image.name)
    assert len(scenes.texture_nodes(other)) == 3
    assert {n.image.name for n in scenes.texture_nodes(other)} == {"rock_albedo_x2", "rock_normal_x2"}
    assert images["rock_normal"].colorspace_settings.name == "Non-Color"
    assert bpy.data.images["rock_normal_x2"].colorspace_settings.name == "Non-Color"


def test_results_are_skipped_when_the_batch_runs_again(addon, emulator, tmp_path) -> None:
    brick = scenes.texture_file(tmp_path, "brick")
    material = pbr_scenes.simple_material("Brick", brick)
    scenes.object_with("Wall", [material], selected=True)
    assert bpy.ops.scenario.upscale_materials() == {"FINISHED"}
    emulator.reset()

    assert bpy.ops.scenario.upscale_materials() == {"CANCELLED"}

    [item] = latest(addon).items
    assert (item.image, item.status) == ("brick_x2", "skipped")
    assert "Already an upscaled result (of 'brick')" in item.reason
    assert emulator.generates() == []


def test_skipped_list_says_why(addon, prefs, emulator, tmp_path) -> None:
    good = scenes.texture_file(tmp_path, "good")
    tiles = scenes.udim_files(tmp_path / "set", "tiles", {1001: (64, 64), 1002: (64, 64)})
    (tmp_path / "set" / "tiles.1002.png").unlink()
    tiny = scenes.generated_image("tiny", 8, 8)
    big = scenes.texture_file(tmp_path, "big", 300, 300)
    missing = scenes.texture_file(tmp_path, "missing")
    Path(bpy.path.abspath(missing.filepath)).unlink()
    missing.reload()
    rough = scenes.texture_file(tmp_path, "rough")
    material = pbr_scenes.simple_material("Mixed", good, tiles, tiny, big, missing)
    bsdf = material.node_tree.nodes.new("ShaderNodeBsdfPrincipled")
    node = material.node_tree.nodes.new("ShaderNodeTexImage")
    node.image = rough
    material.node_tree.links.new(node.outputs["Color"], bsdf.inputs["Roughness"])
    scenes.object_with("A", [material], selected=True)
    prefs.max_output_side = 512
    bpy.context.scene.scenario_batch.roughness = "SKIP"

    assert bpy.ops.scenario.upscale_materials() == {"FINISHED"}

    items = by_image(latest(addon))
    assert items["good"].status == "done"
    skipped = {name: item.reason for name, item in items.items() if item.status == "skipped"}
    assert set(skipped) == {"tiles", "tiny", "big", "missing", "rough"}
    assert "Tile 1002 of 'tiles' is missing" in skipped["tiles"]
    assert "too small" in skipped["tiny"]
    assert "above the 512 px limit" in skipped["big"]
    assert "is missing" in skipped["missing"]
    assert "Roughness maps are set to Skip" in skipped["rough"]
    assert [g["image_name"] for g in paid_generates(emulator)] == ["good"]


# --- failures, cancel ------------------------------------------------------------------------

def test_one_failing_image_does_not_stop_the_others(addon, emulator, tmp_path) -> None:
    emulator.faults([{"kind": "job_failure", "error": "Out of GPU memory", "after": 1}])
    textures = [scenes.texture_file(tmp_path, name) for name in ("a", "b", "c")]
    material = pbr_scenes.simple_material("M", *textures)
    scenes.object_with("A", [material], selected=True)

    assert bpy.ops.scenario.upscale_materials() == {"FINISHED"}

    batch = latest(addon)
    statuses = sorted(item.status for item in batch.items)
    assert statuses == ["done", "done", "failed"]
    [failed] = [item for item in batch.items if item.status == "failed"]
    assert "Out of GPU memory" in failed.reason
    node_images = {n.image.name for n in scenes.texture_nodes(material)}
    assert failed.image in node_images, "the failed image's node keeps the original"
    assert len(node_images - {failed.image}) == 2
    summary = batch.summary()
    assert (summary["totals"]["done"], summary["totals"]["failed"]) == (2, 1)


def test_cancel_one_then_all(addon, emulator, tmp_path) -> None:
    emulator.faults([{"kind": "job_never_finishes", "times": 0}])
    textures = [scenes.texture_file(tmp_path, name) for name in ("a", "b", "c")]
    material = pbr_scenes.simple_material("M", *textures)
    scenes.object_with("A", [material], selected=True)
    rt = module(addon, "bridge.runtime").get()
    batch_list = module(addon, "bridge.batch_list")
    batch = module(addon, "bridge.batch_start").start(bpy.context, "SELECTED_OBJECTS")
    batch_list.show(bpy.context.window_manager, batch)
    try:
        assert [batch_list.status_text(rt, i) for i in batch.items] == ["Queued"] * 3
        # Two run at Scenario, the team's limit; the third waits for a slot.
        drive(addon, batch, until=lambda b: sorted(
            rt.jobs[i.local_id].stage for i in b.items) == ["generating", "generating",
                                                             "waiting-slot"])
        assert all(batch_list.status_text(rt, i).startswith(
            ("Generating", "Queued", "Warming", "Waiting for a free slot at Scenario (2 of 2"))
            for i in batch.items)
        first = next(i for i in batch.items if rt.jobs[i.local_id].stage == "generating")
        others = [i for i in batch.items if i is not first]
        drawn = draw_panels(addon)
        assert ("operator", "scenario.cancel_job", (("local_id", first.local_id),)) in drawn
        assert ("operator", "scenario.cancel_job", (("local_id", ""),)) in drawn  # Cancel All
        assert ("prop", "normal") in drawn
        # The active row (the first, as the list starts) in full below the list: image, role
        # and status. Which two jobs got the team's slots first is Scenario's choice.
        active = batch.items[bpy.context.window_manager.scenario_batch.active]
        assert any(e[0] == "label" and e[1].startswith(f"{active.image} (Base Color): ")
                   for e in drawn), drawn

        assert bpy.ops.scenario.cancel_job(local_id=first.local_id) == {"FINISHED"}
        drive(addon, batch, until=lambda b: first.status != "running")
        assert first.status == "cancelled"
        assert [i.status for i in others] == ["running", "running"]

        assert bpy.ops.scenario.cancel_job() == {"FINISHED"}
        drive(addon, batch)
        assert [i.status for i in batch.items] == ["cancelled"] * 3
        assert result_images() == []
        # The two paid ones stay collectable; the one that waited for a slot cost nothing.
        assert sorted(rt.jobs[i.local_id].record.state for i in batch.items) == [
            "abandoned", "abandoned", "failed"]
        assert [batch_list.status_text(rt, i) for i in batch.items] == ["Cancelled"] * 3
        assert "3 cancelled" in batch.summary_text()
        drawn = draw_panels(addon)
        assert drawn.count(("label", "Cancelled")) == 3 * 3  # one list per panel
        assert not any(entry[:2] == ("operator", "scenario.cancel_job") for entry in drawn)
        rows = bpy.context.window_manager.scenario_batch.rows
        assert [(r.image, r.role) for r in rows] == [("a", "base_color"), ("b", "base_color"),
                                                      ("c", "base_color")]
    finally:
        rt.scheduler.cancel_all()
        for item in batch.items:  # never-finishing jobs must not be offered for recovery later
            wait_until_idle(rt, item.local_id)
            rt.journal.forget(item.local_id)
        rt.refresh_journal()


@pytest.fixture
def ui_steps(addon: str, monkeypatch: pytest.MonkeyPatch):
    """The runtime as with a UI (an app timer runs its main-thread steps; here the test does),
    each step starting one job."""
    runtime = module(addon, "bridge.runtime")
    monkeypatch.setattr(runtime.get(), "steps_by_timer", True)
    monkeypatch.setattr(runtime, "STEP_SECONDS", 0.0)


def test_with_a_ui_a_batch_starts_one_job_per_step(addon, emulator, tmp_path, ui_steps) -> None:
    textures = [scenes.texture_file(tmp_path, name) for name in ("a", "b", "c", "d")]
    scenes.object_with("A", [pbr_scenes.simple_material("M", *textures)], selected=True)
    rt = module(addon, "bridge.runtime").get()
    batch = module(addon, "bridge.batch_start").start(bpy.context, "SELECTED_OBJECTS")

    assert [i.status for i in batch.items] == ["running", "queued", "queued", "queued"]
    assert [rt.jobs[i.local_id].stage for i in batch.items[1:]] == ["waiting"] * 3
    assert batch.job_ids == [i.local_id for i in batch.items], "the operator follows all four"
    steps = 1
    while rt.run_steps(0.0):
        steps += 1
        assert sum(i.status == "running" for i in batch.items) == steps
    assert steps == 3 and not rt.has_steps
    drive(addon, batch)
    assert [i.status for i in batch.items] == ["done"] * 4
    assert len(paid_generates(emulator)) == 4


def test_a_batch_tries_its_output_folder_once(addon, emulator, tmp_path, monkeypatch) -> None:
    # Writing a probe file is disk work on the main thread: once per batch, not per image.
    request = module(addon, "bridge.request")
    checked = []
    plain = request.ensure_writable
    monkeypatch.setattr(request, "ensure_writable", lambda folder: (checked.append(folder),
                                                                    plain(folder)))
    textures = [scenes.texture_file(tmp_path, name) for name in ("a", "b", "c")]
    scenes.object_with("A", [pbr_scenes.simple_material("M", *textures)], selected=True)

    assert bpy.ops.scenario.upscale_materials() == {"FINISHED"}

    assert [i.status for i in latest(addon).items] == ["done"] * 3
    assert len(checked) == 1


def test_a_queued_image_cancelled_or_removed_is_never_sent(addon, emulator, tmp_path,
                                                           ui_steps) -> None:
    textures = [scenes.texture_file(tmp_path, name) for name in ("a", "b", "c")]
    scenes.object_with("A", [pbr_scenes.simple_material("M", *textures)], selected=True)
    rt = module(addon, "bridge.runtime").get()
    batch = module(addon, "bridge.batch_start").start(bpy.context, "SELECTED_OBJECTS")
    first, second, third = batch.items

    assert rt.cancel(second.local_id)
    bpy.data.images.remove(textures[2])
    while rt.run_steps(0.0):
        pass
    drive(addon, batch)

    assert (first.status, second.status, third.status) == ("done", "cancelled", "skipped")
    assert "nothing was charged" in second.reason
    assert "'c' was removed before its turn came" in third.reason
    assert [g["image_name"] for g in paid_generates(emulator)] == ["a"]
    assert "1 upscaled, 1 cancelled, 1 skipped" in batch.summary_text()


def test_the_confirmation_limit_counts_the_whole_batch(addon, prefs, emulator, tmp_path) -> None:
    # Each 64 px image costs 1 credit at ×2: none passes 2.5 alone, four together do. The batch
    # is priced whole before anything is paid; without a UI nobody can confirm, so nothing is.
    prefs.confirm_expensive, prefs.confirm_above_credits = True, 2.5
    textures = [scenes.texture_file(tmp_path, name) for name in ("a", "b", "c", "d")]
    scenes.object_with("A", [pbr_scenes.simple_material("M", *textures)], selected=True)

    assert bpy.ops.scenario.upscale_materials() == {"CANCELLED"}

    batch = latest(addon)
    assert [i.status for i in batch.items] == ["failed"] * 4
    for item in batch.items:
        assert item.reason.startswith("The batch of 4 images costs 4 credits, above your "
                                      "confirmation limit of 2.5 credits.")
        assert "Nothing was spent" in item.reason
    assert paid_generates(emulator) == [] and len(dry_runs(emulator)) == 4
    assert batch.summary()["totals"]["cost"] == 0
    assert batch.summary_text().endswith("; nothing spent")


# --- concurrency -----------------------------------------------------------------------------

def test_pool_follows_the_parallel_jobs_preference(addon, prefs, emulator, tmp_path) -> None:
    rt = module(addon, "bridge.runtime").get()
    textures = [scenes.texture_file(tmp_path, f"t{i}") for i in range(5)]
    scenes.object_with("A", [pbr_scenes.simple_material("M", *textures)], selected=True)
    prefs.max_concurrent_jobs = 2

    assert bpy.ops.scenario.upscale_materials() == {"FINISHED"}

    assert rt.scheduler.parallel == 2
    batch = latest(addon)
    records = [rt.jobs[item.local_id].record for item in batch.items]
    spans = []
    for record in records:
        # From the paid request on: every image was uploaded and priced (two at a time) first.
        times = dict((state, at) for state, at in record.history)
        spans.append((times["sending"], times["downloaded"]))
    assert max_overlap(spans) == 2, spans
    # Scenario saw the same: never more than two of our jobs at once.
    jobs = [j for j in emulator_state(emulator)["jobs"]
            if j["jobId"] in {r.job_id for r in records}]
    assert len(jobs) == 5
    assert max_overlap([_job_span(j, "queued") for j in jobs]) <= 2

    # 0 follows Blender's own limit; the pool is resized when the next job starts.
    prefs.max_concurrent_jobs = 0
    bpy.context.preferences.system.network_connection_limit = 3
    extra = scenes.texture_file(tmp_path, "extra")
    scenes.object_with("B", [pbr_scenes.simple_material("N", extra)], selected=True)
    try:
        assert bpy.ops.scenario.upscale_materials(scope="ALL_MATERIALS") == {"FINISHED"}
        assert rt.scheduler.parallel == 3
        assert [i.status for i in latest(addon).items].count("skipped") == 5
    finally:
        bpy.context.preferences.system.property_unset("network_connection_limit")


def _job_span(job: dict, first: str) -> tuple[float, float]:
    dates = {h["status"]: datetime.fromisoformat(h["date"]).timestamp() for h in job["statusHistory"]}
    return dates.get(first, dates["queued"]), dates["success"]


def test_service_concurrency_limit_queues_jobs(addon, prefs, emulator_url, tmp_path) -> None:
    process, base_url = start_emulator_process(
        ["--job-seconds", "0.6", "--max-concurrent-jobs", "1", "--api-key", API_KEY,
         "--api-secret", API_SECRET, "--quiet"], python=os.environ.get("EMULATOR_PYTHON"))
    try:
        prefs.base_url = base_url
        prefs.max_concurrent_jobs = 4
        textures = [scenes.texture_file(tmp_path, f"q{i}") for i in range(3)]
        scenes.object_with("A", [pbr_scenes.simple_material("M", *textures)], selected=True)

        assert bpy.ops.scenario.upscale_materials() == {"FINISHED"}

        assert [i.status for i in latest(addon).items] == ["done"] * 3
        from conftest import EmulatorControl

        jobs = emulator_state(EmulatorControl(base_url))["jobs"]
        assert len(jobs) == 3
        # Past "queued" one at a time: the service's limit held, and the add-on waited it out.
        running = [_job_span(j, "warming-up") for j in jobs]
        assert max_overlap(running) == 1
        assert max_overlap([_job_span(j, "queued") for j in jobs]) >= 2
    finally:
        stop_emulator_process(process)
        prefs.base_url = emulator_url


def test_rate_limited_generates_are_retried_after_the_wait(addon, prefs, emulator, tmp_path
                                                           ) -> None:
    for name in SPEND_PREFS:  # so the 429s land on the paid generate, not on a price dry run
        if hasattr(prefs, name):
            setattr(prefs, name, False)
    emulator.faults([{"kind": "status", "status": 429, "method": "POST", "path": "^/v1/generate",
                      "retry_after": 1, "times": 2}])
    textures = [scenes.texture_file(tmp_path, name) for name in ("a", "b", "c")]
    scenes.object_with("A", [pbr_scenes.simple_material("M", *textures)], selected=True)

    assert bpy.ops.scenario.upscale_materials() == {"FINISHED"}

    assert [i.status for i in latest(addon).items] == ["done"] * 3
    posts = [r for r in emulator.requests()
             if r["method"] == "POST" and str(r["path"]).startswith("/v1/generate")]
    limited = [r for r in posts if r["status"] == 429]
    assert len(limited) == 2
    for refused in limited:
        again = [r for r in posts if r["seq"] > refused["seq"] and r["query"] == refused["query"]
                 and r["body"]["image"] == refused["body"]["image"]]
        assert again and again[0]["time"] - refused["time"] >= 0.9, "Retry-After: 1 honoured"
        assert again[0]["status"] == 200 and "dryRun" not in again[0]["query"]
    assert len(paid_generates(emulator)) == 3


# --- command line ----------------------------------------------------------------------------

def test_command_line_runs_the_batch_saves_and_prints_a_summary(addon, emulator, tmp_path,
                                                               capsys) -> None:
    cli = module(addon, "bridge.cli")
    assert cli._handle is not None, "registered with bpy.utils.register_cli_command"
    albedo = scenes.texture_file(tmp_path, "albedo")
    normal = scenes.texture_file(tmp_path, "normal")
    normal.colorspace_settings.name = "Non-Color"
    tiles = scenes.udim_files(tmp_path / "set", "tiles", {1001: (64, 64), 1002: (32, 32)})
    material = pbr_scenes.simple_material("M", albedo, tiles)
    normal_map = material.node_tree.nodes.new("ShaderNodeNormalMap")
    node = material.node_tree.nodes.new("ShaderNodeTexImage")
    node.image = normal
    material.node_tree.links.new(node.outputs["Color"], normal_map.inputs["Color"])
    scenes.object_with("A", [material], selected=False)
    blend = tmp_path / "scene.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(blend))
    out = tmp_path / "summary.json"
    try:
        code = cli.execute(["--scope", "all", "--factor", "3", "--preset", "precise", "--save",
                            "--json", str(out)])
        captured = capsys.readouterr()

        assert code == 0
        summary = json.loads(out.read_text())
        assert json.loads(captured.out[captured.out.index("{"):]) == summary
        images = {i["name"]: i for i in summary["images"]}
        assert (images["albedo"]["role"], images["albedo"]["status"]) == ("base_color", "done")
        assert (images["normal"]["role"], images["normal"]["preset"]) == ("normal", "precise")
        assert Path(images["albedo"]["result_file"]).name == "albedo_x3.png"
        assert images["albedo"]["job_id"].startswith("job")
        assert images["tiles"]["status"] == "done"  # a UDIM set beside ordinary maps
        assert Path(images["tiles"]["result_file"]).name == "tiles_x3.<UDIM>.png"
        assert summary["totals"] | {"seconds": 0} == {
            "images": 3, "done": 3, "failed": 0, "cancelled": 0, "skipped": 0, "declined": 0,
            "unfinished": 0, "seconds": 0, "cost": summary["totals"]["cost"], "cost_unknown": 0}
        assert summary["totals"]["cost"] > 0, "what the batch was charged"
        assert summary["saved"] == str(blend)
        assert "[1/3] albedo (Base Color): Queued" in captured.err
        assert "[1/3] albedo (Base Color): Done" in captured.err
        assert "tiles (Base Color): Done" in captured.err

        bpy.ops.wm.open_mainfile(filepath=str(blend))
        nodes = scenes.texture_nodes(bpy.data.materials["M"])
        assert {n.image.name for n in nodes} == {"albedo_x3", "normal_x3", "tiles_x3"}
        result = bpy.data.images["tiles_x3"]
        assert result.source == "TILED"
        assert {t.number: tuple(t.size) for t in result.tiles} == {1001: (192, 192),
                                                                   1002: (96, 96)}
    finally:
        bpy.ops.wm.read_homefile(use_empty=True)


def test_command_line_exit_codes(addon, emulator, tmp_path, capsys) -> None:
    cli = module(addon, "bridge.cli")
    assert cli.execute(["--factor", "12"]) == 2
    assert "--factor: a whole number from 2 to 8" in capsys.readouterr().err
    assert cli.execute(["--help"]) == 0
    assert "--data-maps" in capsys.readouterr().out

    assert cli.execute(["--scope", "selected", "--quiet"]) == 2
    refused = json.loads(capsys.readouterr().out)
    assert refused["error"] == "No image textures in the materials of the selected objects."

    emulator.faults([{"kind": "job_failure", "error": "Out of GPU memory"}])
    textures = [scenes.texture_file(tmp_path, name) for name in ("a", "b")]
    scenes.object_with("A", [pbr_scenes.simple_material("M", *textures)], selected=True)
    assert cli.execute(["--quiet"]) == 1
    summary = json.loads(capsys.readouterr().out)
    failed = [i for i in summary["images"] if i["status"] == "failed"]
    assert len(failed) == 1 and "Out of GPU memory" in failed[0]["error"]
    assert summary["totals"]["done"] == 1


def test_panels_and_settings_are_registered(addon) -> None:
    for name in ("SCENARIO_UL_batch", "NODE_PT_scenario_batch", "MATERIAL_PT_scenario_batch",
                 "IMAGE_PT_scenario_batch", "SCENARIO_OT_upscale_materials"):
        assert hasattr(bpy.types, name), name
    settings = bpy.context.scene.scenario_batch
    assert (settings.scope, settings.normal, settings.data_strength) == \
        ("SELECTED_OBJECTS", "PRECISE", pytest.approx(0.2))
