"""Where a closed panel's header is on screen, found the way an artist finds it: by the chevron
Blender draws at its left (">" closed, "v" open). No API tells where a panel is drawn, so the
harness reads the region's pixels (``Harness.gray``), takes the closed chevrons, and clicks
them from the region's end up until the wanted panel draws (see ``Harness.open_panel``).

Pure numpy: also used on the host, on saved screenshots."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

TEXT_LEVEL = 80  # a chevron's strokes are anti-aliased: their edges count too
FONT_PX = 11  # interface text height at 1×


def components(bright: np.ndarray) -> list[list[tuple[int, int]]]:
    """The pixels (y, x) of each 8-connected bright area (also cut_text's)."""
    seen = np.zeros_like(bright, dtype=bool)
    found = []
    height, width = bright.shape
    for y, x in zip(*np.nonzero(bright), strict=True):
        if seen[y, x]:
            continue
        seen[y, x] = True
        queue, pixels = deque([(int(y), int(x))]), []
        while queue:
            cy, cx = queue.popleft()
            pixels.append((cy, cx))
            for ny in range(max(cy - 1, 0), min(cy + 2, height)):
                for nx in range(max(cx - 1, 0), min(cx + 2, width)):
                    if bright[ny, nx] and not seen[ny, nx]:
                        seen[ny, nx] = True
                        queue.append((ny, nx))
        found.append(pixels)
    return found


@dataclass(frozen=True)
class Stroke:
    """A bright area alone on its row (no other within a gap left or right), not filled in."""

    ys: np.ndarray
    xs: np.ndarray
    y0: int
    y1: int
    x0: int
    x1: int

    @property
    def height(self) -> int:
        return self.y1 - self.y0 + 1

    @property
    def width(self) -> int:
        return self.x1 - self.x0 + 1

    @property
    def centre(self) -> tuple[int, int]:
        return int((self.x0 + self.x1) / 2), int((self.y0 + self.y1) / 2)


def strokes(gray: np.ndarray, scale: float, heights: tuple[float, float],
            widths: tuple[float, float]) -> list[Stroke]:
    """The lone, thin-stroked areas whose height and width lie in ``heights`` and ``widths``
    (in ems). A letter among letters has a neighbour closer than a chevron's gap to its
    label; a list's triangle or a bullet is filled."""
    em = FONT_PX * scale
    bright = gray > TEXT_LEVEL
    gap = max(2, int(0.35 * em))
    found = []
    for pixels in components(bright):
        ys = np.array([p[0] for p in pixels])
        xs = np.array([p[1] for p in pixels])
        stroke = Stroke(ys, xs, int(ys.min()), int(ys.max()), int(xs.min()), int(xs.max()))
        height, width = stroke.height, stroke.width
        if not (heights[0] * em <= height <= heights[1] * em
                and widths[0] * em <= width <= widths[1] * em):
            continue
        y0, y1, x0, x1 = stroke.y0, stroke.y1, stroke.x0, stroke.x1
        if bright[y0:y1 + 1, max(x0 - gap, 0):x0].any() or \
                bright[y0:y1 + 1, x1 + 1:x1 + 1 + gap].any():
            continue
        if len(pixels) > 0.55 * height * width:
            continue
        found.append(stroke)
    return found


def closed_chevrons(gray: np.ndarray, scale: float = 1.0) -> list[tuple[int, int]]:
    """Centres (x, y) of the closed-panel chevrons in ``gray`` (rows from the top), top first:
    two thin strokes meeting at a point on the right, about an em tall and two thirds of an em
    wide, their middle rows further right than their ends."""
    em = FONT_PX * scale
    found = []
    for s in strokes(gray, scale, (0.75, 1.2), (0.5, 0.85)):
        if max(np.bincount(s.ys - s.y0)) > 0.4 * em:
            continue  # a bar across: a "2", a "z", not two thin strokes
        third = s.height / 3
        ends = s.xs[(s.ys < s.y0 + third) | (s.ys > s.y1 - third)].mean()
        middle = s.xs[(s.ys >= s.y0 + third) & (s.ys <= s.y1 - third)].mean()
        top, bottom = s.xs[s.ys == s.y0].mean(), s.xs[s.ys == s.y1].mean()
        if middle - ends > 0.25 * s.width and abs(top - bottom) <= 0.3 * s.width:
            found.append(s.centre)
    return sorted(found, key=lambda point: point[1])


def open_chevrons(gray: np.ndarray, scale: float = 1.0) -> list[tuple[int, int]]:
    """Centres (x, y) of the open-panel chevrons ("v") in ``gray``, top first: two thin strokes
    meeting at a point at the bottom, about an em wide and half an em tall."""
    found = []
    for s in strokes(gray, scale, (0.3, 0.7), (0.75, 1.2)):
        third = s.width / 3
        ends = s.ys[(s.xs < s.x0 + third) | (s.xs > s.x1 - third)].mean()
        middle = s.ys[(s.xs >= s.x0 + third) & (s.xs <= s.x1 - third)].mean()
        if middle - ends > 0.25 * s.height:
            found.append(s.centre)
    return sorted(found, key=lambda point: point[1])
