"""Synthetic textures for the benchmark: tileable, with detail at several scales, so that PNG and
JPEG sizes are in the range of real albedo maps (a 4K PNG of ~30 MB, not a flat colour of 50 kB).

Written with Pillow (the bench's own venv), not with the add-on's codec: fixtures are not what
is being measured.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image

SIZES = {"1K": 1024, "4K": 4096, "8K": 8192}


def texture(size: int, seed: int = 1) -> npt.NDArray[np.uint8]:
    """size × size RGB: a periodic pattern, blotches from coarse noise, and fine grain."""
    rng = np.random.default_rng(seed)
    axis = np.arange(size, dtype=np.float32) * np.float32(2 * np.pi / size)
    # Whole periods across the image keep it tileable.
    pattern = (np.sin(8 * axis)[None, :] * np.cos(6 * axis)[:, None]).astype(np.float32)
    image = np.empty((size, size, 3), dtype=np.uint8)
    tint = np.array([0.55, 0.33, 0.22], dtype=np.float32)
    coarse = rng.normal(0.0, 1.0, (size // 16, size // 16, 3)).astype(np.float32)
    # Row blocks keep the float temporaries small for 8K.
    step = 512
    for top in range(0, size, step):
        rows = slice(top, top + step)
        blotch = np.repeat(np.repeat(coarse[top // 16:(top + step) // 16], 16, axis=0), 16, axis=1)
        grain = rng.standard_normal((min(step, size - top), size, 1), dtype=np.float32)
        value = (0.75 + 0.25 * pattern[rows, :, None]) * tint + 0.04 * blotch + 0.015 * grain
        image[rows] = np.clip(value * 255.0, 0, 255).astype(np.uint8)
    return image


def write_textures(folder: Path, sizes: dict[str, int]) -> dict[str, dict[str, Path]]:
    """{label: {"png": path, "jpeg": path}} for every size, written once per folder."""
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, dict[str, Path]] = {}
    for label, size in sizes.items():
        png, jpeg = folder / f"tex_{label}.png", folder / f"tex_{label}.jpg"
        if not (png.exists() and jpeg.exists()):
            image = Image.fromarray(texture(size, seed=size))
            # Level 1 keeps fixture writing quick; sizes stay those of typical texture PNGs.
            image.save(png, format="PNG", compress_level=1)
            image.save(jpeg, format="JPEG", quality=90)
        written[label] = {"png": png, "jpeg": jpeg}
    return written
