"""Run in a helper Blender, never imported by the add-on: cuts a preview's crop out of an image
file in a format only Blender reads (JPEG, WebP, TIFF, EXR, …) and saves its pixels for the
worker (``core/crop.py``), so Blender's own decoder does the work outside the artist's Blender.

    blender -b --factory-startup --python crop_helper.py -- IMAGE X Y WIDTH HEIGHT OUT.npy
    python crop_helper.py IMAGE X Y WIDTH HEIGHT OUT.npy      (where bpy is a module)

X and Y are from the image's bottom left. OUT gets the crop as float32 RGBA rows, bottom-up, as
Blender holds them; the last line printed is ``SCENARIO_CROP {"is_float": …}``, or
``SCENARIO_CROP_ERROR <why>`` and exit code 1.
"""

from __future__ import annotations

import json
import os
import sys

ANSWER, ERROR = "SCENARIO_CROP ", "SCENARIO_CROP_ERROR "


def main(argv: list[str]) -> int:
    if hasattr(os, "nice"):
        os.nice(10)  # the artist's Blender comes first for the cores
    path, x, y, width, height, out = argv[0], *map(int, argv[1:5]), argv[5]
    import bpy
    import numpy as np

    cut = _byte_crop(path, x, y, width, height)
    if cut is not None:  # Blender 5.2+: the stored bytes of the region, nothing else
        np.save(out, cut.astype(np.float32) / np.float32(255.0))
        print(ANSWER + json.dumps({"is_float": False}), flush=True)
        return 0
    try:
        image = bpy.data.images.load(path, check_existing=False)
    except RuntimeError as exc:
        print(f"{ERROR}Blender could not read {path} as an image ({exc}).", flush=True)
        return 1
    # Not the add-on's rna.size(): this runs alone. The stubs' bpy_prop_array has no [].
    full_width, full_height = image.size[:]  # type: ignore[index]
    channels = image.channels
    if x < 0 or y < 0 or x + width > full_width or y + height > full_height:
        print(f"{ERROR}The region {width}×{height} at ({x}, {y}) is outside the "
              f"{full_width}×{full_height} px image {path}.", flush=True)
        return 1
    buffer = np.empty(full_width * full_height * channels, dtype=np.float32)
    image.pixels.foreach_get(buffer)  # type: ignore[attr-defined]  # 4.2 stubs: a float
    cut = buffer.reshape(full_height, full_width, channels)[y:y + height, x:x + width]
    rgba = np.ones((height, width, 4), dtype=np.float32)
    rgba[:, :, :3] = cut[:, :, :3] if channels >= 3 else cut[:, :, :1]
    if channels in (2, 4):
        rgba[:, :, 3] = cut[:, :, -1]
    np.save(out, rgba)
    print(ANSWER + json.dumps({"is_float": bool(image.is_float)}), flush=True)
    return 0


def _byte_crop(path: str, x: int, y: int, width: int, height: int):  # type: ignore[no-untyped-def]
    """The region's bytes (rows bottom-up) where Blender's ``imbuf`` hands out pixels (5.2+)
    and the image is held as bytes; None elsewhere, where the whole image is read as floats."""
    import imbuf
    import numpy as np

    if not hasattr(imbuf.types.ImBuf, "with_buffer"):
        return None
    try:
        image = imbuf.load(path)
    except (OSError, ValueError):
        return None
    full_width, full_height = image.size
    if (getattr(image, "buffer_type", "") != "BYTE" or x < 0 or y < 0
            or x + width > full_width or y + height > full_height):
        return None
    # The stubs leave out that the buffer is a context manager.
    with image.with_buffer(  # type: ignore[attr-defined]
            region=((x, y), (x + width, y + height))) as view:
        cut = np.array(view, dtype=np.uint8)
    return cut if cut.shape == (height, width, 4) else None  # byte buffers are RGBA


def _arguments() -> list[str]:
    return sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else sys.argv[1:]


if __name__ == "__main__":
    code = main(_arguments())
    sys.stdout.flush()
    os._exit(code)  # a Blender run with --python would otherwise open its window or go on
