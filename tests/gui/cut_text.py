"""Finds labels that Blender cut to fit, in a screenshot: it replaces the middle of such a text
with an ellipsis, three dots in a row at the text's baseline with nothing above or below them.
Run on the host; a control screenshot with a label known to be cut keeps the check honest."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from inside.headers import components
from PIL import Image

TEXT_LEVEL = 110  # grey level above which a pixel is text on Blender's dark theme
FONT_PX = 11  # interface text height at 1×


def _components(bright: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Bounding boxes (x0, y0, x1, y1) of 8-connected bright areas."""
    boxes = []
    for pixels in components(bright):
        ys, xs = [p[0] for p in pixels], [p[1] for p in pixels]
        boxes.append((min(xs), min(ys), max(xs), max(ys)))
    return boxes


def ellipses(path: Path, scale: float = 1.0, ignore_right: int = 26) -> list[tuple[int, int]]:
    """Where ``path`` shows an ellipsis (exactly three dots in a row, alone in their
    column), as (x, y) of its first dot. ``ignore_right`` pixels
    (at 1×) on the right are the sidebar's tab strip."""
    grey = np.asarray(Image.open(path).convert("L"), dtype=np.int16)
    grey = grey[:, : grey.shape[1] - int(ignore_right * scale)]
    em = FONT_PX * scale
    small = max(3.0, 0.32 * em)
    # A line half hidden by the region's top or bottom edge is not cut: leave the edges out.
    edge = em
    dots = [((x0 + x1) / 2, (y0 + y1) / 2) for x0, y0, x1, y1 in _components(grey > TEXT_LEVEL)
            if x1 - x0 + 1 <= small and y1 - y0 + 1 <= small
            and edge <= y0 and y1 < grey.shape[0] - edge]
    found = []
    for x, y in dots:
        row = sorted(d for d in dots if abs(d[1] - y) <= 1 and 0 < d[0] - x <= 1.3 * em)
        if len(row) < 2 or row[0][0] - x > 0.6 * em:
            continue
        triple = [(x, y), row[0], row[1]]
        (x2, _), (x3, _) = row[0], row[1]
        if abs((x2 - x) - (x3 - x2)) > 1.5:
            continue
        gap = x2 - x
        stacked = any(abs(d[0] - cx) <= 1 and 2 <= abs(d[1] - cy) <= em
                      for cx, cy in triple for d in dots)
        longer = any(abs(d[1] - y) <= 1 and (abs(d[0] - (x - gap)) <= 1 or abs(d[0] - (x3 + gap)) <= 1)
                     for d in dots)
        if not stacked and not longer:  # dots in a grid or a longer row: a handle, an icon
            found.append((int(x), int(y)))
    return found
