"""What an artist reads about money, in real Blender against the emulator: the price before the
click (and the upscale that reuses its upload), a batch priced whole and asked once, what was
spent today and this month, a declined job that is not a failure, a failed job that was
refunded, the folders and the log a click away, and counts with the right plural."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import bpy
import pbr_scenes
import pytest
import scenes
from fake_ui import Drawing, FakeLayout, FakeOperator, draw, texts

pytestmark = pytest.mark.usefixtures("clean_file", "prefs")


def module(addon: str, name: str):
    return sys.modules[f"{addon}.{name}"]


def uploads(emulator) -> list[dict]:
    return [r for r in emulator.requests() if r["method"] == "POST"
            and r["path"] in ("/v1/assets", "/v1/uploads")]


def dry_runs(emulator) -> list[dict]:
    return [r for r in emulator.requests() if r["method"] == "POST"
            and str(r["path"]).startswith("/v1/generate") and (r.get("query") or {}).get("dryRun")]


def panel(addon: str, name: str, image=None) -> list:
    panels = {"main": ("ui.panel_upscale", "IMAGE_PT_scenario_upscale"),
              "recent": ("ui.panel_recent_jobs", "IMAGE_PT_scenario_recent_jobs")}
    where, cls = panels[name]
    return draw(getattr(module(addon, where), cls), image)


def buttons(log: list, idname: str) -> list[FakeOperator]:
    return [e for e in log if isinstance(e, FakeOperator) and e.idname == idname]


@pytest.fixture
def asking(addon: str, monkeypatch: pytest.MonkeyPatch):
    """Spending as with Blender's interface: a question can be asked (background mode
    cannot), with a limit of 2.5 credits."""
    request = module(addon, "bridge.request")
    plain = request.spend_policy

    def with_ui(prefs):
        policy = plain(prefs)
        return type(policy)(quote=policy.quote, never_spend=policy.never_spend,
                            confirm_above=2.5, can_ask=True)

    monkeypatch.setattr(request, "spend_policy", with_ui)


def run_until(addon: str, done, timeout: float = 30.0) -> None:
    rt = module(addon, "bridge.runtime").get()
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "timed out"
        rt.pump(timeout=0.05)


# --- the price before the click -----------------------------------------------------------------

def test_the_price_is_known_before_the_click_and_the_upscale_reuses_its_upload(
        addon, emulator, tmp_path) -> None:
    brick = scenes.texture_file(tmp_path, "brick", 64, 64)
    assert panel(addon, "main", brick) and not emulator.requests(), "drawing asks nothing"
    rt = module(addon, "bridge.runtime").get()
    jobs_before = {r.local_id for r in rt.recent}

    assert bpy.ops.scenario.price_image(image_name="brick") == {"FINISHED"}

    assert len(uploads(emulator)) == 1 and len(dry_runs(emulator)) == 1
    assert emulator.generates() == [], "a price check pays nothing"
    rt.refresh_journal()
    assert {r.local_id for r in rt.recent} == jobs_before, "a price check is no job"
    log = panel(addon, "main", brick)
    [button] = buttons(log, "scenario.upscale_image")
    assert button.text == "Upscale for 1 credit", "the price is on the button"
    assert buttons(log, "scenario.price_image") == []

    assert bpy.ops.scenario.upscale_image(image_name="brick", scope="NONE") == {"FINISHED"}
    assert len(uploads(emulator)) == 1, "the upscale sent no byte the price check had sent"
    assert len(emulator.paid()) == 1

    # Other settings: no price shown for them. Other bytes: uploaded again.
    settings = bpy.context.scene.scenario_upscale
    settings.upscale_factor = 4
    assert buttons(panel(addon, "main", brick), "scenario.price_image"), "priced for ×2 only"
    settings.upscale_factor = 2
    pixels = list(brick.pixels)
    pixels[0] = 1.0 - pixels[0]
    brick.pixels = pixels
    brick.save()
    assert bpy.ops.scenario.upscale_image(image_name="brick", scope="NONE") == {"FINISHED"}
    assert len(uploads(emulator)) == 2, "changed bytes are never taken for the old upload"


# --- a batch priced whole -------------------------------------------------------------------------

def batch_of_four(addon: str, tmp_path: Path):
    textures = [scenes.texture_file(tmp_path, name) for name in ("a", "b", "c", "d")]
    scenes.object_with("A", [pbr_scenes.simple_material("M", *textures)], selected=True)
    rt = module(addon, "bridge.runtime").get()
    batch = module(addon, "bridge.batch_start").start(bpy.context, "SELECTED_OBJECTS")
    module(addon, "bridge.batch_list").show(bpy.context.window_manager, batch)
    conclude = module(addon, "bridge.batch_conclude").conclude

    def drive(until) -> None:
        deadline = time.monotonic() + 60
        while not until():
            assert time.monotonic() < deadline, [(i.image, i.status) for i in batch.items]
            rt.pump(timeout=0.05)
            for item in batch.pending:
                view = rt.jobs[item.local_id]
                if view.status != "running":
                    conclude(rt, batch, view)
    return rt, batch, drive


@pytest.mark.parametrize("pay", [True, False])
def test_a_batch_shows_its_total_before_anything_is_paid_and_asks_once(
        addon, emulator, tmp_path, asking, pay) -> None:
    rt, batch, drive = batch_of_four(addon, tmp_path)
    drive(lambda: batch.question is not None)

    # Every image uploaded and priced, nothing paid, one question for the whole batch.
    assert [i.status for i in batch.items] == ["priced"] * 4
    assert len(dry_runs(emulator)) == 4 and emulator.generates() == []
    assert (batch.question.cost, batch.question.images) == (4, 4)
    assert batch.summary_text() == "4 images priced at 4 credits in all: pay, or not?"
    log = panel(addon, "main", None)
    assert "4 images cost 4 credits in all (your limit: 2.5 credits)" in texts(log)
    answers = [b.values for b in buttons(log, "scenario.answer_price")]
    assert answers == [{"batch_id": batch.batch_id, "pay": True},
                       {"batch_id": batch.batch_id, "pay": False}]
    assert buttons(log, "scenario.cancel_job") == [], "the batch's jobs are in its list only"

    assert bpy.ops.scenario.answer_price(batch_id=batch.batch_id, pay=pay) == {"FINISHED"}
    drive(lambda: not batch.pending)

    paid = emulator.paid()
    if pay:
        assert [i.status for i in batch.items] == ["done"] * 4 and len(paid) == 4
        assert len(uploads(emulator)) == 4, "paying sent no image again"
        assert batch.summary_text().endswith("; spent 4 credits")
    else:
        assert [i.status for i in batch.items] == ["declined"] * 4 and paid == []
        assert "0 upscaled, 4 declined in " in batch.summary_text()
        assert batch.summary_text().endswith("; nothing spent")
        records = [rt.journal.load(i.local_id) for i in batch.items]
        assert all(r.state == "failed" and r.declined for r in records)
        assert all(i.reason == "Declined at 4 credits for the batch; nothing was spent."
                   for i in batch.items)


def test_a_batch_with_nothing_to_decide_is_not_held_for_its_total(addon, prefs, emulator,
                                                                   tmp_path) -> None:
    """Show Price First alone: each image is priced and paid at once (no limit, no rehearsal:
    the total would decide nothing), and each is paid once."""
    prefs.quote_before_paying, prefs.confirm_expensive, prefs.never_spend = True, False, False
    rt, batch, drive = batch_of_four(addon, tmp_path)
    statuses: set[str] = set()

    def ended() -> bool:
        statuses.update(i.status for i in batch.items)
        return not batch.pending

    drive(ended)
    assert batch.spend is None and "priced" not in statuses
    assert [i.status for i in batch.items] == ["done"] * 4
    assert len(dry_runs(emulator)) == 4, "each image's price is still asked for and shown"
    assert len(emulator.paid()) == 4


def test_the_material_panel_lists_only_that_materials_images(addon, emulator, tmp_path) -> None:
    wall = pbr_scenes.simple_material("Wall", scenes.texture_file(tmp_path, "wall"))
    crate = pbr_scenes.simple_material("Crate", scenes.texture_file(tmp_path, "crate"))
    scenes.object_with("W", [wall], selected=True)
    scenes.object_with("C", [crate], selected=True)
    assert bpy.ops.scenario.upscale_materials() == {"FINISHED"}
    panel_batch = module(addon, "ui.panel_batch")
    state = bpy.context.window_manager.scenario_batch

    def shown_in(material) -> list[str]:
        context = SimpleNamespace(space_data=SimpleNamespace(type="PROPERTIES"), material=material)
        ui_list = SimpleNamespace(bitflag_filter_item=1 << 30)
        flags, _ = panel_batch.SCENARIO_UL_batch.filter_items(ui_list, context, state, "rows")
        return [row.image for row, flag in zip(state.rows, flags, strict=True) if flag]

    assert shown_in(wall) == ["wall"] and shown_in(crate) == ["crate"]
    other = bpy.data.materials.new("Other")
    assert shown_in(other) == []


# --- declined, refunded, spent --------------------------------------------------------------------

def test_dont_pay_is_said_calmly_and_listed_as_declined(addon, emulator, tmp_path, asking) -> None:
    scenes.texture_file(tmp_path, "brick", 64, 64)
    rt = module(addon, "bridge.runtime").get()
    request = module(addon, "bridge.request")
    prepared = request.prepare(bpy.context, bpy.data.images["brick"], "NONE", rt.user_dir,
                               rt.work_dir)
    prepared.job.spend = type(prepared.job.spend)(confirm_above=0.5, can_ask=True)
    view = rt.start_upscale(prepared.job, prepared.connection.connect, "brick")
    run_until(addon, lambda: view.question is not None)
    rt.answer(view.local_id, False)
    run_until(addon, lambda: view.status != "running")

    outcome = module(addon, "bridge.apply").conclude(rt, view)
    assert outcome.level == "INFO", "the artist's own choice: no red error popup"
    assert outcome.message == "Declined at 1 credit; nothing was spent."
    record = rt.journal.load(view.local_id)
    assert record.state == "failed" and record.declined
    recent = panel(addon, "recent")
    assert "Declined, ×2" in texts(recent) and "Declined at 1 credit; nothing was spent." in texts(recent)
    assert "Failed" not in texts(recent)


def test_a_failed_job_says_it_was_refunded_and_counts_nothing(addon, emulator, tmp_path) -> None:
    emulator.faults([{"path": "^/v1/generate", "kind": "job_failure",
                      "error": "The model could not process this image"}])
    scenes.texture_file(tmp_path, "brick")
    with pytest.raises(RuntimeError, match="could not process this image") as failure:
        bpy.ops.scenario.upscale_image(image_name="brick", scope="NONE")
    log_file = module(addon, "core.addon_log").file_path()
    assert f"in the add-on's log {log_file}: Open Log in Recent Jobs opens it" in \
        str(failure.value), "which log, where, and the button that opens it"
    rt = module(addon, "bridge.runtime").get()
    record = rt.recent[0]
    assert record.state == "failed" and record.job_id and record.cost is not None
    shown = texts(panel(addon, "recent"))
    assert "Refunded: Scenario does not charge for a job that fails." in shown
    assert "Paid" not in shown
    spending = module(addon, "core.spending")
    assert spending.total_of([record]) == spending.Total(), "never counted as spent"


def test_spent_today_and_this_month_come_from_the_journal(addon, prefs) -> None:
    journal_mod = module(addon, "core.journal")
    spending = module(addon, "core.spending")
    rt = module(addon, "bridge.runtime").get()
    rt.refresh_journal()
    before = spending.spent(rt.recent)
    now = time.time()
    this_month = [when for when in (now - 86400 * days for days in range(1, 4))
                  if time.localtime(when)[:2] == time.localtime(now)[:2]
                  and time.localtime(when).tm_yday != time.localtime(now).tm_yday]

    def paid(cost, when, state="applied", job_id="job_x"):
        record = journal_mod.JobRecord(local_id=journal_mod.new_job_id(), source_image="wall",
                                       state=state, cost=cost, job_id=job_id, created_at=when)
        record.history = [["submitted", when]]
        rt.journal.save(record)
        return record

    made = [paid(4.0, now), paid(None, now), paid(9.0, now, state="failed"),
            paid(1.0, now, state="failed", job_id=""), paid(100.0, now - 86400 * 40),
            *[paid(2.5, when) for when in this_month[:1]]]
    try:
        rt.refresh_journal()
        spent = spending.spent(rt.recent)
        # The refunded, the unpaid and last month's add nothing; the unknown cost is counted
        # as unknown, never as 0.
        assert spent.today.credits - before.today.credits == 4.0
        assert spent.today.unknown - before.today.unknown == 1
        assert spent.month.credits - before.month.credits == 4.0 + 2.5 * len(this_month[:1])
        assert "of unknown cost" in spent.text
        shown = texts(panel(addon, "recent"))
        assert spent.text in shown
        log: list = []
        type(prefs).draw(Drawing(FakeLayout(log), prefs), bpy.context)
        assert f"This computer: {spent.text}" in texts(log)
    finally:
        for record in made:
            rt.journal.forget(record.local_id)
        rt.refresh_journal()


# --- where results go, and the log ------------------------------------------------------------------

def test_open_output_folder_show_file_and_open_log_point_at_the_right_paths(
        addon, prefs, tmp_path, monkeypatch) -> None:
    folders = module(addon, "bridge.folders")
    opened: list[str] = []
    monkeypatch.setattr(folders, "open_path", lambda path: opened.append(str(path)))
    scenes.texture_file(tmp_path, "brick", 32, 32)
    assert bpy.ops.scenario.upscale_image(image_name="brick", scope="NONE") == {"FINISHED"}
    record = module(addon, "bridge.runtime").get().recent[0]

    assert bpy.ops.scenario.open_folder() == {"FINISHED"}
    assert bpy.ops.scenario.open_folder(filepath=record.result_path) == {"FINISHED"}
    assert bpy.ops.scenario.open_log() == {"FINISHED"}
    log_file = module(addon, "core.addon_log").file_path()
    assert opened == [prefs.output_dir, str(Path(record.result_path).parent), str(log_file)]
    assert Path(record.result_path).parent == Path(prefs.output_dir)
    # Their tooltips say what they open, where (Show File had Blender's generic one).
    ops = module(addon, "operators.open_folder").SCENARIO_OT_open_folder
    assert ops.description(bpy.context, SimpleNamespace(filepath="")).endswith(prefs.output_dir)
    assert record.result_path in ops.description(bpy.context,
                                                 SimpleNamespace(filepath=record.result_path))
    log_op = module(addon, "operators.open_log").SCENARIO_OT_open_log
    assert str(log_file) in log_op.description(bpy.context, SimpleNamespace())
    # Every text about where results go says what the code does.
    tip = bpy.ops.scenario.upscale_image.get_rna_type().description
    assert "textures/upscaled" in tip and "beside the .blend" in tip and "credits" in tip


def test_counts_read_with_the_right_plural(addon, emulator, tmp_path) -> None:
    brick = scenes.texture_file(tmp_path, "brick", 32, 32)
    scenes.object_with("Wall", [scenes.material_with("Brick", brick)], selected=True)
    outcome = module(addon, "bridge.apply")
    rt = module(addon, "bridge.runtime").get()
    assert bpy.ops.scenario.upscale_image(image_name="brick") == {"FINISHED"}
    record = rt.recent[0]
    view = SimpleNamespace(elapsed=1.0)
    done = SimpleNamespace(image_name="brick_x2", nodes_switched=1, path="/x", width=64,
                           height=64)
    message = outcome._first_outcome(record, view, done, "SELECTED_OBJECTS").message
    assert "1 node now uses 'brick_x2'" in message
    done.nodes_switched = 3
    assert "3 nodes now use 'brick_x2'" in outcome._first_outcome(record, view, done,
                                                                 "SELECTED_OBJECTS").message
    assert f"for {module(addon, 'api.prices').credits_text(record.cost)}" in message, \
        "the finish report says what was paid"
    # The journal's own files say "credits" too: one word everywhere.
    assert "CU" not in json.dumps(texts(panel(addon, "recent")))
