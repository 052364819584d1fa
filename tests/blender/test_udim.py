"""UDIM sets in real Blender against the emulator: every tile upscaled as its own job, the set
priced once, applied as one tiled image, and finished by Recover when a tile failed."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import bpy
import pytest
import scenes

pytestmark = pytest.mark.usefixtures("clean_file", "prefs")

SIZES = {1001: (64, 64), 1002: (64, 64), 1011: (64, 64), 1012: (48, 32)}


def module(addon: str, name: str):
    return sys.modules[f"{addon}.{name}"]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def skin_set(tmp_path: Path) -> tuple[bpy.types.Image, bpy.types.Material]:
    image = scenes.udim_files(tmp_path / "src", "skin", SIZES, labels={1002: "arm"})
    image.colorspace_settings.name = "Non-Color"
    image.alpha_mode = "CHANNEL_PACKED"
    material = scenes.material_with("Skin", image)
    scenes.object_with("Body", [material], selected=True)
    return image, material


def result_sets() -> list[bpy.types.Image]:
    return [i for i in bpy.data.images if "scenario_tiles" in i]


def tile_sizes(image: bpy.types.Image) -> dict[int, tuple[int, int]]:
    return {t.number: tuple(t.size) for t in image.tiles}


def test_a_set_of_files_is_one_tiled_result(tmp_path: Path, emulator) -> None:
    bpy.ops.wm.save_as_mainfile(filepath=str(tmp_path / "body.blend"))
    image, material = skin_set(tmp_path)
    before = {n: sha256(tmp_path / "src" / f"skin.{n}.png") for n in SIZES}

    assert bpy.ops.scenario.upscale_image(image_name=image.name) == {"FINISHED"}

    [result] = result_sets()
    assert scenes.texture_nodes(material)[0].image == result
    assert result.source == "TILED"
    assert result.filepath == "//upscaled/skin_x2.<UDIM>.png"
    assert tile_sizes(result) == {n: (w * 2, h * 2) for n, (w, h) in SIZES.items()}
    assert {t.number: t.label for t in result.tiles}[1002] == "arm"
    assert result.colorspace_settings.name == "Non-Color"
    assert result.alpha_mode == "CHANNEL_PACKED"
    assert result["scenario_source_image"] == "skin"
    provenance = json.loads(result["scenario_tiles"])
    assert sorted(provenance) == [str(n) for n in sorted(SIZES)]
    assert len({p["job_id"] for p in provenance.values()}) == 4
    assert sorted(p.name for p in (tmp_path / "upscaled").iterdir()) == [
        f"skin_x2.{n}.png" for n in sorted(SIZES)]
    assert {n: sha256(tmp_path / "src" / f"skin.{n}.png") for n in SIZES} == before
    assert len(emulator.paid()) == 4
    bpy.ops.wm.read_homefile(use_empty=True)


def test_a_second_set_never_overwrites_the_first(tmp_path: Path, emulator) -> None:
    image, _ = skin_set(tmp_path)
    assert bpy.ops.scenario.upscale_image(image_name=image.name, scope="NONE") == {"FINISHED"}
    assert bpy.ops.scenario.upscale_image(image_name=image.name, scope="NONE") == {"FINISHED"}

    names = sorted(p.name for p in (tmp_path / "upscaled").iterdir())
    assert names == sorted([f"skin_x2.{n}.png" for n in SIZES]
                           + [f"skin_x2_2.{n}.png" for n in SIZES])
    assert sorted(Path(i.filepath).name for i in result_sets()) == [
        "skin_x2.<UDIM>.png", "skin_x2_2.<UDIM>.png"]


def test_each_tile_keeps_its_alpha_and_has_its_own_seam_report(addon, tmp_path, emulator,
                                                               capfd) -> None:
    image = scenes.udim_files(tmp_path / "src", "leaf", {1001: (64, 64), 1002: (64, 64)},
                              alpha=True)
    bpy.context.scene.scenario_upscale.check_tiling = True
    assert bpy.ops.scenario.upscale_image(image_name=image.name, scope="NONE") == {"FINISHED"}

    read_header = module(addon, "core.imagefile").read_image_header
    for number in (1001, 1002):
        header = read_header(str(tmp_path / "upscaled" / f"leaf_x2.{number}.png"))
        assert header.channels == 4, "the emulator dropped alpha; it is back in every tile"
    report = capfd.readouterr().out
    assert "Tile 1001 seam ratio" in report and "Tile 1002 seam ratio" in report, report


def test_generated_and_packed_tiles(tmp_path: Path, emulator) -> None:
    generated = scenes.udim_generated("grid", {1001: (32, 32), 1002: (48, 48)})
    packed = scenes.udim_files(tmp_path / "src", "packed", {1001: (32, 32), 1003: (32, 16 * 2)})
    packed.pack()
    for image in (generated, packed):
        assert bpy.ops.scenario.upscale_image(image_name=image.name, scope="NONE") == {"FINISHED"}

    by_source = {i["scenario_source_image"]: i for i in result_sets()}
    assert tile_sizes(by_source["grid"]) == {1001: (64, 64), 1002: (96, 96)}
    assert tile_sizes(by_source["packed"]) == {1001: (64, 64), 1003: (64, 64)}
    assert generated.filepath == "" and not generated.is_dirty, "the original is untouched"
    assert len(emulator.paid()) == 4


def test_a_missing_tile_is_refused_before_anything_is_sent(tmp_path: Path, emulator) -> None:
    image, material = skin_set(tmp_path)
    (tmp_path / "src" / "skin.1011.png").unlink()

    with pytest.raises(RuntimeError, match=r"Tile 1011 of 'skin' is missing: there is no file at "
                                           r".*skin\.1011\.png"):
        bpy.ops.scenario.upscale_image(image_name=image.name)

    assert emulator.requests() == []
    assert scenes.texture_nodes(material)[0].image == image


def test_the_largest_tile_and_the_memory_are_checked_first(addon, prefs, tmp_path, emulator,
                                                           monkeypatch) -> None:
    image = scenes.udim_files(tmp_path / "src", "skin", {1001: (64, 64), 1002: (300, 260)})
    prefs.max_output_side = 512
    try:
        with pytest.raises(RuntimeError, match=r"×2 would make 'skin' 600×520 px, above the 512"):
            bpy.ops.scenario.upscale_image(image_name=image.name)
    finally:
        prefs.max_output_side = 16384
    # (64² + 300 × 260) px at ×2, 4 bytes each: 1.3 MB in memory, refused past half of it.
    monkeypatch.setattr(module(addon, "bridge.udim_request"), "physical_bytes", lambda: 2_000_000)
    with pytest.raises(RuntimeError, match=r"the 2 tiles of 'skin' 1.3 MB in memory, more than "
                                           r"half of this computer's 2.0 MB"):
        bpy.ops.scenario.upscale_image(image_name=image.name)
    assert emulator.requests() == []


def test_a_failed_tile_changes_nothing_and_recover_pays_only_for_it(addon, tmp_path,
                                                                     emulator) -> None:
    image, material = skin_set(tmp_path)
    emulator.faults([{"kind": "job_failure", "after": 1, "times": 1,
                      "error": "The GPU worker crashed."}])

    with pytest.raises(RuntimeError, match=r"The UDIM set 'skin' is not complete \(tile \d{4}: "
                                           r".*The GPU worker crashed.*The 3 tiles already "
                                           r"paid for are kept: use Recover"):
        bpy.ops.scenario.upscale_image(image_name=image.name)

    assert scenes.texture_nodes(material)[0].image == image, "the scene is unchanged"
    assert result_sets() == []
    assert len(emulator.paid()) == 4
    rt = module(addon, "bridge.runtime").get()
    rt.refresh_journal()
    [waiting] = [r for r in rt.recoverable(bpy.data.filepath) if r.source_image == "skin"]
    assert waiting.is_set and waiting.state == "submitted"
    assert all(not r.tile_set for r in rt.recoverable(bpy.data.filepath)), "tiles go with it"

    assert bpy.ops.scenario.recover_jobs(local_id=waiting.local_id) == {"FINISHED"}

    assert len(emulator.paid()) == 5, "exactly one more paid request"
    [result] = result_sets()
    assert scenes.texture_nodes(material)[0].image == result
    assert tile_sizes(result) == {n: (w * 2, h * 2) for n, (w, h) in SIZES.items()}
    rt.refresh_journal()
    assert waiting.local_id not in [r.local_id for r in rt.recoverable(bpy.data.filepath)]


@pytest.mark.parametrize("pay", [True, False])
def test_the_set_is_priced_once(addon, prefs, emulator, tmp_path, pay) -> None:
    image, _ = skin_set(tmp_path)
    request = module(addon, "bridge.request")
    rt = module(addon, "bridge.runtime").get()
    prefs.confirm_above_credits = 2.0  # each tile costs 1 credit: only the set passes it
    try:
        prepared = request.prepare(bpy.context, image, "NONE", rt.user_dir, rt.work_dir)
    finally:
        prefs.confirm_above_credits = 20.0
    prepared.job.spend = type(prepared.job.spend)(confirm_above=2.0, can_ask=True)
    view = rt.start_upscale(prepared.job, prepared.connection.connect, "skin")
    questions = []
    while view.status == "running":
        rt.pump(timeout=0.05)
        if view.question is not None:
            questions.append(view.question)
            assert emulator.generates() == [], "nothing paid while waiting"
            rt.answer(view.local_id, pay)
    assert [(q.tiles, q.cost, q.limit) for q in questions] == [(4, 4.0, 2.0)]
    assert len(emulator.paid()) == (4 if pay else 0)
    assert view.status == ("ready" if pay else "failed")
    if not pay:
        assert "Declined at 4 credits; nothing was spent." in view.message
        assert list((tmp_path / "upscaled").glob("*")) == [], "no file left behind"


def test_never_spend_stops_the_set_before_any_paid_call(addon, prefs, emulator, tmp_path) -> None:
    image, _ = skin_set(tmp_path)
    prefs.never_spend = True
    try:
        # A rehearsal is the artist's choice: said (INFO), no error.
        assert bpy.ops.scenario.upscale_image(image_name=image.name) == {"CANCELLED"}
    finally:
        prefs.never_spend = False
    record = module(addon, "bridge.runtime").get().recent[0]
    assert record.is_set and record.error.startswith(
        "Rehearsal: the 4 tiles of 'skin' would cost 4 credits")
    assert emulator.generates() == []


def test_painted_tiles_are_refused(tmp_path: Path, emulator) -> None:
    image, _ = skin_set(tmp_path)
    pixels = list(image.pixels)
    image.pixels = pixels  # marks the set as painted, unsaved
    with pytest.raises(RuntimeError, match="unsaved paint on its UDIM tiles"):
        bpy.ops.scenario.upscale_image(image_name=image.name)
    assert emulator.requests() == []
