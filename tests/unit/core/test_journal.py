import json
import logging
import os
import stat
import time
from pathlib import Path

import pytest
from scenario_texture_upscale.core import journal as journal_mod
from scenario_texture_upscale.core.journal import (
    JOURNAL_VERSION,
    JobRecord,
    Journal,
    JournalError,
    NewerEntryError,
    new_job_id,
)
from scenario_texture_upscale.core.journal_schema import conforms
from scenario_texture_upscale.core.states import JobState


def record(**changes):
    return JobRecord(local_id=new_job_id(), source_image="brick", **changes)


def test_transition_is_written_before_returning(tmp_path):
    journal = Journal(tmp_path)
    rec = record()
    journal.save(rec)
    journal.transition(rec, JobState.SUBMITTED, job_id="job_1", cost=3.0)

    on_disk = json.loads((tmp_path / f"{rec.local_id}.json").read_text())
    assert on_disk["state"] == "submitted" and on_disk["job_id"] == "job_1"
    assert [h[0] for h in on_disk["history"]] == ["submitted"]
    assert journal.load(rec.local_id).cost == 3.0


def test_entries_are_readable_by_the_user_only(tmp_path):
    journal = Journal(tmp_path)
    rec = record()
    journal.save(rec)
    mode = stat.S_IMODE(os.stat(tmp_path / f"{rec.local_id}.json").st_mode)
    assert mode == 0o600


def test_damaged_entry_is_kept_aside_and_reported(tmp_path):
    journal = Journal(tmp_path)
    good = record()
    journal.save(good)
    (tmp_path / "badbadbad.json").write_text("{not json")

    records, damaged, newer = journal.load_all()

    assert [r.local_id for r in records] == [good.local_id] and newer == []
    assert len(damaged) == 1 and damaged[0].read_text() == "{not json"
    assert not (tmp_path / "badbadbad.json").exists()


def test_recoverable_filters_by_state_and_file(tmp_path):
    journal = Journal(tmp_path)
    states = [JobState.SUBMITTED, JobState.APPLIED, JobState.ABANDONED, JobState.FAILED,
              JobState.SUCCEEDED, JobState.UNCERTAIN]
    for state in states:
        rec = record(blend_file="/a.blend")
        journal.transition(rec, state)
    other = record(blend_file="/b.blend")
    journal.transition(other, JobState.SUBMITTED)

    found = journal.recoverable("/a.blend")
    assert sorted(r.state for r in found) == sorted(
        [JobState.SUBMITTED, JobState.ABANDONED, JobState.SUCCEEDED])
    assert len(journal.recoverable()) == 4


def test_unknown_fields_are_ignored_and_bad_ids_refused(tmp_path):
    journal = Journal(tmp_path)
    rec = record()
    journal.save(rec)
    path = tmp_path / f"{rec.local_id}.json"
    data = json.loads(path.read_text())
    data["from_a_future_version"] = 1
    path.write_text(json.dumps(data))
    assert journal.load(rec.local_id).source_image == "brick"
    try:
        journal.load("../../etc/passwd")
    except JournalError:
        pass
    else:
        raise AssertionError("a path-like id must be refused")


def test_forget_removes_the_entry(tmp_path):
    journal = Journal(tmp_path)
    rec = record()
    journal.save(rec)
    journal.forget(rec.local_id)
    assert journal.load(rec.local_id) is None


def test_a_write_that_skips_fsync_is_still_complete_and_atomic(tmp_path, monkeypatch):
    synced = []
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd))
    journal = Journal(tmp_path)
    rec = record()
    journal.transition(rec, JobState.APPLIED, durable=False)
    assert synced == []
    assert journal.load(rec.local_id).state == JobState.APPLIED
    journal.transition(rec, JobState.SUBMITTED)
    assert len(synced) == 1
    assert not list(tmp_path.glob(".tmp-*"))


# Written by the journal of 1040b8d, when states were bare strings: an abandoned, paid job.
BEFORE_STATES = os.path.join(os.path.dirname(__file__), "data", "journal_before_states")


def test_a_journal_written_before_named_states_loads_and_saves_unchanged(tmp_path):
    name = "0f3a9c2e11d04b7a.json"
    original = json.loads(open(os.path.join(BEFORE_STATES, name), encoding="utf-8").read())
    (tmp_path / name).write_text(json.dumps(original), "utf-8")
    journal = Journal(tmp_path)

    loaded = journal.load("0f3a9c2e11d04b7a")
    assert loaded.state is JobState.ABANDONED
    assert loaded.recoverable and loaded.job_id == "job_abc" and loaded.quote == 4.0
    assert [entry[0] for entry in loaded.history] == ["submitting", "submitted", "abandoned"]
    assert [r.local_id for r in journal.recoverable("/projects/wall.blend")] == [loaded.local_id]

    journal.save(loaded)
    resaved = json.loads((tmp_path / name).read_text("utf-8"))
    assert resaved.pop("updated_at") > original.pop("updated_at")
    # Fields added later come back with their defaults: an old entry was never declined.
    added_since = {"sent_size": [], "declined": False}
    assert loaded.declined is False
    assert resaved == {**original, **added_since}

    journal.transition(loaded, JobState.DOWNLOADED)
    on_disk = json.loads((tmp_path / name).read_text("utf-8"))
    assert on_disk["state"] == "downloaded" and on_disk["history"][-1][0] == "downloaded"



# --- a hostile or damaged journal folder: one odd file never stops the others ---------------------


def good_entry(journal: Journal, **changes) -> JobRecord:
    rec = record(**changes)
    journal.save(rec)
    return rec


REMOVED = object()


def entry_with(tmp_path: Path, **fields) -> Path:
    """An entry file whose fields are a good record's with ``fields`` replaced (or REMOVED)."""
    rec = record()
    data = rec.to_json()
    for name, value in fields.items():
        if value is REMOVED:
            data.pop(name, None)
        else:
            data[name] = value
    path = tmp_path / f"{rec.local_id}.json"
    path.write_text(json.dumps(data), "utf-8")
    return path


def aside_of(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.stem}.damaged-*"))


# Each kind of field of the wrong type or shape (the cases found by the hostile battery first).
WRONG_FIELDS = {
    "created_at as an ISO date": {"created_at": "2025-01-01T00:00:00Z"},
    "history null": {"history": None},
    "history of strings": {"history": ["sending"]},
    "history entry too short": {"history": [["sending"]]},
    "history entry time as text": {"history": [["sending", "now"]]},
    "created_at NaN": {"created_at": float("nan")},
    "updated_at true": {"updated_at": True},
    "state unknown": {"state": "exploded"},
    "state a number": {"state": 3},
    "local_id missing": {"local_id": REMOVED},
    "source_image missing": {"source_image": REMOVED},
    "local_id null": {"local_id": None},
    "source_image a number": {"source_image": 5},
    "local_id a path": {"local_id": "../../etc/passwd"},
    "cost negative": {"cost": -500},
    "quote text": {"quote": "9"},
    "cost huge": {"cost": 1e300},
    "source_size of text": {"source_size": ["1024", "1024"]},
    "source_size of three": {"source_size": [1, 2, 3]},
    "result_size negative": {"result_size": -1},
    "tile a float": {"tile": 1001.5},
    "target_materials of numbers": {"target_materials": [1]},
    "params a list": {"params": [1]},
    "params with a text factor": {"params": {"upscaleFactor": "two"}},
    "fidelity with number keys": {"fidelity": [["a", 1]]},
    "tiles without local ids": {"tiles": [{"tile": 1001, "label": ""}]},
    "tiles with a path as id": {"tiles": [{"tile": 1001, "local_id": "../x"}]},
    "preview variants with a path as id": {"preview": {"variants": [{"local_id": "../x"}]}},
    "preview naming a set by path": {"preview": {"set": "../x"}},
    "tile_set a path": {"tile_set": "../x"},
    "version as text": {"version": "1"},
    "version 0": {"version": 0},
    "version true": {"version": True},
}


@pytest.mark.parametrize("fields", WRONG_FIELDS.values(), ids=WRONG_FIELDS.keys())
def test_an_entry_with_a_field_of_the_wrong_type_is_moved_aside_and_the_rest_load(
        tmp_path, caplog, fields) -> None:
    journal = Journal(tmp_path)
    good = good_entry(journal)
    bad = entry_with(tmp_path, **fields)
    original = bad.read_bytes()

    with caplog.at_level(logging.WARNING):
        records, damaged, newer = journal.load_all()

    assert [r.local_id for r in records] == [good.local_id] and newer == []
    assert damaged == aside_of(bad) and damaged[0].read_bytes() == original
    assert not bad.exists()
    assert f"Journal entry {bad.name} is damaged" in caplog.text
    assert journal.load_all().damaged == [], "moved aside once, never read again"


def test_each_field_is_checked_against_its_declared_type() -> None:
    # The schema is JobRecord's annotations: every field of a fresh record conforms to its own.
    data = record().to_json()
    for name, hint in journal_mod._FIELD_TYPES.items():
        assert name not in data or conforms(data[name], hint), name
    assert journal_mod._REQUIRED_FIELDS == ("local_id", "source_image")
    assert not conforms(1, complex), "an unknown kind of field fails closed"


def unreadable_kinds(tmp_path: Path, outside: Path) -> dict[str, Path]:
    """Every kind of file a damaged or hostile folder may hold under an entry's name."""
    made: dict[str, Path] = {}
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "nowhere.json")
    made["dangling link"] = dangling
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.symlink_to(outside)
    made["link to a good entry outside the folder"] = elsewhere
    folder = tmp_path / "folder.json"
    folder.mkdir()
    made["folder"] = folder
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    made["pipe (opening it would block)"] = fifo
    huge = tmp_path / "huge.json"
    with open(huge, "wb") as handle:
        handle.truncate(2 * 1024**3)  # 2 GB, sparse: never read
    made["2 GB file"] = huge
    made["not UTF-8"] = tmp_path / "latin.json"
    made["not UTF-8"].write_bytes(b'{"source_image": "caf\xe9"}')
    made["a JSON array"] = tmp_path / "array.json"
    made["a JSON array"].write_text(json.dumps([record().to_json()]))
    made["a JSON string"] = tmp_path / "text.json"
    made["a JSON string"].write_text('"entry"')
    made["empty"] = tmp_path / "empty.json"
    made["empty"].write_bytes(b"")
    made["nested ten thousand deep"] = tmp_path / "deep.json"
    made["nested ten thousand deep"].write_text("[" * 10000 + "]" * 10000)
    made["a number too long to read"] = tmp_path / "digits.json"
    made["a number too long to read"].write_text('{"created_at": ' + "9" * 5000 + "}")
    return made


def test_every_kind_of_odd_file_is_moved_aside_and_the_good_entries_load(tmp_path,
                                                                         caplog) -> None:
    folder = tmp_path / "journal"
    folder.mkdir()
    journal = Journal(folder)
    first, second = good_entry(journal), good_entry(journal)
    outside_entry = tmp_path / "outside" / "x.json"
    outside_entry.parent.mkdir()
    outside_entry.write_text(json.dumps(record().to_json()))
    outside_bytes = outside_entry.read_bytes()
    odd = unreadable_kinds(folder, outside_entry)

    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        records, damaged, newer = journal.load_all()

    assert time.monotonic() - started < 5, "nothing blocked, nothing huge was read"
    assert sorted(r.local_id for r in records) == sorted([first.local_id, second.local_id])
    assert newer == [] and len(damaged) == len(odd)
    for kind, path in odd.items():
        assert not os.path.lexists(path), kind
        assert len(aside_of(path)) == 1, kind
        assert f"Journal entry {path.name} is damaged" in caplog.text, kind
    assert outside_entry.read_bytes() == outside_bytes, "a link is moved, never its target"
    assert journal.load_all() == ([r for r in records], [], [])


def test_an_entry_saved_by_an_editor_with_a_bom_still_loads(tmp_path) -> None:
    journal = Journal(tmp_path)
    rec = good_entry(journal)
    path = tmp_path / f"{rec.local_id}.json"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert [r.local_id for r in journal.load_all().records] == [rec.local_id]


def test_an_entry_that_names_another_job_is_moved_aside(tmp_path) -> None:
    # Two files claiming the same job: only the one whose name is the job's id counts.
    journal = Journal(tmp_path)
    good = good_entry(journal)
    twin = tmp_path / f"{new_job_id()}.json"
    twin.write_bytes((tmp_path / f"{good.local_id}.json").read_bytes())
    records, damaged, _ = journal.load_all()
    assert [r.local_id for r in records] == [good.local_id]
    assert damaged == aside_of(twin)


def test_a_name_taken_by_an_earlier_damaged_file_is_not_overwritten(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(time, "time", lambda: 1_800_000_000.0)
    journal = Journal(tmp_path)
    earlier = tmp_path / "bad.damaged-1800000000"
    earlier.write_text("first")
    (tmp_path / "bad.json").write_text("second")
    _, damaged, _ = journal.load_all()
    assert damaged == [tmp_path / "bad.damaged-1800000000-1"]
    assert earlier.read_text() == "first" and damaged[0].read_text() == "second"


def test_a_damaged_entry_that_cannot_be_moved_is_skipped_and_logged(tmp_path, monkeypatch,
                                                                     caplog) -> None:
    journal = Journal(tmp_path)
    good = good_entry(journal)
    (tmp_path / "bad.json").write_text("[]")

    def refuse(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    with caplog.at_level(logging.WARNING):
        records, damaged, _ = journal.load_all()
    assert [r.local_id for r in records] == [good.local_id] and damaged == []
    assert "could not be moved aside" in caplog.text and (tmp_path / "bad.json").exists()


def test_an_unreadable_folder_lists_nothing_and_raises_nothing(tmp_path, monkeypatch, caplog) -> None:
    journal = Journal(tmp_path)
    good_entry(journal)

    def refuse(path):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "scandir", refuse)
    with caplog.at_level(logging.WARNING):
        assert journal.load_all() == ([], [], [])
    assert "cannot be read" in caplog.text
    assert Journal(tmp_path / "not yet").load_all() == ([], [], [])


def newer_entry(tmp_path: Path, version: int = 99) -> Path:
    rec = record()
    data = {**rec.to_json(), "version": version, "state": "teleported",
            "created_at": "2031-01-01T00:00:00Z", "history": None, "new_field": {"x": 1}}
    path = tmp_path / f"{rec.local_id}.json"
    path.write_text(json.dumps(data, indent=1), "utf-8")
    return path


def test_an_entry_of_a_newer_version_is_listed_and_left_exactly_as_it_is(tmp_path,
                                                                         caplog) -> None:
    journal = Journal(tmp_path)
    good = good_entry(journal)
    path = newer_entry(tmp_path)
    before, stamp = path.read_bytes(), os.stat(path).st_mtime_ns

    with caplog.at_level(logging.INFO):
        records, damaged, newer = journal.load_all()
        journal.load_all()

    assert [r.local_id for r in records] == [good.local_id] and damaged == []
    [entry] = newer
    assert (entry.path, entry.version, entry.title, entry.local_id) == (
        path, 99, "brick", path.stem)
    assert "written by a newer version of the add-on (journal version 99)" in caplog.text
    with pytest.raises(NewerEntryError, match="newer version"):
        journal.load(path.stem)
    assert journal.forget(path.stem) is False
    assert journal.recoverable() == []
    assert path.read_bytes() == before and os.stat(path).st_mtime_ns == stamp
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [path.name, f"{good.local_id}.json"])
    assert JOURNAL_VERSION < 99


def test_forgetting_a_set_leaves_a_newer_versions_tile_and_never_loops(tmp_path) -> None:
    journal = Journal(tmp_path)
    newer_tile = newer_entry(tmp_path)
    plain_tile = good_entry(journal)
    the_set = record()
    the_set.tiles = [{"tile": 1001, "label": "", "local_id": newer_tile.stem},
                     {"tile": 1002, "label": "", "local_id": plain_tile.local_id},
                     {"tile": 1003, "label": "", "local_id": the_set.local_id}]
    journal.save(the_set)

    assert journal.forget(the_set.local_id) is True
    assert sorted(p.name for p in tmp_path.iterdir()) == [newer_tile.name]


def test_a_damaged_entry_is_not_forgotten_by_load(tmp_path) -> None:
    path = entry_with(tmp_path, history=None)
    with pytest.raises(JournalError, match="'history' should be a list"):
        Journal(tmp_path).load(path.stem)
    assert Journal(tmp_path).forget(path.stem) is False and path.exists()


def test_a_declined_job_is_journaled_as_such_and_an_older_add_on_can_still_read_it(tmp_path):
    journal = Journal(tmp_path)
    declined = record()
    journal.transition(declined, JobState.FAILED, error="Declined at 30 credits; nothing was "
                       "spent.", declined=True)
    assert journal.load(declined.local_id).declined is True
    on_disk = json.loads((tmp_path / f"{declined.local_id}.json").read_text("utf-8"))
    # Its state is one every version knows (an older add-on would move aside an entry whose
    # state it does not know); the mark is a field of its own, which older ones ignore.
    assert on_disk["state"] == "failed" and on_disk["declined"] is True
    on_disk["declined"] = "yes"
    (tmp_path / f"{declined.local_id}.json").write_text(json.dumps(on_disk), "utf-8")
    assert journal.load_all().records == [] and len(list(tmp_path.glob("*.damaged-*"))) == 1
