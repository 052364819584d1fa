"""Mid-job gestures: none crashes or hangs, Scenario is paid once, and the result is not lost."""

from __future__ import annotations

import pytest
from conftest import Window
from test_undo_redo import ORIGINAL, RESULT


def _recovered_later(window: Window) -> None:
    f = window.findings("mid_job.py", "recover", blend="scene.blend")
    assert f["offered"] == 1, "the panel offers the paid job for recovery"
    assert f["statuses"] == ["done"]
    assert f["nodes"] == RESULT
    assert f["paid"] == 1, "Recover never pays again"


def test_undo_of_an_earlier_edit_mid_job_keeps_the_job(window: Window) -> None:
    window.start_emulator("--job-seconds", "3")
    f = window.findings("mid_job.py", "undo_earlier_edit")
    assert f["trim_x_after_undo"] == pytest.approx(3.0), "the edit was undone"
    assert f["nodes"] == RESULT
    assert f["paid"] == 1
    assert f["states"] == ["applied"]


def test_escape_stops_waiting_and_recover_collects_later(window: Window) -> None:
    window.start_emulator("--job-seconds", "4")
    f = window.findings("mid_job.py", "escape")
    assert f["statuses"] == ["cancelled"]
    assert f["nodes"] == ORIGINAL
    assert f["states"] == ["abandoned"]
    assert f["paid"] == 1
    _recovered_later(window)


@pytest.mark.parametrize("case", ["open_other_file", "disable_addon", "quit_blender"])
def test_leaving_mid_job_keeps_the_paid_job_recoverable(window: Window, case: str) -> None:
    window.start_emulator("--job-seconds", "4")
    f = window.findings("mid_job.py", case)
    assert f["paid"] == 1
    if case == "disable_addon":
        assert f["worker_threads_left"] == [] and not f["panel_registered"]
    _recovered_later(window)
