"""Packed images are handed to the worker in short main-thread steps, byte for byte."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from types import ModuleType

import bpy
import pytest
import requests
import scenes
from conftest import API_KEY, API_SECRET

pytestmark = pytest.mark.usefixtures("prefs", "clean_file")


def mod(addon: str, name: str) -> ModuleType:
    return sys.modules[f"{addon}.{name}"]


@pytest.fixture
def tiny_steps(addon: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """1 KiB per step and no time budget: even a small test texture takes many steps."""
    monkeypatch.setattr(mod(addon, "bridge.packed_bytes"), "CHUNK_BYTES", 1024)
    monkeypatch.setattr(mod(addon, "bridge.runtime"), "STEP_SECONDS", 0.0)


def packed_texture(tmp_path: Path, name: str = "packed") -> bpy.types.Image:
    image = scenes.texture_file(tmp_path, name, 256, 192)
    image.pack()
    return image


def test_steps_copy_exactly_blenders_bytes(addon, tmp_path, tiny_steps) -> None:
    packed_bytes, source_mod = mod(addon, "bridge.packed_bytes"), mod(addon, "core.source")
    rt = mod(addon, "bridge.runtime").get()
    image = packed_texture(tmp_path)
    expected = bytes(image.packed_file.data)
    assert len(expected) > 8 * 1024

    head, whole = packed_bytes.head(image)
    assert whole is None, "read in place, not copied whole"
    assert head == expected[:packed_bytes.HEAD_BYTES]

    source = packed_bytes.take(image, "packed.png")
    assert isinstance(source, source_mod.ArrivingSource)
    steps = 0
    while rt.run_steps(0.0):
        steps += 1
    assert steps >= len(expected) // 1024 - 2
    assert bytes(source.arriving.wait(lambda: None)) == expected


def test_an_image_changed_between_steps_stops_the_copy(addon, tmp_path, tiny_steps) -> None:
    packed_bytes, source_mod = mod(addon, "bridge.packed_bytes"), mod(addon, "core.source")
    rt = mod(addon, "bridge.runtime").get()
    image = packed_texture(tmp_path)
    source = packed_bytes.take(image, "packed.png")
    rt.run_steps(0.0)
    image.unpack(method="USE_ORIGINAL")  # its packed bytes are freed
    assert not rt.run_steps(0.0)
    with pytest.raises(source_mod.SourceUnavailable, match="changed while its packed bytes"):
        source.arriving.wait(lambda: None)


def test_a_cancelled_wait_stops_the_steps(addon, tmp_path, tiny_steps) -> None:
    packed_bytes = mod(addon, "bridge.packed_bytes")
    rt = mod(addon, "bridge.runtime").get()
    source = packed_bytes.take(packed_texture(tmp_path), "packed.png")
    source.arriving.abandoned = True  # what a cancelled worker's wait leaves behind
    filled = source.arriving.filled
    assert not rt.run_steps(0.0)
    assert source.arriving.filled == filled


def test_unknown_blender_versions_use_blenders_own_copy(addon, tmp_path, monkeypatch) -> None:
    packed_bytes, source_mod = mod(addon, "bridge.packed_bytes"), mod(addon, "core.source")
    monkeypatch.setattr(packed_bytes, "_KNOWN_MAJOR_VERSIONS", ())
    image = packed_texture(tmp_path)
    head, whole = packed_bytes.head(image)
    assert whole == bytes(image.packed_file.data) and head == whole[:len(head)]
    source = packed_bytes.take(image, "packed.png", whole)
    assert isinstance(source, source_mod.BytesSource) and source.data is whole


def test_a_packed_image_is_upscaled_from_bytes_handed_over_in_steps(
        addon, tmp_path, tiny_steps, emulator_url) -> None:
    image = packed_texture(tmp_path)
    expected = hashlib.sha256(bytes(image.packed_file.data)).hexdigest()
    material = scenes.material_with("Packed", image)
    scenes.object_with("A", [material], selected=True)

    assert bpy.ops.scenario.upscale_image(image_name=image.name) == {"FINISHED"}

    assert tuple(scenes.texture_nodes(material)[0].image.size) == (512, 384)
    record = next(r for r in mod(addon, "bridge.runtime").get().recent
                  if r.source_image == "packed")
    assert uploaded_sha256(emulator_url, record.input_asset_id) == expected
    assert image.packed_file is not None, "the original stays packed and untouched"


def uploaded_sha256(base_url: str, asset_id: str) -> str:
    auth = (API_KEY, API_SECRET)
    asset = requests.get(f"{base_url}/assets/{asset_id}", auth=auth, timeout=10).json()
    data = requests.get(asset["asset"]["url"], timeout=10).content
    return hashlib.sha256(data).hexdigest()


def test_with_a_ui_an_app_timer_runs_the_steps_and_ticks_stay_light(
        addon, tmp_path, tiny_steps, monkeypatch) -> None:
    packed_bytes, runtime = mod(addon, "bridge.packed_bytes"), mod(addon, "bridge.runtime")
    rt = runtime.get()
    monkeypatch.setattr(rt, "steps_by_timer", True)
    image = packed_texture(tmp_path)
    source = packed_bytes.take(image, "packed.png")
    try:
        assert bpy.app.timers.is_registered(runtime._run_steps_timer)
        filled = source.arriving.filled
        rt.pump()  # a modal tick leaves the copying to the timer
        assert source.arriving.filled == filled
        calls = 0
        while (delay := runtime._run_steps_timer()) is not None:
            assert delay == 0.0  # again at the next turn of Blender's event loop
            calls += 1
        assert calls >= 4 and not rt.has_steps
        assert bytes(source.arriving.wait(lambda: None)) == bytes(image.packed_file.data)
    finally:
        if bpy.app.timers.is_registered(runtime._run_steps_timer):
            bpy.app.timers.unregister(runtime._run_steps_timer)


def test_bytes_the_worker_cannot_decode_are_dropped_for_pixels(addon, tmp_path, tiny_steps) -> None:
    # Seam-safe and the derived views need pixels: a packed JPEG is read as pixels instead, and
    # its hand-over stops rather than copying bytes nobody will wait for.
    snapshot, source_mod = mod(addon, "bridge.snapshot"), mod(addon, "core.source")
    rt = mod(addon, "bridge.runtime").get()
    image = scenes.texture_file(tmp_path, "packed_jpeg", 256, 192, file_format="JPEG")
    image.pack()

    source = snapshot.decodable_source(image, snapshot.describe(image))

    assert isinstance(source, source_mod.PixelSource)
    assert (source.width, source.height) == (256, 192)
    assert not rt.run_steps(0.0), "the abandoned copy ends at its next step"
