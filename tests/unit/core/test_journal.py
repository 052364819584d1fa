import json
import os
import stat

from scenario_texture_upscale.core.journal import JobRecord, Journal, JournalError, new_job_id
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

    records, damaged = journal.load_all()

    assert [r.local_id for r in records] == [good.local_id]
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
    added_since = {"sent_size": []}  # fields added later come back with their defaults
    assert resaved == {**original, **added_since}

    journal.transition(loaded, JobState.DOWNLOADED)
    on_disk = json.loads((tmp_path / name).read_text("utf-8"))
    assert on_disk["state"] == "downloaded" and on_disk["history"][-1][0] == "downloaded"
