"""The batch model: status texts, the JSON summary and the command line's exit code."""

import json

from scenario_texture_upscale.core import batch as B


def make_batch():
    batch = B.Batch("SELECTED_OBJECTS", batch_id="b1")
    batch.items = [
        B.BatchItem("albedo", "base_color", status=B.DONE, local_id="j1", result_path="/o/a_x2.png",
                    job_id="job1", cost=9.0, seconds=3.25, preset="balanced"),
        B.BatchItem("normal", "normal", status=B.FAILED, local_id="j2", reason="Out of GPU memory",
                    cost=9.0),
        B.BatchItem("tiles", "base_color", status=B.SKIPPED,
                    reason="'tiles' is a UDIM (tiled) image, which is not supported yet."),
    ]
    return batch


def test_summary_lists_every_image_and_totals():
    batch = make_batch()
    batch.ended = batch.started + 12.0
    summary = batch.summary("/scene.blend")
    json.dumps(summary)  # printable as is
    assert [i["name"] for i in summary["images"]] == ["albedo", "normal", "tiles"]
    first = summary["images"][0]
    assert (first["status"], first["result_file"], first["job_id"], first["error"]) == \
        ("done", "/o/a_x2.png", "job1", None)
    assert summary["images"][1]["error"] == "Out of GPU memory"
    assert summary["totals"] == {"images": 3, "done": 1, "failed": 1, "cancelled": 0,
                                 "skipped": 1, "unfinished": 0, "seconds": 12.0, "cost": 18.0}
    assert B.exit_code(summary) == 1
    assert batch.summary_text() == "1 upscaled, 1 failed, 1 skipped in 12 s"


def test_exit_codes():
    ok = B.Batch("ALL_MATERIALS")
    ok.items = [B.BatchItem("a", "other", status=B.DONE), B.BatchItem("b", "other", status=B.SKIPPED)]
    assert B.exit_code(ok.summary()) == 0
    ok.items.append(B.BatchItem("c", "other", status=B.CANCELLED, local_id="x"))
    assert B.exit_code(ok.summary()) == 1
    refused = B.refused_summary("ACTIVE_MATERIAL", "No image textures in the active material.")
    assert B.exit_code(refused) == 2 and refused["images"] == []


def test_pending_and_finish():
    batch = B.Batch("SELECTED_OBJECTS")
    running = B.BatchItem("a", "normal", status=B.RUNNING, local_id="j1")
    batch.items = [running, B.BatchItem("b", "other", status=B.SKIPPED)]
    assert batch.job_ids == ["j1"] and batch.pending == [running]
    assert not batch.finish_if_done()
    running.status = B.DONE
    assert batch.finish_if_done() and batch.ended is not None
    assert batch.item_for("j1") is running and batch.item_for("") is None


def test_status_texts():
    assert B.live_text(B.WAITING_STAGE) == "Queued"
    assert B.live_text("uploading", fraction=0.456) == "Uploading 46 %"
    assert B.live_text("generating", "Generating", 0.37, step=10) == "Generating 30 %"
    assert B.live_text("generating", "Warming up") == "Warming up"
    assert B.live_text("downloading") == "Downloading"
    item = B.BatchItem("n", "normal", status=B.FAILED, reason="boom")
    assert B.item_text(item) == "Failed: boom"
    assert B.item_text(B.BatchItem("n", "normal", status=B.RUNNING), "Uploading") == "Uploading"
    assert B.item_text(B.BatchItem("n", "normal", status=B.SKIPPED, reason="why")) == "Skipped: why"
    assert B.progress_line(2, 5, B.BatchItem("rock_n", "normal"), "Done") == \
        "[2/5] rock_n (Normal): Done"
