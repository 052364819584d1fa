"""Every bad input gets a message that says what to do, and changes nothing: no request, no file,
no swapped node. Inputs that can be handled (float, 16-bit, greyscale, CMYK, hostile names) are."""

from __future__ import annotations

from pathlib import Path

import bpy
import pytest
import scenes

pytestmark = pytest.mark.usefixtures("clean_file", "prefs")


def upscale(name: str, scope: str = "NONE") -> set[str]:
    return bpy.ops.scenario.upscale_image(image_name=name, scope=scope)


def results() -> list[bpy.types.Image]:
    return [i for i in bpy.data.images if "scenario_source_image" in i]


def uploads(emulator) -> list[dict]:
    return [r for r in emulator.requests() if r["method"] == "POST" and r["path"] == "/v1/assets"]


def refused(name: str, emulator, match: str) -> None:
    with pytest.raises(RuntimeError, match=match):
        upscale(name)
    assert emulator.requests() == [], "refused before anything was sent"
    assert results() == []


def test_no_image(emulator) -> None:
    refused("", emulator, "open a texture in the Image Editor")


def test_unknown_image_name(emulator) -> None:
    refused("nope", emulator, "no image named 'nope'")


def test_missing_file_says_how_to_relink(tmp_path: Path, emulator) -> None:
    image = scenes.texture_file(tmp_path, "gone")
    Path(image.filepath).unlink()
    refused("gone", emulator, "Relink it")


def test_one_pixel_image(emulator) -> None:
    scenes.generated_image("dot", 1, 1)
    refused("dot", emulator, "too small")


def test_a_sequence_is_refused(tmp_path: Path, emulator) -> None:
    seq = scenes.texture_file(tmp_path, "frame_0001")
    seq.source = "SEQUENCE"
    refused("frame_0001", emulator, "only still images")


def test_output_cap(prefs, tmp_path: Path, emulator) -> None:
    prefs.max_output_side = 1024
    scenes.texture_file(tmp_path, "wide", 600, 64)
    refused("wide", emulator, "1024 px limit")


def test_plain_http_service_is_refused(prefs, tmp_path: Path, emulator) -> None:
    prefs.base_url = "http://scenario.example.com/v1"
    scenes.texture_file(tmp_path, "brick")
    refused("brick", emulator, "use an https:// address")


def test_unwritable_output_folder(prefs, tmp_path: Path, emulator) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    prefs.output_dir = str(blocker / "upscaled")
    scenes.texture_file(tmp_path, "brick")
    refused("brick", emulator, "Choose another folder")


def test_out_of_range_values_from_python_are_clamped_by_blender(tmp_path, emulator) -> None:
    settings = bpy.context.scene.scenario_upscale
    settings.upscale_factor = 20
    settings.strength = 5.0
    assert (settings.upscale_factor, settings.strength) == (8, 1.0)
    scenes.generated_image("small", 16, 16)
    assert upscale("small") == {"FINISHED"}
    [generate] = emulator.generates()
    assert generate["body"]["upscaleFactor"] == 8 and generate["body"]["strength"] == 1.0


def test_exr_is_sent_as_png_with_a_note(tmp_path: Path, emulator, capfd) -> None:
    scenes.texture_file(tmp_path, "hdr", file_format="OPEN_EXR")
    assert upscale("hdr") == {"FINISHED"}
    assert "8-bit PNG" in capfd.readouterr().out
    [upload] = uploads(emulator)
    assert upload["body"]["name"] == "hdr.png"
    assert tuple(results()[0].size) == (128, 128)


def test_targa_is_converted_and_png_uploaded_as_is(tmp_path: Path, emulator) -> None:
    scenes.texture_file(tmp_path, "tga", file_format="TARGA")
    png_image = scenes.texture_file(tmp_path, "plain")
    assert upscale("tga") == {"FINISHED"}
    assert upscale("plain") == {"FINISHED"}
    names = [u["body"]["name"] for u in uploads(emulator)]
    assert names == ["tga.png", "plain.png"]
    size = Path(png_image.filepath).stat().st_size
    assert f"{size} bytes" in str(uploads(emulator)[1]["body"]["image"]), "the file, byte for byte"


def test_sixteen_bit_png_is_uploaded_unchanged(tmp_path: Path, emulator) -> None:
    image = scenes.generated_image("deep", 32, 32)
    image.filepath_raw = str(tmp_path / "deep.png")
    image.file_format = "PNG"
    bpy.context.scene.render.image_settings.color_depth = "16"
    image.save_render(str(tmp_path / "deep16.png"))
    deep = bpy.data.images.load(str(tmp_path / "deep16.png"))
    assert Path(deep.filepath).read_bytes()[24] == 16, "a 16-bit PNG"
    assert upscale(deep.name) == {"FINISHED"}
    size = Path(deep.filepath).stat().st_size
    assert f"{size} bytes" in str(uploads(emulator)[0]["body"]["image"])


@pytest.mark.parametrize("mode", ["L", "CMYK"])
def test_greyscale_and_cmyk_jpegs(tmp_path: Path, mode: str) -> None:
    from PIL import Image

    path = tmp_path / f"photo_{mode}.jpg"
    Image.new(mode, (40, 32), 128 if mode == "L" else (10, 80, 160, 20)).save(path)
    image = bpy.data.images.load(str(path))
    assert upscale(image.name) == {"FINISHED"}
    assert tuple(results()[0].size) == (80, 64)


@pytest.mark.parametrize("hostile", ["../../x", "con", "naïve brick 砖", "a" * 300])
def test_hostile_names_stay_inside_the_output_folder(prefs, tmp_path: Path, hostile: str) -> None:
    image = scenes.generated_image("tmp", 16, 16)
    image.name = hostile
    assert upscale(image.name) == {"FINISHED"}
    [result] = results()
    path = Path(bpy.path.abspath(result.filepath)).resolve()
    assert path.parent == (tmp_path / "upscaled").resolve()
    assert path.name.lower() not in ("con_x2.png",) or path.name.startswith("con_")
    assert len(path.name.encode()) <= 120


# --- refused before anything is uploaded or paid, though some are found only in the worker ------

STONE, WOOD, METAL = ("model_emulator-lora-weathered-stone", "model_emulator-lora-old-wood",
                      "model_emulator-lora-painted-metal")


def on_a_selected_object(image: bpy.types.Image) -> bpy.types.Material:
    material = scenes.material_with("Mat", image)
    scenes.object_with("Obj", [material], selected=True)
    return material


def scene_state() -> tuple[list[str], list[tuple[str, str]]]:
    """The images and which image each texture node shows: what an upscale would change."""
    nodes = [(m.name, n.image.name if n.image else "") for m in bpy.data.materials
             for n in scenes.texture_nodes(m)]
    return sorted(i.name for i in bpy.data.images), nodes


def refused_in_scene(name: str, emulator, match: str) -> str:
    """Upscales ``name`` in its scene, expects a refusal; returns the message. Checks that the
    scene is as it was and that nothing was uploaded, priced or paid."""
    before = scene_state()
    with pytest.raises(RuntimeError, match=match) as info:
        upscale(name, scope="SELECTED_OBJECTS")
    assert scene_state() == before and results() == []
    sent = [(r["method"], r["path"]) for r in emulator.requests()]
    assert not [s for s in sent if s[1] in ("/v1/assets", "/v1/uploads")], "nothing uploaded"
    assert not [s for s in sent if s[1].startswith("/v1/generate")], "nothing priced or paid"
    return str(info.value)


def add_loras(*ids: str) -> None:
    for lora in ids:
        item = bpy.context.scene.scenario_upscale.loras.add()
        item.model, item.scale = lora, 0.8


def model_lookups(emulator) -> list[str]:
    return [r["path"] for r in emulator.requests() if r["path"].startswith("/v1/models/")]


def test_an_unknown_lora_is_refused_by_name_before_the_upload(tmp_path: Path, emulator) -> None:
    on_a_selected_object(scenes.texture_file(tmp_path, "brick"))
    add_loras(STONE, "model_emulator-lora-stnoe")
    message = refused_in_scene("brick", emulator, "LoRA 'model_emulator-lora-stnoe' is not a "
                                                  "model Scenario knows")
    assert "remove it from the LoRAs list" in message and "Nothing was uploaded" in message
    assert model_lookups(emulator)[-1] == "/v1/models/model_emulator-lora-stnoe"


def test_a_known_lora_is_looked_up_once_per_session(tmp_path: Path, emulator) -> None:
    on_a_selected_object(scenes.texture_file(tmp_path, "brick"))
    add_loras(WOOD, "https://example.com/wood.safetensors")
    assert upscale("brick", scope="NONE") == {"FINISHED"}
    assert upscale("brick", scope="NONE") == {"FINISHED"}
    assert model_lookups(emulator) == [f"/v1/models/{WOOD}"], "once, and never for the URL"
    assert [g["body"]["loras"] for g in emulator.generates()] == [
        [WOOD, "https://example.com/wood.safetensors"]] * 2


def test_a_lora_lookup_that_fails_spends_nothing_and_is_asked_again(tmp_path, emulator) -> None:
    on_a_selected_object(scenes.texture_file(tmp_path, "brick"))
    add_loras(METAL)
    emulator.faults([{"kind": "status", "status": 503, "path": "^/v1/models/", "times": 0}])
    message = refused_in_scene("brick", emulator, f"Could not check LoRA '{METAL}' before paying")
    assert "Scenario is having trouble right now" in message and "Traceback" not in message
    emulator.faults([])
    assert upscale("brick", scope="NONE") == {"FINISHED"}
    assert model_lookups(emulator)[-1] == f"/v1/models/{METAL}"


def test_a_fifth_style_image_is_refused_with_the_limit(tmp_path: Path, emulator) -> None:
    on_a_selected_object(scenes.texture_file(tmp_path, "brick"))
    for index in range(5):
        scenes.generated_image(f"style{index}", 16, 16)
        bpy.context.scene.scenario_upscale.image_prompts.add().image = bpy.data.images[
            f"style{index}"]
    refused_in_scene("brick", emulator, r"5 style images are set, but Scenario takes at most 4: "
                                        r"remove 1 from Style Images")
    assert emulator.requests() == []


def test_a_file_that_is_not_an_image_is_named_as_unreadable(tmp_path: Path, emulator) -> None:
    path = tmp_path / "notes.png"
    path.write_text("shopping list: bricks, mortar\n")
    on_a_selected_object(bpy.data.images.load(str(path)))
    message = refused_in_scene("notes.png", emulator, "Blender could not read 'notes.png'")
    assert str(path) in message and "not an image" in message and "too small" not in message
    assert emulator.requests() == []


def test_a_png_cut_in_half_is_refused_before_the_upload(tmp_path: Path, emulator) -> None:
    image = scenes.texture_file(tmp_path, "brick", 128, 128)
    path = Path(image.filepath)
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])
    on_a_selected_object(image)
    message = refused_in_scene("brick", emulator, "is damaged")
    assert str(path) in message and "Nothing was uploaded or spent" in message
    assert emulator.requests() == []
