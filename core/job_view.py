"""What the panels show of one job, updated on the main thread from the events its worker sends
(bridge/runtime.py folds them in): its stage, progress, message and outcome. No bpy."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from . import addon_log, batch, job_text, udim_set
from .journal import JobRecord
from .states import Stage, ViewStatus

OPEN_LOG_HINT = "Open Log in Recent Jobs opens it"


@dataclass
class JobView:
    """What the UI shows of one job; updated only on the main thread."""

    local_id: str
    title: str
    record: JobRecord | None = None
    status: ViewStatus = ViewStatus.RUNNING
    stage: str = Stage.PREPARING
    stage_since: float = field(default_factory=time.monotonic)  # when a tick first saw it
    label: str = ""
    fraction: float | None = None
    message: str = ""
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    result: Any = None
    error: BaseException | None = None
    question: Any = None  # a PriceQuestion while the job waits for the user's yes or no
    estimate: tuple[str, ...] = ()  # the result's file size and memory, for the panel
    output_pixels: int = 0  # of the result, when known: small ones are fetched in a blink
    tiles: tuple[udim_set.TileProgress, ...] = ()  # a UDIM set's tiles, as they go
    priced_only: bool = False  # ends PRICED, its price as its result (see Runtime.start_price)

    @property
    def elapsed(self) -> float:
        return (self.ended or time.monotonic()) - self.started

    @property
    def failure_report(self) -> str:
        """What a report says of a failed job: why, and where its log lines are (they carry
        its id), with the button that opens them."""
        message = self.message or "The job failed."
        log_file = addon_log.file_path()
        where = f" {log_file}" if log_file and str(log_file) not in message else ""
        return f"{message} (job {self.local_id} in the add-on's log{where}: {OPEN_LOG_HINT})"

    @property
    def stage_text(self) -> str:
        """What the job is doing, in the words every panel and the command line use."""
        if self.status == ViewStatus.READY:
            return job_text.STAGE_TEXT[Stage.APPLYING]
        running = self.status == ViewStatus.RUNNING
        return batch.live_text(self.stage, self.label, self.fraction if running else None)

    @property
    def stage_word(self) -> str:
        """``stage_text`` in a word or two (a list's status column): the same facts."""
        if self.question is not None:
            return "Confirm"
        if self.status == ViewStatus.READY:
            return self.stage_text
        running = self.status == ViewStatus.RUNNING
        return batch.short_text(self.stage, self.label, self.fraction if running else None)
