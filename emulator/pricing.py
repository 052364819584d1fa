"""Creative-unit price of an upscale.

The real price per factor is unknown; it is known to grow with output pixels. The emulator
charges ``max(1, ceil(output_megapixels * 2))`` where output megapixels are
``(width * factor) * (height * factor) / 1e6``: a 1024 px texture at x2 costs 9 units, at x4 34.
"""

from __future__ import annotations

import math

CU_PER_MEGAPIXEL = 2


def upscale_cost(width: int, height: int, factor: int) -> int:
    megapixels = (width * factor) * (height * factor) / 1_000_000
    return max(1, math.ceil(megapixels * CU_PER_MEGAPIXEL))


def cost_details(cost: int) -> dict[str, int]:
    return {"custom-generation": cost}
