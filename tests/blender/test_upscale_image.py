"""The core flow in real Blender against the emulator: scope, fidelity, naming, sources, revert,
and the messages a user reads when something is wrong."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import bpy
import pytest
import scenes
from conftest import data_folder

pytestmark = pytest.mark.usefixtures("clean_file", "prefs")


def sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def upscale(image: bpy.types.Image, scope: str = "SELECTED_OBJECTS") -> set[str]:
    return bpy.ops.scenario.upscale_image(image_name=image.name, scope=scope)


def result_images() -> list[bpy.types.Image]:
    return [i for i in bpy.data.images if "scenario_source_image" in i]


def test_file_texture_is_upscaled_saved_and_swapped(tmp_path: Path, emulator) -> None:
    brick = scenes.texture_file(tmp_path / "src", "brick", 64, 48)
    before = sha256(brick.filepath)
    material = scenes.material_with("Brick", brick, interpolation="Closest", extension="EXTEND")
    scenes.object_with("Wall", [material], selected=True)

    assert upscale(brick) == {"FINISHED"}

    [result] = result_images()
    [node] = scenes.texture_nodes(material)
    assert node.image == result
    assert (node.interpolation, node.extension) == ("Closest", "EXTEND")
    path = Path(bpy.path.abspath(result.filepath))
    assert path.name == "brick_x2.png" and path.parent == tmp_path / "upscaled"
    assert tuple(result.size) == (128, 96)
    assert sha256(brick.filepath) == before, "the original file must never change"
    assert result["scenario_source_image"] == "brick"
    assert result["scenario_job_id"].startswith("job")
    assert result["scenario_asset_id"].startswith("asset")
    assert json.loads(result["scenario_params"])["upscaleFactor"] == 2
    assert len(emulator.generates()) == 1


def selected_and_unselected(folder: Path) -> tuple[bpy.types.Image, bpy.types.Material,
                                                   bpy.types.Material]:
    """A texture, the material of a selected object and that of an unselected one using it."""
    brick = scenes.texture_file(folder, "brick")
    chosen = scenes.material_with("Chosen", brick)
    other = scenes.material_with("Other", brick)
    scenes.object_with("Selected", [chosen], selected=True)
    scenes.object_with("Unselected", [other], selected=False)
    return brick, chosen, other


def test_only_materials_of_selected_objects_change(tmp_path: Path) -> None:
    brick, chosen, other = selected_and_unselected(tmp_path)

    upscale(brick)

    [result] = result_images()
    assert [n.image for n in scenes.texture_nodes(chosen)] == [result]
    assert [n.image for n in scenes.texture_nodes(other)] == [brick]


def test_node_groups_and_shared_images_are_switched(tmp_path: Path) -> None:
    brick = scenes.texture_file(tmp_path, "brick")
    grouped = scenes.material_with("Grouped", brick, in_group=True)
    plain = scenes.material_with("Plain", brick)
    scenes.object_with("A", [grouped, plain], selected=True)

    upscale(brick)

    [result] = result_images()
    assert [n.image for n in scenes.texture_nodes(grouped)] == [result]
    assert [n.image for n in scenes.texture_nodes(plain)] == [result]


def test_active_material_all_users_and_image_only_scopes(tmp_path: Path) -> None:
    brick = scenes.texture_file(tmp_path, "brick")
    first = scenes.material_with("First", brick)
    second = scenes.material_with("Second", brick)
    obj = scenes.object_with("A", [first, second], selected=False)
    bpy.context.view_layer.objects.active = obj
    obj.active_material_index = 1

    upscale(brick, "ACTIVE_MATERIAL")
    [result] = result_images()
    assert scenes.texture_nodes(second)[0].image == result
    assert scenes.texture_nodes(first)[0].image == brick

    upscale(brick, "NONE")
    assert len(result_images()) == 2
    assert scenes.texture_nodes(first)[0].image == brick

    upscale(brick, "ALL_USERS")
    third = [i for i in result_images() if i not in (result,)][-1]
    assert scenes.texture_nodes(first)[0].image == third


def test_colour_space_and_alpha_mode_are_carried_over(tmp_path: Path) -> None:
    normal = scenes.texture_file(tmp_path, "normal")
    normal.colorspace_settings.name = "Non-Color"
    normal.alpha_mode = "CHANNEL_PACKED"
    scenes.object_with("A", [scenes.material_with("M", normal)], selected=True)

    upscale(normal)

    [result] = result_images()
    assert result.colorspace_settings.name == "Non-Color"
    assert result.alpha_mode == "CHANNEL_PACKED"


def test_results_never_overwrite_existing_files(tmp_path: Path) -> None:
    brick = scenes.texture_file(tmp_path, "brick")
    out = tmp_path / "upscaled"
    out.mkdir()
    (out / "brick_x2.png").write_bytes(b"someone else's file")

    upscale(brick, "NONE")
    upscale(brick, "NONE")

    assert (out / "brick_x2.png").read_bytes() == b"someone else's file"
    assert sorted(p.name for p in out.iterdir()) == ["brick_x2.png", "brick_x2_2.png", "brick_x2_3.png"]


def test_unsaved_file_writes_into_the_extension_user_folder(prefs, addon, tmp_path: Path) -> None:
    prefs.output_dir = "//textures/upscaled/"
    assert bpy.data.filepath == ""
    brick = scenes.texture_file(tmp_path, "brick")

    upscale(brick, "NONE")

    [result] = result_images()
    user_dir = data_folder(addon)
    assert Path(result.filepath).is_relative_to(user_dir / "upscaled")


def test_saved_file_writes_beside_the_blend(prefs, tmp_path: Path) -> None:
    prefs.output_dir = "//textures/upscaled/"
    brick = scenes.texture_file(tmp_path, "brick")
    bpy.ops.wm.save_as_mainfile(filepath=str(tmp_path / "scene.blend"))
    try:
        upscale(brick, "NONE")
        [result] = result_images()
        assert result.filepath == "//textures/upscaled/brick_x2.png"
        assert (tmp_path / "textures" / "upscaled" / "brick_x2.png").is_file()
    finally:
        bpy.ops.wm.read_homefile(use_empty=True)


def test_packed_and_generated_sources(tmp_path: Path, emulator) -> None:
    packed = scenes.texture_file(tmp_path, "packed", 32, 32)
    packed.pack()
    generated = scenes.generated_image("Generated Noise", 40, 24, alpha=True)

    upscale(packed, "NONE")
    upscale(generated, "NONE")

    by_source = {i["scenario_source_image"]: i for i in result_images()}
    assert tuple(by_source["packed"].size) == (64, 64)
    assert tuple(by_source["Generated Noise"].size) == (80, 48)
    assert generated.source == "GENERATED" and not generated.filepath, "source left as it was"
    uploads = [r for r in emulator.requests() if r["path"] == "/v1/assets" and r["method"] == "POST"]
    assert len(uploads) == 2


def test_revert_puts_the_original_back(tmp_path: Path) -> None:
    brick = scenes.texture_file(tmp_path, "brick")
    material = scenes.material_with("Brick", brick)
    scenes.object_with("A", [material], selected=True)
    upscale(brick)
    [result] = result_images()

    assert bpy.ops.scenario.revert_image(image_name=result.name) == {"FINISHED"}
    assert scenes.texture_nodes(material)[0].image == brick

    upscale(brick)
    assert bpy.ops.scenario.revert_image(image_name="brick") == {"FINISHED"}
    assert scenes.texture_nodes(material)[0].image == brick


def test_wrong_keys_say_so_and_change_nothing(prefs, tmp_path: Path, emulator) -> None:
    prefs.api_secret = "wrong"
    brick = scenes.texture_file(tmp_path, "brick")
    material = scenes.material_with("Brick", brick)
    scenes.object_with("A", [material], selected=True)

    with pytest.raises(RuntimeError, match="API key"):
        upscale(brick)

    assert scenes.texture_nodes(material)[0].image == brick
    assert result_images() == []
    assert not (tmp_path / "upscaled").exists() or not any((tmp_path / "upscaled").iterdir())
    assert "wrong" not in json.dumps(emulator.requests())


def test_failed_job_reports_scenario_reason(tmp_path: Path, emulator) -> None:
    emulator.faults([{"path": "^/v1/generate", "kind": "job_failure",
                      "error": "The model could not process this image", "hint": "Try precise"}])
    brick = scenes.texture_file(tmp_path, "brick")
    material = scenes.material_with("Brick", brick)
    scenes.object_with("A", [material], selected=True)

    with pytest.raises(RuntimeError, match="could not process this image"):
        upscale(brick)

    assert scenes.texture_nodes(material)[0].image == brick
    assert result_images() == []


def test_online_access_off_explains_where_to_turn_it_on(prefs, tmp_path: Path) -> None:
    prefs.base_url = "https://api.cloud.scenario.com/v1"
    bpy.context.preferences.system.use_online_access = False
    brick = scenes.texture_file(tmp_path, "brick")

    with pytest.raises(RuntimeError, match="Allow Online Access"):
        upscale(brick)


def test_loopback_service_works_with_online_access_off(prefs, tmp_path: Path) -> None:
    bpy.context.preferences.system.use_online_access = False
    brick = scenes.texture_file(tmp_path, "brick")

    assert upscale(brick, "NONE") == {"FINISHED"}


def test_missing_keys_name_both_places_to_put_them(prefs, tmp_path: Path) -> None:
    prefs.api_key = prefs.api_secret = ""
    brick = scenes.texture_file(tmp_path, "brick")

    with pytest.raises(RuntimeError, match="SCENARIO_SDK_API_KEY"):
        upscale(brick)


def test_tiny_and_oversized_images_are_refused_before_upload(prefs, tmp_path: Path, emulator) -> None:
    tiny = scenes.generated_image("tiny", 1, 1)
    with pytest.raises(RuntimeError, match="too small"):
        upscale(tiny)
    prefs.max_output_side = 512
    big = scenes.texture_file(tmp_path, "big", 300, 64)
    with pytest.raises(RuntimeError, match="512 px"):
        upscale(big)
    assert emulator.requests() == []


def test_ticks_come_faster_while_a_result_is_on_its_way(addon) -> None:
    modal = sys.modules[f"{addon}.bridge.modal"]
    runtime = sys.modules[f"{addon}.bridge.runtime"]
    job_view = sys.modules[f"{addon}.core.job_view"]
    generating = job_view.JobView("a", "a", stage="generating")
    downloading = job_view.JobView("b", "b", stage="downloading")
    ready = job_view.JobView("c", "c", status=runtime.ViewStatus.READY)
    failed = job_view.JobView("d", "d", status=runtime.ViewStatus.FAILED, stage="downloading")
    assert modal.tick_seconds([generating]) == modal.TICK_SECONDS
    assert modal.tick_seconds([generating, downloading]) == modal.FAST_TICK_SECONDS
    assert modal.tick_seconds([ready]) == modal.FAST_TICK_SECONDS
    assert modal.tick_seconds([failed]) == modal.TICK_SECONDS
    assert modal.FAST_TICK_SECONDS < modal.TICK_SECONDS
    # A download that lasts (a large result) goes back to the usual pace.
    later = downloading.stage_since + modal.FAST_WINDOW_SECONDS + 0.01
    assert modal.tick_seconds([generating, downloading], now=later) == modal.TICK_SECONDS
    # So does a result too large to arrive in a blink.
    downloading.output_pixels = modal.FAST_MAX_PIXELS + 1
    assert modal.tick_seconds([downloading]) == modal.TICK_SECONDS


def test_applying_again_to_another_scope_reuses_the_result_and_sends_nothing(
        tmp_path: Path, emulator, addon: str) -> None:
    """What a redo or Repeat Last of the swap does: scenario.apply_result for the same job."""
    brick, _chosen, other = selected_and_unselected(tmp_path)
    upscale(brick)
    [result] = result_images()
    runtime = sys.modules[f"{addon}.bridge.runtime"]
    [record] = [r for r in runtime.get().recent if r.job_id == result["scenario_job_id"]]
    sent = len(emulator.requests())

    for scope in ("ALL_USERS", "SELECTED_OBJECTS"):
        assert bpy.ops.scenario.apply_result(local_id=record.local_id, scope=scope) == {"FINISHED"}

    assert result_images() == [result], "one image for the result, however often it is applied"
    assert [n.image for n in scenes.texture_nodes(other)] == [result]
    assert len(emulator.requests()) == sent, "re-applying never asks Scenario"
    with pytest.raises(RuntimeError, match="no longer known"):
        bpy.ops.scenario.apply_result(local_id="no-such-job", scope="ALL_USERS")


PAYING_OPERATORS = ("upscale_image", "upscale_materials", "preview_upscale", "recover_jobs")


@pytest.mark.parametrize("name", PAYING_OPERATORS)
def test_an_operator_that_pays_is_never_redone_or_repeated_by_blender(addon, name) -> None:
    """Blender registers what the operator declares (here through bridge/modal.PaidJobModal): with
    REGISTER or UNDO, Adjust Last Operation or Repeat Last would run it, and pay, again."""
    assert not {"REGISTER", "UNDO"} & getattr(bpy.ops.scenario, name).bl_options
    # The swap itself is the undoable, repeatable step.
    assert {"REGISTER", "UNDO"} <= bpy.ops.scenario.apply_result.bl_options
