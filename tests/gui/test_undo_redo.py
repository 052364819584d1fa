"""The upscale from the sidebar, then every way Blender can undo, redo or repeat it."""

from __future__ import annotations

from conftest import Window

ORIGINAL = {"Wall": ["brick"], "Pillar": ["brick"], "Trim": ["brick"]}
RESULT = {"Wall": ["brick_x2"], "Pillar": ["brick_x2"], "Trim": ["brick"]}


def test_main_flow_shows_progress_swaps_and_undoes_in_one_step(window: Window) -> None:
    window.start_emulator("--job-seconds", "2")
    f = window.findings("undo_redo.py", "main_flow")
    assert f["invoke"] == ["RUNNING_MODAL"]
    assert f["before"] == ORIGINAL
    assert any("Generating" in text or "Queued" in text for text in f["progress_drawn"]), \
        f["progress_drawn"]
    assert f["after_upscale"] == RESULT, "selected objects switched, node group included"
    assert f["after_undo"] == ORIGINAL, "one Ctrl+Z puts the original back in every node"
    assert f["after_redo"] == RESULT
    assert f["editor_image"] == "brick_x2", "the editor the upscale started from shows the result"
    assert f["editor_image_after_undo"] == "brick", "never an empty editor after Ctrl+Z"
    assert f["editor_image_after_redo"] == "brick_x2"
    assert f["requests_by_undo_and_redo"] == 0
    assert f["paid"] == 1


def test_adjust_last_operation_reapplies_the_same_result_for_free(window: Window) -> None:
    window.start_emulator("--job-seconds", "1")
    f = window.findings("undo_redo.py", "adjust_last")
    assert f["last_operator"] == "SCENARIO_OT_apply_result"
    assert f["redo_properties"] == ["scope"]
    by_value = {c["value"]: c for c in f["changes"]}
    assert set(by_value) == {"SELECTED_OBJECTS", "ACTIVE_MATERIAL", "ALL_USERS", "NONE"}
    assert by_value["ALL_USERS"]["nodes"] == {k: ["brick_x2"] for k in ORIGINAL}
    assert by_value["SELECTED_OBJECTS"]["nodes"] == RESULT
    assert by_value["ACTIVE_MATERIAL"]["nodes"] == {**ORIGINAL, "Wall": ["brick_x2"]}
    assert by_value["NONE"]["nodes"] == ORIGINAL
    for change in f["changes"]:
        assert change["paid"] == 1, change
        assert change["results"] == ["brick_x2"], "one result image, never a copy per redo"
    assert f["paid"] == 1


def test_repeat_last_pays_nothing_and_does_not_crash(window: Window) -> None:
    window.start_emulator("--job-seconds", "1")
    f = window.findings("undo_redo.py", "repeat_last")
    assert f["after_upscale"] == RESULT
    assert f["after_repeat_1"] == RESULT and f["after_repeat_2"] == RESULT
    assert f["results"] == ["brick_x2"]
    assert f["paid"] == 1


def test_undo_history_jumps_back_and_forth(window: Window) -> None:
    window.start_emulator("--job-seconds", "1")
    found = window.findings("undo_redo.py", "undo_history")
    expected = {0: ORIGINAL, 1: RESULT, 2: ORIGINAL}
    for visit in found["visits"]:
        assert visit["nodes"] == expected[visit["item"]], visit
        assert visit["paid"] == 1, visit
