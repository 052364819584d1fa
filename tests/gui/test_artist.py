"""What an artist meets in the window: menus, the result on screen, and an honest cancel."""

from __future__ import annotations

import cut_text
from conftest import Window
from test_undo_redo import ORIGINAL, RESULT


def test_image_menu_upscales_shows_the_result_compares_and_reverts(window: Window) -> None:
    window.start_emulator("--job-seconds", "1")
    f = window.findings("artist.py", "image_menu")
    assert f["nodes_after_upscale"] == RESULT and f["paid"] == 1
    assert f["shown_after_upscale"] == "brick_x2", "the editor shows the result"
    assert f["shown_after_original"] == "brick" and f["shown_after_result"] == "brick_x2"
    assert f["nodes_after_revert"] == ORIGINAL and f["shown_after_revert"] == "brick"


def test_node_context_menu_upscales_the_active_texture(window: Window) -> None:
    window.start_emulator("--job-seconds", "1")
    f = window.findings("artist.py", "node_menu")
    assert f["titles"] == ["brick"] and f["nodes"] == RESULT and f["paid"] == 1
    assert f["image_editor_shows"] == "brick", "started from the Shader Editor: no editor moves"
    assert f["batch"] == {"scope": "ACTIVE_MATERIAL", "images": ["brick_x2"]}


def test_show_result_in_editor_off_keeps_the_original_on_screen(window: Window) -> None:
    window.start_emulator("--job-seconds", "1")
    f = window.findings("artist.py", "editor_kept")
    assert f["nodes"] == RESULT and f["shown"] == "brick"


def test_escape_cancelled_at_scenario_when_it_accepts(window: Window) -> None:
    window.start_emulator("--job-seconds", "6", "--accept-cancel")
    f = window.findings("artist.py", "escape_at_scenario")
    assert f["stage_at_once"] == ["cancelling"], "Esc shows at once that it is cancelling"
    assert f["cancel_answers"] == [200]
    assert f["status"] == "cancelled" and f["state"] == "cancelled"
    assert any(f"Cancelled at Scenario: job {f['job_id']}" in line for line in f["reports"]), \
        f["reports"]
    assert f["recoverable"] == 0 and f["nodes"] == ORIGINAL


def test_escape_keeps_the_job_collectable_when_scenario_refuses(window: Window) -> None:
    window.start_emulator("--job-seconds", "6")
    f = window.findings("artist.py", "escape_at_scenario")
    assert f["stage_at_once"] == ["cancelling"]
    assert f["cancel_answers"] == [400]
    assert f["status"] == "cancelled" and f["state"] == "abandoned"
    assert any("may still finish and be charged" in line and "Recover" in line
               for line in f["reports"]), f["reports"]
    assert f["recoverable"] == 1 and f["nodes"] == ORIGINAL


# Every panel and state an artist meets (tests/gui/cases/panel_text.py), photographed whole.
STATES = ("idle", "advanced", "no_keys", "priced", "asking", "declined", "running", "done",
          "comparing", "batch_asking", "batch_running", "batch_done", "node_batch", "material",
          "preferences")
# Opened with a click on their header, found on screen (at each scale: the file is reopened).
FOLDED = ["Advanced", "Recent Jobs", "All Textures of Selection",
          "Material Properties' Scenario Upscale", "the preferences' Advanced group"]


def test_every_panel_line_reads_whole_at_1x_and_2x(window: Window) -> None:
    window.start_emulator("--job-seconds", "3")
    f = window.findings("panel_text.py", "panel_text", timeout=900)
    assert sorted(set(f["opened"])) == sorted(FOLDED), f["opened"]
    assert f["seen"]["declined"] == ["failed", True], "Don't Pay: listed as declined"
    assert f["seen"]["batch_running_boxes"] == [], "a batch's jobs are shown once, in its list"
    shots = sorted(window.case.glob("*_[12]x*.png"))
    controls = [s for s in shots if s.name.startswith("control_")]
    assert len(controls) == 2
    for state in STATES:
        for tag in ("1x", "2x"):
            assert (window.case / f"{state}_{tag}.png").is_file(), f"{state} at {tag}"
    found = {shot.name: cut_text.ellipses(shot, 2.0 if "_2x" in shot.name else 1.0)
             for shot in shots}
    assert all(found[c.name] for c in controls), f"the control's cut line was not seen: {found}"
    cut = {name: where for name, where in found.items() if where and not name.startswith("control")}
    assert cut == {}, f"lines cut at (x, y): {cut}"
