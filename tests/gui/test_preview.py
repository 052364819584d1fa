"""Try before you pay in a real window (tests/gui/cases/preview.py): the frame over the image,
following the view; three presets previewed in one go; their thumbnails; a click showing one
where its crop was; A/B; Use These Settings; Clear Previews; no line of the panel cut."""

from __future__ import annotations

from pathlib import Path

import cut_text
import numpy as np
from conftest import Window
from PIL import Image

ORANGE = np.array([255, 158, 0])


def frame_pixels(shot: Path, rect: list[int]) -> tuple[float, float]:
    """How much of the rectangle's outline (within 2 px of it), and of its inside, is the
    frame's orange."""
    pixels = np.asarray(Image.open(shot).convert("RGB"), dtype=np.int16)
    is_orange = np.abs(pixels - ORANGE).max(axis=-1) < 40
    left, top, right, bottom = rect
    span_x, span_y = slice(left + 4, right - 4), slice(top + 4, bottom - 4)
    edges = [is_orange[top - 2:top + 3, span_x].any(axis=0),
             is_orange[bottom - 2:bottom + 3, span_x].any(axis=0),
             is_orange[span_y, left - 2:left + 3].any(axis=1),
             is_orange[span_y, right - 2:right + 3].any(axis=1)]
    outline = float(np.mean([edge.mean() for edge in edges]))
    inside = float(is_orange[top + 8:bottom - 8, left + 8:right - 8].mean())
    return outline, inside


def test_previews_from_the_frame_to_use_these_settings(window: Window) -> None:
    window.start_emulator("--job-seconds", "1")
    f = window.findings("preview.py", "preview_flow", timeout=300)
    case = window.case

    # The frame: the crop the preview sends, centred on the view, drawn over the image.
    assert f["framed"][2:] == [256, 256]
    outline, inside = frame_pixels(case / "window_preview_frame.png", f["frame_on_screen"])
    assert outline > 0.8 and inside < 0.05, (outline, inside)
    assert f["framed_after_pan"] != f["framed"], "the crop follows the view"
    outline, _ = frame_pixels(case / "window_preview_frame_panned.png",
                              f["frame_after_pan_on_screen"])
    assert outline > 0.8, "and so does the frame"

    # Three presets in one go, each with the same seed; the thumbnails drawn.
    assert f["status"] == "done", f["message"]
    assert f["labels"] == ["Precise", "Balanced", "Creative"]
    assert sorted(s["preset"] for s in f["sent"]) == ["balanced", "creative", "precise"]
    assert len({s["seed"] for s in f["sent"]}) == 1 and f["paid"] == 3
    assert [t["label"] for t in f["thumbnails"]] == f["labels"]
    assert all(t["spread"] > 0 and min(t["icon_size"]) > 0 for t in f["thumbnails"])
    assert f["editor_after_previews"] == "bricks", "previews never take the editor unasked"

    # A click shows the preview where its crop was, at the crop's size on screen.
    assert f["shown"] == f["previews"][2]
    assert np.allclose(f["shown_on_screen"], f["frame_after_pan_on_screen"], atol=3), (
        f["shown_on_screen"], f["frame_after_pan_on_screen"])
    assert f["ab_role"] == "original" and f["ab_on_screen"] == f["shown_on_screen"]
    assert f["ab_back"] == f["shown"]

    # Use These Settings: the panel has the preview's preset and seed, the texture is back.
    assert f["settings"]["preset"] == "creative" and f["settings"]["random_seed"] is False
    assert f["settings"]["seed"] == f["sent"][0]["seed"]
    assert f["editor_after_use"] == "bricks"
    assert abs(f["zoom"][0] - f["zoom"][1]) < 1e-3
    assert np.allclose(f["texture_on_screen_after_use"], f["texture_on_screen_before"], atol=2)

    # Clear Previews: nothing left.
    assert len(f["files_before_clear"]) == 4
    assert f["images_after_clear"] == ["bricks"] and f["files_after_clear"] == []

    shots = sorted(case.glob("panel_*_[12]x.png"))
    assert len(shots) == 4
    found = {s.name: cut_text.ellipses(s, 2.0 if "_2x" in s.name else 1.0) for s in shots}
    assert found == {s.name: [] for s in shots}, "no line of the panel cut"
