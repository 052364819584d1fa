"""Batch, the price question and online access, from the Image Editor's panel."""

from __future__ import annotations

from conftest import Window
from test_undo_redo import ORIGINAL, RESULT


def test_batch_from_the_panel_upscales_every_texture_once(window: Window) -> None:
    window.start_emulator("--job-seconds", "1")
    f = window.findings("panel_actions.py", "batch")
    assert f["items"] == [["brick", "done"], ["brick_rough", "done"]]
    assert f["nodes"] == {**RESULT, "Wall": ["brick_rough_x2", "brick_x2"]}
    assert f["paid"] == 2
    undone = f["nodes_after_undo"]
    assert undone != f["nodes"] and len(undone["Wall"]) == 2, "Ctrl+Z undoes the last swap"


def test_price_above_the_limit_paid_with_the_panel_button(window: Window) -> None:
    window.start_emulator("--job-seconds", "1")
    f = window.findings("panel_actions.py", "pay")
    assert f["asked"] == {"cost": 1, "limit": 0.5}
    assert f["paid_while_asking"] == 0
    assert f["status"] == "done" and f["nodes"] == RESULT and f["paid"] == 1
    assert f["report_levels"] == ["INFO"] and f["declined"] is False


def test_price_above_the_limit_declined_with_the_panel_button(window: Window) -> None:
    window.start_emulator("--job-seconds", "1")
    f = window.findings("panel_actions.py", "dont_pay")
    assert f["paid_while_asking"] == 0
    assert f["status"] == "failed" and "nothing was spent" in f["message"]
    assert f["nodes"] == ORIGINAL and f["paid"] == 0
    # Declining is the artist's choice: an INFO report (no red error popup), listed as declined.
    assert f["report_levels"] == ["INFO"] and f["declined"] is True


def test_online_access_off_greys_the_button_and_says_why(window: Window) -> None:
    window.start_emulator()
    f = window.findings("panel_actions.py", "online_off")
    assert f["poll"] is False
    assert "Allow Online Access" in f["reason"]
    assert f["refused"] and "Allow Online Access" in f["refused"]
    assert f["requests"] == 0
