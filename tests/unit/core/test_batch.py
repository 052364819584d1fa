"""The batch model: status texts, the JSON summary and the command line's exit code."""

import json

from scenario_texture_upscale.core.batch import (
    Batch,
    BatchItem,
    exit_code,
    item_text,
    live_text,
    progress_line,
    refused_summary,
)
from scenario_texture_upscale.core.states import ItemStatus, Stage


def make_batch():
    batch = Batch("SELECTED_OBJECTS", batch_id="b1")
    batch.items = [
        BatchItem("albedo", "base_color", status=ItemStatus.DONE, local_id="j1", result_path="/o/a_x2.png",
                    job_id="job1", cost=9.0, seconds=3.25, preset="balanced"),
        BatchItem("normal", "normal", status=ItemStatus.FAILED, local_id="j2", reason="Out of GPU memory",
                    cost=9.0),
        BatchItem("tiles", "base_color", status=ItemStatus.SKIPPED,
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
    assert exit_code(summary) == 1
    assert batch.summary_text() == "1 upscaled, 1 failed, 1 skipped in 12 s"


def test_exit_codes():
    ok = Batch("ALL_MATERIALS")
    ok.items = [BatchItem("a", "other", status=ItemStatus.DONE),
                BatchItem("b", "other", status=ItemStatus.SKIPPED)]
    assert exit_code(ok.summary()) == 0
    ok.items.append(BatchItem("c", "other", status=ItemStatus.CANCELLED, local_id="x"))
    assert exit_code(ok.summary()) == 1
    refused = refused_summary("ACTIVE_MATERIAL", "No image textures in the active material.")
    assert exit_code(refused) == 2 and refused["images"] == []


def test_pending_and_finish():
    batch = Batch("SELECTED_OBJECTS")
    running = BatchItem("a", "normal", status=ItemStatus.RUNNING, local_id="j1")
    batch.items = [running, BatchItem("b", "other", status=ItemStatus.SKIPPED)]
    assert batch.job_ids == ["j1"] and batch.pending == [running]
    assert not batch.finish_if_done()
    running.status = ItemStatus.DONE
    assert batch.finish_if_done() and batch.ended is not None
    assert batch.item_for("j1") is running and batch.item_for("") is None


def test_status_texts():
    assert live_text(Stage.WAITING) == "Queued"
    assert live_text("uploading", fraction=0.456) == "Uploading 46 %"
    assert live_text("generating", "Generating", 0.37, step=10) == "Generating 30 %"
    assert live_text("generating", "Warming up") == "Warming up"
    assert live_text("downloading") == "Downloading"
    item = BatchItem("n", "normal", status=ItemStatus.FAILED, reason="boom")
    assert item_text(item) == "Failed: boom"
    assert item_text(BatchItem("n", "normal", status=ItemStatus.RUNNING), "Uploading") == "Uploading"
    assert item_text(BatchItem("n", "normal", status=ItemStatus.SKIPPED, reason="why")) == "Skipped: why"
    assert progress_line(2, 5, BatchItem("rock_n", "normal"), "Done") == \
        "[2/5] rock_n (Normal): Done"
