"""The named states of the add-on's jobs, one enum per concept.

Each is a StrEnum: a member equals the string it stands for, and JSON writes it as that string,
so journals written before these names existed load unchanged and new ones read the same.
"""

from __future__ import annotations

from enum import StrEnum


class JobState(StrEnum):
    """A job's state in its journal record (core/journal.py)."""

    PREPARED = "prepared"
    SUBMITTING = "submitting"
    SUBMITTED = "submitted"
    UNCERTAIN = "uncertain"  # a generate whose answer was lost: never sent again
    SUCCEEDED = "succeeded"
    DOWNLOADED = "downloaded"
    APPLIED = "applied"
    FAILED = "failed"
    ABANDONED = "abandoned"  # the user stopped waiting; the job can still be collected
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"  # Scenario accepted the cancel: no result will come


class EventKind(StrEnum):
    """What a worker thread tells the main thread (core/scheduler.py)."""

    PROGRESS = "progress"
    FINISHED = "finished"
    FAILED = "failed"
    CANCELLED = "cancelled"
    QUESTION = "question"


class Stage(StrEnum):
    """What a running job is doing, as it reports it (JobContext.progress)."""

    PREPARING = "preparing"
    UPLOADING = "uploading"
    PRICING = "pricing"
    CONFIRM = "confirm"
    WAITING_SLOT = "waiting-slot"  # every one of the team's slots at Scenario is in use
    SUBMITTING = "submitting"
    GENERATING = "generating"
    DOWNLOADING = "downloading"
    PROCESSING = "processing"
    APPLYING = "applying"
    CANCELLING = "cancelling"
    TILES = "tiles"  # a UDIM set: its tiles' own stages are in the event's detail
    WAITING = "waiting"  # a job that waits for a place (Parallel Jobs)


class ViewStatus(StrEnum):
    """Where a job stands for the UI of this session (bridge/runtime.py)."""

    RUNNING = "running"
    READY = "ready"  # downloaded, waiting to be applied on the main thread
    PRICED = "priced"  # uploaded and priced, nothing paid: a price check, or a batch's first pass
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ItemStatus(StrEnum):
    """An image's line in a batch (core/batch.py)."""

    QUEUED = "queued"  # its job waits to start, or for a place
    RUNNING = "running"
    PRICED = "priced"  # uploaded and priced: it waits for the batch's total to be approved
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"
    DECLINED = "declined"  # the artist answered no to its price: nothing was spent
