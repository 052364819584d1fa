"""Where a closed panel's header is on screen, found the way an artist finds it: by the chevron
Blender draws at its left (">" closed, "v" open). No API tells where a panel is drawn, so the
harness reads the region's pixels (``Harness.gray``), takes the closed chevrons, and clicks
them from the region's end up until the wanted panel draws (see ``Harness.open_panel``).

Pure numpy: also used on the host, on saved screenshots."""

from __future__ import annotations

from collections import deque

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


def closed_chevrons(gray: np.ndarray, scale: float = 1.0) -> list[tuple[int, int]]:
    """Centres (x, y) of the closed-panel chevrons in ``gray`` (rows from the top), top first.

    A closed chevron is two thin strokes meeting at a point on the right: about an em tall,
    two thirds of an em wide, mostly empty inside, its middle rows further right than its ends.
    A list's filled triangle, an open "v" and letters (")", ">" in a word: they have neighbours
    closer than a chevron's gap to its label) do not pass."""
    em = FONT_PX * scale
    bright = gray > TEXT_LEVEL
    gap = max(2, int(0.35 * em))
    found = []
    for pixels in components(bright):
        ys = np.array([p[0] for p in pixels])
        xs = np.array([p[1] for p in pixels])
        y0, y1, x0, x1 = ys.min(), ys.max(), xs.min(), xs.max()
        height, width = y1 - y0 + 1, x1 - x0 + 1
        if not (0.75 * em <= height <= 1.2 * em and 0.5 * em <= width <= 0.85 * em):
            continue
        beside = bright[y0:y1 + 1, max(x0 - gap, 0):x0].any() or \
            bright[y0:y1 + 1, x1 + 1:x1 + 1 + gap].any()
        if beside:
            continue  # a letter among letters, not a chevron alone before its label
        if len(pixels) > 0.55 * height * width:
            continue  # filled: a list's triangle, a bullet
        widest = max(np.bincount(ys - y0))  # pixels in its fullest row
        if widest > 0.4 * em:
            continue  # a bar across: a "2", a "z", not two thin strokes
        third = height / 3
        ends = xs[(ys < y0 + third) | (ys > y1 - third)].mean()
        middle = xs[(ys >= y0 + third) & (ys <= y1 - third)].mean()
        top, bottom = xs[ys == y0].mean(), xs[ys == y1].mean()
        if middle - ends > 0.25 * width and abs(top - bottom) <= 0.3 * width:
            found.append((int((x0 + x1) / 2), int((y0 + y1) / 2)))
    return sorted(found, key=lambda point: point[1])


def open_chevrons(gray: np.ndarray, scale: float = 1.0) -> list[tuple[int, int]]:
    """Centres (x, y) of the open-panel chevrons ("v") in ``gray``, top first: two thin strokes
    meeting at a point at the bottom, about an em wide and half an em tall, alone before
    their label."""
    em = FONT_PX * scale
    bright = gray > TEXT_LEVEL
    gap = max(2, int(0.35 * em))
    found = []
    for pixels in components(bright):
        ys = np.array([p[0] for p in pixels])
        xs = np.array([p[1] for p in pixels])
        y0, y1, x0, x1 = ys.min(), ys.max(), xs.min(), xs.max()
        height, width = y1 - y0 + 1, x1 - x0 + 1
        if not (0.3 * em <= height <= 0.7 * em and 0.75 * em <= width <= 1.2 * em):
            continue
        if len(pixels) > 0.55 * height * width:
            continue
        if bright[y0:y1 + 1, max(x0 - gap, 0):x0].any() or \
                bright[y0:y1 + 1, x1 + 1:x1 + 1 + gap].any():
            continue
        third = width / 3
        ends = ys[(xs < x0 + third) | (xs > x1 - third)].mean()
        middle = ys[(xs >= x0 + third) & (xs <= x1 - third)].mean()
        if middle - ends > 0.25 * height:
            found.append((int((x0 + x1) / 2), int((y0 + y1) / 2)))
    return sorted(found, key=lambda point: point[1])
