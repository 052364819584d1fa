"""The marks around the paid request in a job's journal record, and what they tell: whether the
request may have reached Scenario, and whether the job has its result."""

from __future__ import annotations

import time
from pathlib import Path

from .journal import JobRecord, Journal
from .states import JobState

# Marks in a record's history around the paid POST: 'sending' is written just before it leaves,
# 'refused' after Scenario refused it with 429 (which creates nothing).
SENDING, REFUSED = "sending", "refused"


def was_sent(record: JobRecord) -> bool:
    """Whether a paid generate may have reached Scenario: the last mark is 'sending'."""
    marks = [entry[0] for entry in record.history if entry[0] in (SENDING, REFUSED)]
    return bool(marks) and marks[-1] == SENDING


def unsent(record: JobRecord) -> bool:
    """Never sent to be paid for (a sent one whose answer was lost is not: it may be paid)."""
    return record.state in (JobState.PREPARED, JobState.SUBMITTING) and not was_sent(record)


def has_result(record: JobRecord) -> bool:
    """Its result file is on disk (a part of a UDIM or preview set redone later is skipped)."""
    return (record.state in (JobState.DOWNLOADED, JobState.APPLIED)
            and Path(record.result_path).is_file())


def mark(record: JobRecord, journal: Journal, kind: str) -> None:
    """Writes ``kind`` (SENDING or REFUSED) into the record's history, on disk at once."""
    record.history.append([kind, round(time.time(), 3)])
    journal.save(record)
