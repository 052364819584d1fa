import json
import os
import stat

from scenario_texture_upscale.core import journal as J


def record(**changes):
    return J.JobRecord(local_id=J.new_job_id(), source_image="brick", **changes)


def test_transition_is_written_before_returning(tmp_path):
    journal = J.Journal(tmp_path)
    rec = record()
    journal.save(rec)
    journal.transition(rec, J.SUBMITTED, job_id="job_1", cost=3.0)

    on_disk = json.loads((tmp_path / f"{rec.local_id}.json").read_text())
    assert on_disk["state"] == "submitted" and on_disk["job_id"] == "job_1"
    assert [h[0] for h in on_disk["history"]] == ["submitted"]
    assert journal.load(rec.local_id).cost == 3.0


def test_entries_are_readable_by_the_user_only(tmp_path):
    journal = J.Journal(tmp_path)
    rec = record()
    journal.save(rec)
    mode = stat.S_IMODE(os.stat(tmp_path / f"{rec.local_id}.json").st_mode)
    assert mode == 0o600


def test_damaged_entry_is_kept_aside_and_reported(tmp_path):
    journal = J.Journal(tmp_path)
    good = record()
    journal.save(good)
    (tmp_path / "badbadbad.json").write_text("{not json")

    records, damaged = journal.load_all()

    assert [r.local_id for r in records] == [good.local_id]
    assert len(damaged) == 1 and damaged[0].read_text() == "{not json"
    assert not (tmp_path / "badbadbad.json").exists()


def test_recoverable_filters_by_state_and_file(tmp_path):
    journal = J.Journal(tmp_path)
    states = [J.SUBMITTED, J.APPLIED, J.ABANDONED, J.FAILED, J.SUCCEEDED, J.UNCERTAIN]
    for state in states:
        rec = record(blend_file="/a.blend")
        journal.transition(rec, state)
    other = record(blend_file="/b.blend")
    journal.transition(other, J.SUBMITTED)

    found = journal.recoverable("/a.blend")
    assert sorted(r.state for r in found) == sorted([J.SUBMITTED, J.ABANDONED, J.SUCCEEDED])
    assert len(journal.recoverable()) == 4


def test_unknown_fields_are_ignored_and_bad_ids_refused(tmp_path):
    journal = J.Journal(tmp_path)
    rec = record()
    journal.save(rec)
    path = tmp_path / f"{rec.local_id}.json"
    data = json.loads(path.read_text())
    data["from_a_future_version"] = 1
    path.write_text(json.dumps(data))
    assert journal.load(rec.local_id).source_image == "brick"
    try:
        journal.load("../../etc/passwd")
    except J.JournalError:
        pass
    else:
        raise AssertionError("a path-like id must be refused")


def test_forget_removes_the_entry(tmp_path):
    journal = J.Journal(tmp_path)
    rec = record()
    journal.save(rec)
    journal.forget(rec.local_id)
    assert journal.load(rec.local_id) is None


def test_a_write_that_skips_fsync_is_still_complete_and_atomic(tmp_path, monkeypatch):
    synced = []
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd))
    journal = J.Journal(tmp_path)
    rec = record()
    journal.transition(rec, J.APPLIED, durable=False)
    assert synced == []
    assert journal.load(rec.local_id).state == J.APPLIED
    journal.transition(rec, J.SUBMITTED)
    assert len(synced) == 1
    assert not list(tmp_path.glob(".tmp-*"))
