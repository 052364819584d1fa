"""`make bench` (last part): UDIM sets in real Blender (the bpy module) against the emulator.

For 4 tiles of 2K and 10 tiles of 4K, each at ×2: the time from the last tile's result on disk
to the set applied (the set's worker ending, the main thread noticing, and the swap itself),
and how much of it the main thread spent applying. Writes bench/results-udim.json.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(BENCH))

from tools import dev_addon  # noqa: E402

USER_DIR = dev_addon.isolate_user_folder("scenario-bench-udim-")
for _name in ("SCENARIO_SDK_API_KEY", "SCENARIO_SDK_API_SECRET", "SCENARIO_BASE_URL"):
    os.environ.pop(_name, None)

import addon as A  # noqa: E402
import bpy  # noqa: E402
import emulators  # noqa: E402
import numpy as np  # noqa: E402

SETS = ((4, 2048), (10, 4096))
JOB_SECONDS = 1.0
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


def one_set(addon: A.Addon, folder: Path, count: int, side: int) -> dict[str, Any]:
    A.clear_scene()
    image = bpy.data.images.load(str(folder / "set.<UDIM>.png"))
    image.source = "TILED"
    image.name = f"set{count}"
    A.use_in_material(image)
    apply = addon._mod("bridge.apply")
    real_apply, spent = apply.apply_result, []

    def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return real_apply(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - t0)

    apply.apply_result = timed
    try:
        assert bpy.ops.scenario.upscale_image(image_name=image.name) == {"FINISHED"}
    finally:
        apply.apply_result = real_apply
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


def main() -> int:
    module = dev_addon.enable_addon(USER_DIR)
    addon = A.Addon(module)
    work = Path(tempfile.mkdtemp(prefix="scenario-bench-udim-"))
    proc, url = emulators.start(["--job-seconds", str(JOB_SECONDS)])
    results = []
    try:
        addon.configure(url, work / "out", parallel=4)
        addon.runtime.get().steps_by_timer = False  # no app timers in the bpy module
        for count, side in SETS:
            folder = write_tiles(addon._mod("core.png"), count, side)
            row = one_set(addon, folder, count, side)
            results.append(row)
            print(f"{count} tiles of {side} px ×2: last tile's result → set applied "
                  f"{row['last_tile_to_applied_s']:.3f} s (set complete after "
                  f"{row['last_tile_to_set_downloaded_s']:.3f} s); main thread applying "
                  f"{row['main_thread_apply_ms']:.1f} ms", flush=True)
            shutil.rmtree(work / "out", ignore_errors=True)
    finally:
        emulators.stop(proc)
        addon.runtime.shutdown()
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(USER_DIR, ignore_errors=True)
    (BENCH / "results-udim.json").write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
