"""Scenario's team limit in a real window: while jobs wait for a free slot, the batch list says
so (each job is shown once: the Image Editor's job boxes leave a batch's jobs to its list), and
the batch still upscales every texture, each paid once."""

from __future__ import annotations

from conftest import Window

WAITING = "Waiting for a free slot at Scenario (1 of 1 in use)"


def test_the_wait_for_a_slot_is_drawn_and_every_texture_is_done(window: Window) -> None:
    window.start_emulator("--job-seconds", "8", "--team-parallel-jobs", "1")
    f = window.findings("team_limit.py", "waiting_shown")
    assert f["invoke"] == ["FINISHED"] or f["invoke"] == ["RUNNING_MODAL"]
    assert f["still_waiting"], "the list was photographed while a job waited"
    assert f["boxes"] == [], "a batch's jobs are drawn in its list only"
    assert any(line.endswith(f": {WAITING}") for line in f["list"]), f["list"]
    assert "Waiting" in f["words"], f["words"]
    assert f["statuses"] == ["done", "done"]
    assert f["paid"] == 2, "one paid generate per texture"
    for name in ("team_limit_boxes", "team_limit_list"):
        assert (window.case / f"{name}.png").stat().st_size > 5_000
