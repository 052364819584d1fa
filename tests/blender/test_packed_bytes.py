"""Packed images are uploaded byte for byte: Blender's own ``packed_file.data``, copied once on
the main thread (no read of Blender's memory behind its back)."""

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


def packed_texture(tmp_path: Path, name: str = "packed") -> bpy.types.Image:
    image = scenes.texture_file(tmp_path, name, 256, 192)
    image.pack()
    return image


def test_the_bytes_are_blenders_and_copied_once(addon, tmp_path) -> None:
    packed_bytes, source_mod = mod(addon, "bridge.packed_bytes"), mod(addon, "core.source")
    image = packed_texture(tmp_path)
    expected = bytes(image.packed_file.data)

    head, whole = packed_bytes.head(image)
    source = packed_bytes.take(image, "packed.png", whole)

    assert whole == expected and head == expected[:packed_bytes.HEAD_BYTES]
    assert isinstance(source, source_mod.BytesSource) and source.data is whole, "not copied again"
    assert bytes(packed_bytes.take(image, "packed.png").data) == expected


def test_a_packed_image_is_upscaled_from_its_own_bytes(addon, tmp_path, emulator_url) -> None:
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


def test_bytes_the_worker_cannot_decode_are_read_as_pixels(addon, tmp_path) -> None:
    # Seam-safe and the derived views need pixels: a packed JPEG is read as pixels instead.
    snapshot, source_mod = mod(addon, "bridge.snapshot"), mod(addon, "core.source")
    image = scenes.texture_file(tmp_path, "packed_jpeg", 256, 192, file_format="JPEG")
    image.pack()

    source = snapshot.decodable_source(image, snapshot.describe(image))

    assert isinstance(source, source_mod.PixelSource)
    assert (source.width, source.height) == (256, 192)


def test_no_shipped_module_reads_blenders_memory() -> None:
    """No address is read through ctypes (``as_pointer()`` only serves as an identity key;
    core/memory.py asks Windows for the installed memory: the system's, not Blender's)."""
    shipped = [p for folder in ("api", "core", "bridge", "operators", "ui")
               for p in (Path(__file__).resolve().parents[2] / folder).rglob("*.py")]
    reads = ("from_address(", "string_at(", "ctypes.memmove(", "ctypes.cast(")
    assert shipped and not [p for p in shipped
                            if any(read in p.read_text("utf-8") for read in reads)]
