"""Texture fidelity and spend control in real Blender against the emulator, with measured values.

The emulator, like a worst case, drops alpha and shifts tones slightly; it keeps tiling unless
started with --break-tiling."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import bpy
import numpy as np
import pytest
import scenes
from conftest import API_KEY, API_SECRET

from emulator.process import start_emulator_process, stop_emulator_process

pytestmark = pytest.mark.usefixtures("clean_file", "prefs")


def core(addon: str, name: str):
    return sys.modules[f"{addon}.core.{name}"]


def upscale(name: str, scope: str = "SELECTED_OBJECTS") -> set[str]:
    return bpy.ops.scenario.upscale_image(image_name=name, scope=scope)


def result_of(name: str) -> bpy.types.Image:
    [result] = [i for i in bpy.data.images if i.get("scenario_source_image") == name]
    return result


def decoded(addon: str, image: bpy.types.Image) -> np.ndarray:
    return core(addon, "png").decode_png(bpy.path.abspath(image.filepath))


def test_alpha_is_rebuilt_from_the_source(addon, tmp_path, capfd) -> None:
    leaf = scenes.texture_file(tmp_path, "leaf", 64, 64, alpha=True)
    scenes.object_with("Plant", [scenes.material_with("Leaf", leaf)], selected=True)

    assert upscale("leaf") == {"FINISHED"}

    result = decoded(addon, result_of("leaf"))
    source = decoded(addon, leaf)
    assert result.shape == (128, 128, 4), "the emulator dropped alpha; it is back"
    expected = core(addon, "pixels").resample(source[:, :, 3], 128, 128, wrap=False)
    error = np.abs(result[:, :, 3].astype(int) - expected.astype(int))
    print(f"alpha error vs resampled source alpha: mean {error.mean():.3f}, max {error.max()}")
    assert error.mean() < 0.5 and error.max() <= 1
    assert "alpha was resampled" in capfd.readouterr().out


@pytest.mark.parametrize("kind", ["file", "generated"])
def test_big_image_work_runs_in_a_child_process(addon, tmp_path, monkeypatch, kind) -> None:
    """The helper starts from Blender's Python with the add-on importable under Blender's name
    for it; every image counts as big here."""
    offload = core(addon, "offload")
    children = []
    run_in_child = offload._run_in_child
    monkeypatch.setattr(offload, "OFFLOAD_MIN_PIXELS", 1)
    monkeypatch.setattr(offload, "_run_in_child",
                        lambda fn, *a: children.append(fn.__name__) or run_in_child(fn, *a))
    leaf = (scenes.texture_file(tmp_path, "leaf", 64, 64, alpha=True) if kind == "file"
            else scenes.generated_image("leaf", 64, 64, alpha=True))

    assert upscale(leaf.name, "NONE") == {"FINISHED"}

    assert offload.unavailable_reason() == ""
    assert children == {"file": ["analyse_source", "finish_result"],
                        "generated": ["prepare_pixels", "finish_result"]}[kind]
    result = decoded(addon, result_of("leaf"))
    expected = core(addon, "pixels").resample(
        (scenes.pattern(64, 64, alpha=True)[::-1, :, 3] * 255).round(), 128, 128, wrap=False)
    assert result.shape == (128, 128, 4), "the alpha the emulator dropped was rebuilt in the child"
    assert np.abs(result[:, :, 3].astype(int) - expected.astype(int)).max() <= 1


def test_alpha_is_left_alone_when_asked(addon, tmp_path) -> None:
    leaf = scenes.texture_file(tmp_path, "leaf", 32, 32, alpha=True)
    bpy.context.scene.scenario_upscale.keep_alpha = False
    assert upscale(leaf.name, "NONE") == {"FINISHED"}
    assert decoded(addon, result_of("leaf")).shape[2] == 3


def normal_texture(folder: Path, addon: str) -> bpy.types.Image:
    """A normal map with strong slopes in both directions (green up, OpenGL)."""
    y, x = np.mgrid[0:64, 0:64] / 64.0
    vectors = np.stack([np.sin(2 * np.pi * x) * 0.6, np.cos(2 * np.pi * y) * 0.6,
                        np.ones_like(x)], axis=-1)
    vectors /= np.linalg.norm(vectors, axis=-1, keepdims=True)
    rgb = ((vectors * 0.5 + 0.5) * 255).round().astype(np.uint8)
    path = folder / "bumps_normal.png"
    folder.mkdir(parents=True, exist_ok=True)
    core(addon, "png").write_png(path, rgb)
    image = bpy.data.images.load(str(path))
    image.colorspace_settings.name = "Non-Color"
    return image


def normal_material(image: bpy.types.Image) -> bpy.types.Material:
    material = scenes.material_with("Bumps", image)
    tree = material.node_tree
    tex = scenes.texture_nodes(material)[0]
    normal_map = tree.nodes.new("ShaderNodeNormalMap")
    for link in list(tex.outputs["Color"].links):
        tree.links.remove(link)
    tree.links.new(tex.outputs["Color"], normal_map.inputs["Color"])
    tree.links.new(normal_map.outputs["Normal"], tree.nodes["Principled BSDF"].inputs["Normal"])
    return material


def lengths(addon: str, image: bpy.types.Image) -> tuple[float, float]:
    return core(addon, "pixels").normal_length_stats(decoded(addon, image)[:, :, :3])


def test_normal_maps_found_from_the_nodes_come_back_unit_length(addon, tmp_path) -> None:
    image = normal_texture(tmp_path, addon)
    scenes.object_with("Wall", [normal_material(image)], selected=True)

    bpy.context.scene.scenario_upscale.normal_map = "NO"
    upscale(image.name)
    raw_mean, raw_error = lengths(addon, result_of(image.name))
    bpy.ops.scenario.revert_image(image_name=image.name)
    bpy.data.images.remove(result_of(image.name))
    bpy.context.scene.scenario_upscale.normal_map = "AUTO"
    upscale(image.name)
    result = result_of(image.name)
    fixed_mean, fixed_error = lengths(addon, result)

    print(f"normal length: untouched mean {raw_mean:.4f} max dev {raw_error:.4f}; "
          f"re-normalised mean {fixed_mean:.4f} max dev {fixed_error:.4f}")
    assert raw_error > 0.02, "the emulator's tonal shift bends the normals"
    assert fixed_error <= 0.01
    source_green = decoded(addon, image)[:, :, 1].astype(float) - 127.5
    result_green = decoded(addon, result)[::2, ::2, 1].astype(float) - 127.5
    assert np.corrcoef(source_green.ravel(), result_green.ravel())[0, 1] > 0.95, \
        "green keeps its direction (OpenGL stays OpenGL)"
    assert result.colorspace_settings.name == "Non-Color"


@pytest.fixture(scope="module")
def seam_breaking_emulator() -> Iterator[str]:
    process, url = start_emulator_process(
        ["--job-seconds", "0.3", "--break-tiling", "--api-key", API_KEY, "--api-secret", API_SECRET],
        python=os.environ.get("EMULATOR_PYTHON", sys.executable))
    yield url
    stop_emulator_process(process)


def test_tiling_is_measured_and_kept(addon, tmp_path, capfd) -> None:
    scenes.texture_file(tmp_path, "brick", 64, 64)
    assert upscale("brick", "NONE") == {"FINISHED"}
    report = capfd.readouterr().out
    record = next(r for r in sys.modules[f"{addon}.bridge.runtime"].get().recent
                  if r.source_image == "brick")
    seams = record.fidelity
    print(f"seam ratio source {seams['source_seam']:.2f} → result {seams['result_seam']:.2f}")
    assert seams["source_seam"] < 1.5 and seams["result_seam"] < 1.5
    assert "Seam ratio" in report and "seam (seam ratio" not in report


def test_a_broken_seam_is_reported(addon, prefs, seam_breaking_emulator, tmp_path, capfd) -> None:
    prefs.base_url = seam_breaking_emulator
    scenes.texture_file(tmp_path, "brick", 64, 64)
    assert upscale("brick", "NONE") == {"FINISHED"}
    out = capfd.readouterr().out
    assert "Warning" in out and "result shows a seam" in out and "seam-safe" in out


def test_seam_safe_pads_the_upload_and_crops_the_result(addon, emulator, tmp_path) -> None:
    bpy.context.scene.scenario_upscale.seam_safe = True
    scenes.texture_file(tmp_path, "brick", 64, 48)
    assert upscale("brick", "NONE") == {"FINISHED"}
    [generate] = emulator.generates()
    state = emulator.state()
    sizes = {(a["width"], a["height"]) for a in state["assets"] if a["source"] == "uploaded"}
    pad = max(8, 48 // 8)
    assert (64 + 2 * pad, 48 + 2 * pad) in sizes, "uploaded with wrapped padding"
    assert tuple(result_of("brick").size) == (128, 96), "cropped back to exactly ×2"
    assert generate["body"]["upscaleFactor"] == 2


def test_node_settings_and_colour_settings_stay(addon, tmp_path) -> None:
    brick = scenes.texture_file(tmp_path, "brick")
    brick.alpha_mode = "PREMUL"
    material = scenes.material_with("Brick", brick, interpolation="Cubic", extension="MIRROR")
    node = scenes.texture_nodes(material)[0]
    node.projection = "BOX"
    node.projection_blend = 0.25
    scenes.object_with("Wall", [material], selected=True)
    upscale("brick")
    node = scenes.texture_nodes(material)[0]
    assert node.image == result_of("brick")
    assert (node.interpolation, node.extension, node.projection) == ("Cubic", "MIRROR", "BOX")
    assert node.projection_blend == pytest.approx(0.25)
    assert node.image.alpha_mode == "PREMUL"


def test_float_sources_come_back_as_srgb_images(addon, tmp_path, capfd) -> None:
    hdr = scenes.texture_file(tmp_path, "hdr", 32, 32, file_format="OPEN_EXR")
    hdr.colorspace_settings.name = "Linear Rec.709"
    assert upscale("hdr", "NONE") == {"FINISHED"}
    assert result_of("hdr").colorspace_settings.name == "sRGB", \
        "the upload was sRGB-encoded, so the result is too"
    assert "8-bit PNG" in capfd.readouterr().out


def test_never_spend_shows_the_price_and_stops(addon, prefs, emulator, tmp_path) -> None:
    prefs.never_spend = True
    try:
        scenes.texture_file(tmp_path, "brick")
        # A rehearsal is the artist's choice: said (INFO), no error.
        assert upscale("brick", "NONE") == {"CANCELLED"}
    finally:
        prefs.never_spend = False
    record = sys.modules[f"{addon}.bridge.runtime"].get().recent[0]
    assert record.error.startswith("Rehearsal: this upscale would cost 1 credit. Nothing was "
                                   "spent; turn off Stop Before Paying")
    dry = [r for r in emulator.requests() if (r.get("query") or {}).get("dryRun")]
    assert len(dry) == 1 and emulator.paid() == []


def test_price_above_the_limit_in_background_mode_is_refused(prefs, emulator, tmp_path) -> None:
    prefs.confirm_above_credits = 0.5
    try:
        scenes.texture_file(tmp_path, "brick")
        with pytest.raises(RuntimeError, match="above your confirmation limit of 0.5"):
            upscale("brick", "NONE")
    finally:
        prefs.confirm_above_credits = 20.0
    assert emulator.paid() == []


@pytest.mark.parametrize("pay", [True, False])
def test_price_above_the_limit_waits_for_the_artist(addon, prefs, emulator, tmp_path, pay) -> None:
    prefs.confirm_above_credits = 0.5
    scenes.texture_file(tmp_path, "brick")
    request = sys.modules[f"{addon}.bridge.request"]
    runtime = sys.modules[f"{addon}.bridge.runtime"]
    rt = runtime.get()
    prepared = request.prepare(bpy.context, bpy.data.images["brick"], "NONE", rt.user_dir,
                               rt.work_dir)
    prepared.job.spend = type(prepared.job.spend)(confirm_above=0.5, can_ask=True)
    view = rt.start_upscale(prepared.job, prepared.connection.connect, "brick")
    try:
        while view.question is None and view.status == "running":
            rt.pump(timeout=0.05)
        assert view.question.cost > 0.5 and view.question.limit == 0.5
        assert emulator.paid() == [], "nothing paid while waiting"
        rt.answer(view.local_id, pay)
        while view.status == "running":
            rt.pump(timeout=0.05)
    finally:
        prefs.confirm_above_credits = 20.0
    assert len(emulator.paid()) == (1 if pay else 0)
    assert view.status == ("ready" if pay else "failed")


def test_tiled_preview_and_difference_view(addon, tmp_path) -> None:
    scenes.texture_file(tmp_path, "brick", 32, 32)
    assert bpy.ops.scenario.tiled_preview(image_name="brick") == {"FINISHED"}
    preview = bpy.data.images["brick (2×2)"]
    assert tuple(preview.size) == (64, 64)
    assert preview.packed_file is not None

    upscale("brick", "NONE")
    result = result_of("brick")
    assert bpy.ops.scenario.compare_images(image_name=result.name, mode="DIFFERENCE") == {"FINISHED"}
    difference = bpy.data.images[f"{result.name} (difference)"]
    assert tuple(difference.size) == tuple(result.size)
    buffer = np.empty(len(difference.pixels), dtype=np.float32)
    difference.pixels.foreach_get(buffer)
    assert buffer.reshape(-1, 4)[:, :3].max() > 0, "the tonal shift shows"
