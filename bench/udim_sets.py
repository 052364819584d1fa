"""Section 7 of `make bench`: UDIM sets in real Blender (the bpy module) against the emulator.

For 4 tiles of 2K and 10 tiles of 4K, each at ×2: the time from the last tile's result on disk
to the set applied (the set's worker ending, the main thread noticing, and the swap itself),
and how much of it the main thread spent applying.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import addon as harness
import bpy
import numpy as np

SETS = ((4, 2048), (10, 4096))
FIXTURES = Path(tempfile.gettempdir()) / "scenario-bench-udim-fixtures"


def tile_numbers(count: int) -> list[int]:
    return [1001 + (i % 10) + 10 * (i // 10) for i in range(count)]


def write_tiles(png: Any, count: int, side: int) -> Path:
    """``set.<tile>.png`` files of a smooth pattern (compresses as a painted texture would)."""
    folder = FIXTURES / f"{count}x{side}"
    if folder.is_dir() and len(list(folder.glob("*.png"))) == count:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    y, x = np.mgrid[0:side, 0:side].astype(np.float32) / side
    for index, number in enumerate(tile_numbers(count)):
        rgb = np.stack([0.5 + 0.4 * np.sin(6.28 * (x * 3 + index / count)),
                        0.5 + 0.4 * np.cos(6.28 * y * 2), 0.5 + 0.2 * np.sin(6.28 * (x + y))], -1)
        png.write_png(folder / f"set.{number}.png", (rgb * 255).astype(np.uint8))
    return folder


def one_set(addon: harness.Addon, folder: Path, count: int, side: int) -> dict[str, Any]:
    harness.clear_scene()
    image = bpy.data.images.load(str(folder / "set.<UDIM>.png"))
    image.source = "TILED"
    image.name = f"set{count}"
    harness.use_in_material(image)
    result_image = addon._mod("bridge.result_image")
    real_apply, spent = result_image.apply_result, []
    result_image.apply_result = harness.timed(real_apply, spent)
    try:
        assert bpy.ops.scenario.upscale_image(image_name=image.name) == {"FINISHED"}
    finally:
        result_image.apply_result = real_apply
    rt = addon.runtime.get()
    rt.refresh_journal()
    [record] = [r for r in rt.recent if r.is_set and r.source_image == image.name]
    tiles = [rt.journal.load(e["local_id"]) for e in record.tiles]
    last_tile = max(dict((s, t) for s, t in tile.history)["downloaded"] for tile in tiles)
    states = dict((s, t) for s, t in record.history)
    return {"tiles": count, "side": side, "result_side": side * 2,
            "last_tile_to_set_downloaded_s": round(states["downloaded"] - last_tile, 3),
            "last_tile_to_applied_s": round(states["applied"] - last_tile, 3),
            "main_thread_apply_ms": round(sum(spent) * 1000, 1)}


def measure(addon: harness.Addon, out: Path) -> list[dict[str, Any]]:
    rows = []
    for count, side in SETS:
        folder = write_tiles(addon._mod("core.png"), count, side)
        rows.append(one_set(addon, folder, count, side))
        shutil.rmtree(out, ignore_errors=True)
    return rows
