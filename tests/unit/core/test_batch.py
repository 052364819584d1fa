"""The batch model: status texts, the JSON summary and the command line's exit code."""

import json

from scenario_texture_upscale.core.batch import (
    Batch,
    BatchItem,
    decide,
    exit_code,
    item_text,
    live_text,
    progress_line,
    refused_summary,
    short_text,
)
from scenario_texture_upscale.core.spend_policy import PriceQuestion, SpendPolicy
from scenario_texture_upscale.core.spending import NotSpent
from scenario_texture_upscale.core.states import ItemStatus, Stage


def make_batch():
    batch = Batch("SELECTED_OBJECTS", batch_id="b1")
    batch.items = [
        BatchItem("albedo", "base_color", status=ItemStatus.DONE, local_id="j1", result_path="/o/a_x2.png",
                  job_id="job1", cost=9.0, charge="paid", seconds=3.25, preset="balanced"),
        # Its job failed at Scenario, which refunds it: it cost nothing.
        BatchItem("normal", "normal", status=ItemStatus.FAILED, local_id="j2", reason="Out of GPU memory",
                  cost=0.0, charge="refunded"),
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
                                 "skipped": 1, "declined": 0, "unfinished": 0, "seconds": 12.0,
                                 "cost": 9.0, "cost_unknown": 0}
    assert (summary["images"][0]["charge"], summary["images"][1]["charge"]) == ("paid", "refunded")
    assert exit_code(summary) == 1
    assert batch.summary_text() == "1 upscaled, 1 failed, 1 skipped in 12 s; spent 9 credits"


def test_what_a_batch_paid_is_said_and_an_unknown_cost_is_never_0():
    batch = make_batch()
    batch.items.append(BatchItem("rough", "roughness", status=ItemStatus.DONE, local_id="j3",
                                 cost=None, charge="paid"))
    batch.items.append(BatchItem("metal", "metallic", status=ItemStatus.DECLINED, local_id="j4",
                                 cost=0.0, charge="none"))
    batch.ended = batch.started + 3.0
    assert batch.summary_text() == ("2 upscaled, 1 failed, 1 skipped, 1 declined in 3 s; spent "
                                    "9 credits and 1 job of unknown cost")
    assert batch.summary()["totals"]["cost_unknown"] == 1
    declined = Batch("SELECTED_OBJECTS")
    declined.items = [BatchItem("a", "base_color", status=ItemStatus.DECLINED, local_id="x")]
    declined.ended = declined.started
    assert declined.summary_text() == "0 upscaled, 1 declined in 0 s; nothing spent"


def test_a_batch_priced_whole_pays_asks_or_refuses_by_its_total():
    limit = SpendPolicy(confirm_above=10.0)
    assert decide(limit, [4.0, 4.0]) is None, "under the limit: paid"
    question = decide(limit, [4.0, 4.0, 4.0])
    assert isinstance(question, PriceQuestion)
    assert (question.cost, question.limit, question.images) == (12.0, 10.0, 3)
    refused = decide(SpendPolicy(confirm_above=10.0, can_ask=False), [6.0, 6.0])
    assert isinstance(refused, NotSpent) and not refused.by_choice
    assert refused.message.startswith("The batch of 2 images costs 12 credits, above your "
                                      "confirmation limit of 10 credits.")
    rehearsal = decide(SpendPolicy(never_spend=True), [1.0])
    assert isinstance(rehearsal, NotSpent) and rehearsal.by_choice and not rehearsal.declined
    assert rehearsal.message.startswith("Rehearsal: the batch's 1 image would cost 1 credit.")
    assert decide(SpendPolicy(), [None, 2.0]) is None, "a price that only informs decides nothing"


def test_a_batch_waiting_for_its_answer_says_what_it_costs():
    batch = Batch("SELECTED_OBJECTS")
    batch.items = [BatchItem(name, "base_color", status=ItemStatus.PRICED, local_id=name,
                             quote=4.0) for name in ("a", "b")]
    batch.question = PriceQuestion(cost=8.0, limit=5.0, batch_total=8.0, images=2)
    assert batch.summary_text() == "2 images priced at 8 credits in all: pay, or not?"
    assert item_text(batch.items[0]) == "Priced: 4 credits, nothing paid yet"
    assert batch.pending == batch.items, "priced images wait: the batch is not over"


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
    # The stage's own words, whatever the stage: the job box and the list say the same.
    assert live_text("pricing", "Price: 4 credits") == "Price: 4 credits"
    assert short_text("generating", "Finalizing") == "Finalizing"
    assert short_text("generating", "Generating", 0.4) == "40 %"
    assert short_text("waiting-slot", "Waiting for a free slot at Scenario (2 of 2 in use)") == \
        "Waiting"
    assert live_text("downloading") == "Downloading"
    item = BatchItem("n", "normal", status=ItemStatus.FAILED, reason="boom")
    assert item_text(item) == "Failed: boom"
    assert item_text(BatchItem("n", "normal", status=ItemStatus.RUNNING), "Uploading") == "Uploading"
    assert item_text(BatchItem("n", "normal", status=ItemStatus.SKIPPED, reason="why")) == "Skipped: why"
    assert progress_line(2, 5, BatchItem("rock_n", "normal"), "Done") == \
        "[2/5] rock_n (Normal): Done"
