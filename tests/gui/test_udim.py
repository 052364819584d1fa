"""A UDIM set in a real window: upscaled from the sidebar, shown as one tiled image, undone and
redone in one step."""

from __future__ import annotations

from conftest import Window

ORIGINAL = {"Wall": ["skin"], "Pillar": ["brick"], "Trim": ["brick"]}
RESULT = {"Wall": ["skin_x2"], "Pillar": ["brick"], "Trim": ["brick"]}


def test_a_udim_set_is_upscaled_shown_and_undone_as_one(window: Window) -> None:
    window.start_emulator("--job-seconds", "2")
    f = window.findings("udim.py", "udim_flow")
    assert f["invoke"] == ["RUNNING_MODAL"]
    assert f["before"] == ORIGINAL
    lines = [line for frame in f["tiles_drawn"] for line in frame]
    assert any("of 4 tiles done" in line for line in lines), lines
    assert {line.split(":")[0] for line in lines if ":" in line} == {
        "1001", "1002", "1011", "1012"}, "each tile's stage is drawn"
    assert f["after_upscale"] == RESULT
    assert f["editor_image"] == "skin_x2" and f["result_source"] == "TILED"
    assert f["result_tiles"] == {"1001": [[128, 128], "1001"], "1002": [[128, 128], "arm"],
                                 "1011": [[128, 128], "1011"], "1012": [[64, 64], "1012"]}
    assert any("Upscaled the 4 UDIM tiles of 'skin' ×2" in line for line in f["reports"]), \
        f["reports"]
    assert f["after_undo"] == ORIGINAL, "one Ctrl+Z puts the original set back"
    assert f["after_redo"] == RESULT
    assert f["requests_by_undo_and_redo"] == 0
    assert f["paid"] == 4, "one paid job per tile"
    assert (window.case / "udim_done.png").stat().st_size > 10_000
