"""A service that lies, and a user folder that does, through the add-on enabled in real Blender:
prices that are not numbers are refused before paying, service text with control characters
reaches no report and forges no log line, a generate answered with an error says so, and no
odd journal file keeps the add-on from enabling."""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from pathlib import Path

import bpy
import pytest
import scenes
from conftest import API_KEY, API_SECRET, data_folder
from fake_ui import draw, texts

from emulator.answer_faults import HOSTILE_TEXT

pytestmark = pytest.mark.usefixtures("clean_file", "prefs")

# What no report, console line, journal entry or log line may hold (api/service_text.py).
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
FORGED = re.compile(r"^2030-01-01", re.MULTILINE)
A_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) ")


def module(addon: str, name: str):
    return sys.modules[f"{addon}.{name}"]


def runtime(addon: str):
    return module(addon, "bridge.runtime").get()


def upscale_brick(tmp_path: Path) -> bpy.types.Material:
    material = scenes.material_with("Brick", scenes.texture_file(tmp_path, "brick"))
    scenes.object_with("Wall", [material], selected=True)
    return material


def journal_entry(addon: str, local_id: str) -> dict:
    return json.loads((runtime(addon).journal.folder / f"{local_id}.json").read_text("utf-8"))


def newest(addon: str):
    runtime(addon).refresh_journal()
    return runtime(addon).recent[0]


def log_path(addon: str) -> Path:
    """Where the add-on writes its log (known while it is disabled too)."""
    return data_folder(addon) / "scenario_upscale.log"


class LogFile:
    """The add-on's log file from now on: only what a test wrote is read."""

    def __init__(self, addon: str) -> None:
        self.addon, self.path = addon, log_path(addon)
        self.start = self.path.stat().st_size if self.path.is_file() else 0

    def new_text(self) -> str:
        for handler in logging.getLogger(self.addon).handlers:
            handler.flush()
        with open(self.path, "rb") as handle:
            handle.seek(self.start)
            return handle.read().decode("utf-8")


def assert_one_record_a_line(text: str) -> None:
    """Every line of the log starts a record or continues one: nothing forged in between."""
    continuation = module_attr("core.addon_log", "CONTINUATION")
    for line in text.split("\n")[:-1]:
        assert A_RECORD.match(line) or line.startswith(continuation), repr(line)
    assert not FORGED.search(text) and not UNSAFE.search(text.replace("\n", ""))


def module_attr(name: str, attr: str):
    return getattr(module(ADDON, name), attr)


ADDON = ""


@pytest.fixture(autouse=True)
def _addon_name(addon: str) -> None:
    global ADDON
    ADDON = addon


# --- money ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("rule", [
    {"value": -500}, {"value": float("nan")}, {"value": float("inf")}, {"value": "9"},
    {"value": True}, {"value": None}, {"value": 1e300}, {"missing": True},
], ids=["negative", "NaN", "Infinity", "text", "bool", "null", "huge", "missing"])
def test_a_price_that_is_not_a_usable_number_is_refused_before_paying(
        addon, prefs, emulator, tmp_path, rule) -> None:
    assert prefs.confirm_expensive and prefs.confirm_above_credits == 20.0
    emulator.faults([{"kind": "bad_price", "answer": "dry_run", **rule}])
    upscale_brick(tmp_path)

    with pytest.raises(RuntimeError) as refused:
        bpy.ops.scenario.upscale_image(image_name="brick")

    assert re.search(r"Scenario's price answer was not a usable number \(.+\); nothing was "
                     r"spent\.", str(refused.value)), str(refused.value)
    assert emulator.generates() == [], "no paid generate"
    assert len([r for r in emulator.requests() if (r.get("query") or {}).get("dryRun")]) == 1
    record = newest(addon)
    assert record.state == "failed" and record.quote is None and record.cost is None
    assert "not a usable number" in record.error
    assert [i.name for i in bpy.data.images] == ["brick"], "nothing changed in the scene"


def test_a_price_that_only_informs_is_refused_too(addon, prefs, emulator, tmp_path) -> None:
    prefs.confirm_expensive = False
    try:
        emulator.faults([{"kind": "bad_price", "answer": "dry_run", "value": -500}])
        upscale_brick(tmp_path)
        with pytest.raises(RuntimeError, match=r"\(-500, below zero\); nothing was spent"):
            bpy.ops.scenario.upscale_image(image_name="brick")
    finally:
        prefs.confirm_expensive = True
    assert emulator.generates() == []


def test_a_dry_run_answered_with_a_job_is_never_paid_on_top(addon, prefs, emulator,
                                                           tmp_path) -> None:
    prefs.confirm_expensive = False  # the price only informs: it used to pay a second job
    try:
        emulator.faults([{"kind": "status", "status": 200, "path": "^/v1/generate",
                          "body": {"job": {"jobId": "job_ran", "status": "queued"}}}])
        upscale_brick(tmp_path)
        with pytest.raises(RuntimeError, match=r"ignored the price-only request and may have "
                                               r"started a real job \(job job_ran\)"):
            bpy.ops.scenario.upscale_image(image_name="brick")
    finally:
        prefs.confirm_expensive = True
    assert len(emulator.generates()) == 0 and len(emulator.requests()) == 2  # upload, dry run
    record = newest(addon)
    assert record.state == "uncertain" and record.job_id == "job_ran"


def test_a_garbage_cost_on_the_paid_job_is_shown_as_unknown_never_free(addon, emulator,
                                                                       tmp_path) -> None:
    emulator.faults([{"kind": "bad_price", "answer": ["generate", "job"], "value": -500,
                      "times": None}])
    upscale_brick(tmp_path)

    assert bpy.ops.scenario.upscale_image(image_name="brick") == {"FINISHED"}

    record = newest(addon)
    assert record.state == "applied" and record.quote == 1 and record.cost is None
    assert journal_entry(addon, record.local_id)["cost"] is None
    drawn = draw(module(addon, "ui.panel_recent_jobs").IMAGE_PT_scenario_recent_jobs, None)
    labels = [entry[1] for entry in drawn if isinstance(entry, tuple) and entry[0] == "label"]
    # The newest job is chosen in the list and shown in full: paid, of unknown cost (never 0).
    ours = labels.index("brick → brick_x2.png")
    assert labels[ours + 1].startswith("Applied, ×2, ")
    assert labels[ours + 2] == "Paid; its cost is unknown."
    spending = module(addon, "core.spending")
    assert spending.total_of([record]) == spending.Total(unknown=1)
    assert len(emulator.generates()) == 1


# --- text ----------------------------------------------------------------------------------------

HOSTILE_CASES = {
    "a refused generate's reason": [
        {"kind": "status", "status": 400, "method": "POST", "path": "^/v1/generate",
         "after": 1, "body": {"reason": f"Invalid upscaleFactor {HOSTILE_TEXT}"}}],
    "a failed job's error and hint": [
        {"kind": "job_failure", "error": f"GPU exploded {HOSTILE_TEXT}", "hint": HOSTILE_TEXT},
        {"kind": "hostile_text", "path": "^/v1/jobs/", "times": None}],
    "a paid generate answered 500 with a reason": [
        {"kind": "status", "status": 500, "method": "POST", "path": "^/v1/generate", "after": 1},
        {"kind": "hostile_text", "path": "^/v1/generate", "times": None}],
}


@pytest.mark.parametrize("faults", HOSTILE_CASES.values(), ids=HOSTILE_CASES.keys())
def test_control_characters_from_the_service_reach_no_report_and_forge_no_log_line(
        addon, emulator, tmp_path, capfd, faults) -> None:
    log = LogFile(addon)
    emulator.faults(faults)
    upscale_brick(tmp_path)
    capfd.readouterr()

    with pytest.raises(RuntimeError) as failed:
        bpy.ops.scenario.upscale_image(image_name="brick")

    report = str(failed.value)
    assert "forged record" in report, "the service's words are kept, on one line"
    console = capfd.readouterr()
    record = newest(addon)
    for where, text in {"report": report, "journal": record.error,
                        "console": console.out + console.err}.items():
        assert not UNSAFE.search(text.replace("\n", "")), (where, text)
        assert not FORGED.search(text), (where, text)
    written = log.new_text()
    assert record.local_id in written
    assert_one_record_a_line(written)
    assert len(emulator.generates()) == 1, "sent once"


# --- what happened to the paid request ------------------------------------------------------------


@pytest.mark.parametrize(("fault", "said"), [
    ({"kind": "status", "status": 500},
     "Scenario answered the upscale request with an error (HTTP 500: Internal Server Error)"),
    ({"kind": "status", "status": 503},
     "Scenario answered the upscale request with an error (HTTP 503: Service Unavailable)"),
    ({"kind": "status", "status": 200, "body": {"creativeUnitsCost": 1}},
     "Scenario answered the upscale request (HTTP 200) without naming a job"),
    ({"kind": "drop", "drop_after_processing": True},
     "The connection broke after the upscale request was sent"),
], ids=["500", "503", "200 without a job", "connection broke"])
def test_a_paid_generate_that_may_have_started_says_what_happened_and_is_never_resent(
        addon, emulator, tmp_path, fault, said) -> None:
    emulator.faults([{**fault, "method": "POST", "path": "^/v1/generate", "after": 1}])
    upscale_brick(tmp_path)
    # A file of its own: Recover below looks only at this file's jobs, not other tests'.
    bpy.ops.wm.save_as_mainfile(filepath=str(tmp_path / "wall.blend"))

    with pytest.raises(RuntimeError) as uncertain:
        bpy.ops.scenario.upscale_image(image_name="brick")

    report = str(uncertain.value)
    assert said in report
    assert ("so it is unknown whether Scenario started (and charged for) the job. It was not "
            "sent again, to avoid paying twice: check your jobs on app.scenario.com") in report
    if "connection" not in said:
        assert "connection broke" not in report
    record = newest(addon)
    assert record.state == "uncertain" and said in record.error
    assert len(emulator.generates()) == 1, "exactly one generate"
    bpy.ops.scenario.recover_jobs()
    assert len(emulator.generates()) == 1, "Recover never sends it again"
    assert newest(addon).state == "uncertain"
    bpy.ops.wm.read_homefile(use_empty=True)


# --- one odd journal file never keeps the add-on from enabling -------------------------------------


def journal_folder(addon: str) -> Path:
    return data_folder(addon) / "journal"


def a_good_entry(addon: str, folder: Path, **fields) -> dict:
    """A record as this add-on writes it, with ``fields`` changed."""
    journal = module(addon, "core.journal")
    record = journal.JobRecord(local_id=journal.new_job_id(), source_image="stone",
                               blend_file="/nowhere.blend")
    data = {**record.to_json(), **fields}
    (folder / f"{record.local_id}.json").write_text(json.dumps(data), "utf-8")
    return data


def plant(addon: str, kind: str, folder: Path, outside: Path) -> Path:
    """One odd file of ``kind`` in the journal folder; returns its path."""
    if kind in ("ISO created_at", "history null", "JSON array", "duplicate local id"):
        fields = {"ISO created_at": {"created_at": "2025-01-01T00:00:00Z"},
                  # Recover once ended in AttributeError on this one.
                  "history null": {"history": None, "state": "submitted", "job_id": "job_x",
                                   "blend_file": bpy.data.filepath}}.get(kind, {})
        data = a_good_entry(addon, folder, **fields)
        path = folder / f"{data['local_id']}.json"
        if kind == "JSON array":
            path.write_text(json.dumps([data]))
        if kind == "duplicate local id":  # a second file claiming the same job
            twin = folder / f"{module(addon, 'core.journal').new_job_id()}.json"
            twin.write_text(json.dumps(data))
            return twin
        return path
    path = folder / f"{kind.replace(' ', '-')}.json"
    if kind == "dangling symlink":
        path.symlink_to(folder / "gone.json")
    elif kind == "symlink outside the folder":
        path.symlink_to(outside)
    elif kind == "directory":
        path.mkdir()
    elif kind == "FIFO":  # opening it for reading would block forever
        os.mkfifo(path)
    elif kind == "2 GB file":
        with open(path, "wb") as handle:
            handle.truncate(2 * 1024**3)  # sparse: takes no disk
    elif kind == "non-UTF-8 bytes":
        path.write_bytes(b'{"source_image": "caf\xe9"}')
    return path


ODD_KINDS = ["ISO created_at", "dangling symlink", "history null", "JSON array", "directory",
             "FIFO", "2 GB file", "non-UTF-8 bytes", "duplicate local id",
             "symlink outside the folder"]


def disabled(addon: str) -> None:
    assert bpy.ops.preferences.addon_disable(module=addon) == {"FINISHED"}


def enable(addon: str, emulator, tmp_path: Path) -> None:
    """Enables the add-on as a user would; register() must not fail."""
    assert bpy.ops.preferences.addon_enable(module=addon) == {"FINISHED"}
    assert bpy.context.preferences.addons.get(addon) is not None
    prefs = bpy.context.preferences.addons[addon].preferences
    prefs.api_key, prefs.api_secret = API_KEY, API_SECRET
    prefs.base_url, prefs.output_dir = emulator.root + "/v1", str(tmp_path / "out")


def remove(paths) -> None:
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            path.rmdir()
        elif os.path.lexists(path):
            path.unlink()


@pytest.mark.parametrize("kind", ODD_KINDS)
def test_an_odd_journal_file_is_moved_aside_and_the_add_on_enables(addon, emulator, tmp_path,
                                                                   kind) -> None:
    folder = journal_folder(addon)
    folder.mkdir(parents=True, exist_ok=True)
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps(a_good_entry(addon, tmp_path)))
    outside_bytes = outside.read_bytes()
    disabled(addon)
    before = set(folder.iterdir())
    good = a_good_entry(addon, folder)
    odd = plant(addon, kind, folder, outside)
    log = LogFile(addon)
    try:
        enable(addon, emulator, tmp_path)

        rt = runtime(addon)
        assert good["local_id"] in [r.local_id for r in rt.recent], "the good entries load"
        assert not os.path.lexists(odd), "moved aside"
        [aside] = folder.glob(f"{odd.stem}.damaged-*")
        assert rt.damaged == [aside]
        assert outside.read_bytes() == outside_bytes, "a link's target is never touched"
        shown = texts(draw(module(addon, "ui.panel_recent_jobs").IMAGE_PT_scenario_recent_jobs,
                           None))
        assert "1 damaged journal file kept aside" in shown and "stone" in shown
        written = log.new_text()
        assert f"Journal entry {odd.name} is damaged (" in written
        assert_one_record_a_line(written)
        # Recover finds nothing to do with it (once an AttributeError) and sends nothing.
        assert bpy.ops.scenario.recover_jobs(local_id=odd.stem) == {"CANCELLED"}
        assert emulator.generates() == []
    finally:
        if bpy.context.preferences.addons.get(addon) is None:
            bpy.ops.preferences.addon_enable(module=addon)
        remove(set(folder.iterdir()) - before)
        runtime(addon).refresh_journal()


def test_an_entry_of_a_newer_version_is_listed_and_left_byte_for_byte(addon, emulator,
                                                                      tmp_path) -> None:
    material = upscale_brick(tmp_path)
    assert bpy.ops.scenario.upscale_image(image_name="brick") == {"FINISHED"}
    paid = newest(addon)
    folder = journal_folder(addon)
    disabled(addon)
    before = set(folder.iterdir())
    newer = folder / "9f00000000000099.json"
    newer.write_text(json.dumps({
        "version": 99, "local_id": newer.stem, "source_image": "marble", "state": "teleported",
        "created_at": "2031-01-01T00:00:00Z", "history": None, "blend_file": bpy.data.filepath,
        "job_id": "job_future", "something_new": {"x": [1, 2]}}, indent=2), "utf-8")
    stamp = newer.stat().st_mtime_ns
    bytes_before = newer.read_bytes()
    for kind in ("ISO created_at", "history null", "FIFO"):
        plant(addon, kind, folder, tmp_path / "nowhere.json")
    try:
        enable(addon, emulator, tmp_path)
        rt = runtime(addon)
        assert [(e.local_id, e.version, e.title) for e in rt.newer] == [(newer.stem, 99, "marble")]
        assert newer.stem not in [r.local_id for r in rt.recent]
        assert len(rt.damaged) == 3
        panel = module(addon, "ui.panel_recent_jobs").IMAGE_PT_scenario_recent_jobs
        shown = texts(draw(panel, None))
        assert "marble" in shown and "Written by a newer version of the add-on (journal " \
                                      "version 99): this version leaves it alone" in shown

        # Recover (the paid job, and the newer entry by its id), Forget, a file load that
        # re-reads the journal: none touches it.
        bpy.ops.scenario.revert_image(image_name="brick")
        assert bpy.ops.scenario.recover_jobs(local_id=paid.local_id) == {"FINISHED"}
        assert scenes.texture_nodes(material)[0].image.filepath.endswith("brick_x2.png")
        assert bpy.ops.scenario.recover_jobs(local_id=newer.stem) == {"CANCELLED"}
        assert bpy.ops.scenario.forget_job(local_id=newer.stem) == {"CANCELLED"}
        bpy.ops.wm.read_homefile(use_empty=True)
        runtime(addon).refresh_journal()

        assert newer.read_bytes() == bytes_before and newer.stat().st_mtime_ns == stamp
        assert [e.local_id for e in runtime(addon).newer] == [newer.stem]
        assert len(emulator.generates()) == 1, "re-applying paid nothing"
    finally:
        if bpy.context.preferences.addons.get(addon) is None:
            bpy.ops.preferences.addon_enable(module=addon)
        remove(set(folder.iterdir()) - before)
        runtime(addon).refresh_journal()
