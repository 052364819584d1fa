"""A UDIM set on a worker thread: one pipeline job per tile, priced as one, finished as one.

Each tile is an ordinary job with its own journal record; the set's own record lists them and is
what Recent Jobs shows and Recover resumes. Two passes: the unpaid tiles are uploaded and priced
(both free), the set's total is approved once, then every tile runs to its result file. The set
is complete only when every tile has its file. Until then its record stays recoverable once any
tile was paid, and Recover pays only for the tiles that never got a result.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..api import errors
from ..api.wording import counted, plural, verb
from . import job_text, pipeline, sent_marks, spend_policy, spending, upscale_job
from .batch import live_text
from .journal import JobRecord, Journal
from .naming import UDIM_TOKEN, reserve_tile_names, upscaled_stem
from .scheduler import Event, JobCancelled, JobContext
from .states import JobState, Stage


@dataclass
class SetJob:
    """What the main thread hands to a worker for a UDIM set: plain data, no bpy."""

    record: JobRecord  # the set's; ``record.tiles`` names the tiles' records
    tiles: list[upscale_job.UpscaleJob]  # one per tile, each with ``record.tile_set`` set
    spend: spend_policy.SpendPolicy = field(default_factory=lambda: spend_policy.SpendPolicy())


@dataclass(frozen=True)
class TileProgress:
    """One tile as the panel shows it."""

    tile: int
    text: str
    done: bool = False


@dataclass(frozen=True)
class SetResult:
    local_id: str
    path: str  # the tiles' files, with the UDIM token
    tiles: int
    cost: float | None
    seconds: float


class TileFailed(errors.ScenarioError):
    """Some tiles ended without a result; the message names them and says what is kept."""


def run(job: SetJob, ctx: JobContext, journal: Journal, connect: upscale_job.ClientFactory
        ) -> SetResult:
    started = time.monotonic()
    record = job.record
    journal.save_new(record)  # the set is on disk before any of its tiles
    board = _Board(ctx, job)
    unpaid = [tile for tile in job.tiles if sent_marks.unsent(tile.record)]
    try:
        if unpaid:
            _price_and_approve(job, ctx, journal, connect, board, unpaid)
        _reserve_names(job, journal)
        approved = spend_policy.SpendPolicy(quote=False)  # the set's price was approved above
        for tile in job.tiles:
            tile.spend = approved
        outcomes = _each(ctx, board, [t for t in job.tiles if not sent_marks.has_result(t.record)],
                         lambda tile, tctx: pipeline.run(tile, tctx, journal, connect),
                         final=True)
    except JobCancelled:
        _end_unsent(job.tiles, journal, job_text.CANCELLED_UNPAID)
        _end_set(job, journal, JobState.FAILED, job_text.CANCELLED_UNPAID)
        raise
    if ctx.cancelled:
        _end_cancelled(job, journal)
        raise JobCancelled()
    failed = {tile: exc for tile, exc in outcomes.items() if isinstance(exc, BaseException)}
    if failed:
        message = _failure_message(job, failed)
        _end_set(job, journal, JobState.FAILED, message)
        raise TileFailed(message)
    costs = [t.record.cost for t in job.tiles]
    cost = None if any(c is None for c in costs) else sum(c for c in costs if c is not None)
    journal.transition(record, JobState.DOWNLOADED, cost=cost, error="",
                       fidelity={"tiles": {str(t.record.tile): t.record.fidelity
                                           for t in job.tiles}},
                       tiles=_tile_entries(job))
    return SetResult(record.local_id, record.result_path, len(job.tiles), cost,
                     time.monotonic() - started)


def price(job: SetJob, ctx: JobContext, journal: Journal, connect: upscale_job.ClientFactory
          ) -> float | None:
    """Uploads and prices the set's unpaid tiles, paying nothing (a price check, or the first
    pass of a batch): their total, None when no price was wanted or had. ``run`` on the same
    job then goes on from there without uploading or pricing again."""
    record = job.record
    journal.save_new(record)
    unpaid = [tile for tile in job.tiles if sent_marks.unsent(tile.record)]
    try:
        return _price_tiles(job, ctx, journal, connect, _Board(ctx, job), unpaid)
    except JobCancelled:
        _end_unsent(job.tiles, journal, job_text.CANCELLED_UNPAID)
        _end_set(job, journal, JobState.FAILED, job_text.CANCELLED_UNPAID)
        raise


def end_unpaid(job: upscale_job.UpscaleJob | SetJob, journal: Journal,
               refusal: spending.NotSpent, durable: bool = True) -> None:
    """Ends a priced job (an image's or a set's) that will not be paid: declined, a
    rehearsal, or above the limit with nobody to confirm."""
    if isinstance(job, SetJob):
        _end_unsent(job.tiles, journal, refusal.message, declined=refusal.declined,
                    durable=durable)
        _end_set(job, journal, JobState.FAILED, refusal.message, declined=refusal.declined,
                 durable=durable)
    else:
        journal.transition(job.record, JobState.FAILED, durable, error=refusal.message,
                           declined=refusal.declined)


def _price_tiles(job: SetJob, ctx: JobContext, journal: Journal, connect: upscale_job.ClientFactory,
                 board: _Board, unpaid: list[upscale_job.UpscaleJob]) -> float | None:
    """Uploads and prices every unpaid tile; their total (None when there is no price)."""
    for tile in unpaid:
        tile.spend = job.spend
    outcomes = _each(ctx, board, unpaid,
                     lambda tile, tctx: pipeline.price(tile, tctx, journal, connect),
                     final=False)
    ctx.check_cancelled()
    failed = {tile: exc for tile, exc in outcomes.items() if isinstance(exc, BaseException)
              and not isinstance(exc, JobCancelled)}
    if failed:
        _end_unsent(unpaid, journal, "Not sent: another tile of the set failed first; nothing "
                    "was charged.", failed)
        message = _failure_message(job, failed)
        _end_set(job, journal, JobState.FAILED, message)
        raise errors.ScenarioError(message)
    costs = [cost for cost in outcomes.values() if isinstance(cost, (int, float))]
    return sum(costs) if costs and len(costs) == len(unpaid) else None


def _price_and_approve(job: SetJob, ctx: JobContext, journal: Journal,
                       connect: upscale_job.ClientFactory, board: _Board,
                       unpaid: list[upscale_job.UpscaleJob]) -> None:
    """First pass: uploads and prices every unpaid tile, then asks once for their total."""
    total = _price_tiles(job, ctx, journal, connect, board, unpaid)
    if not job.spend.must_know or total is None:
        return
    refusal = spend_policy.spend_refusal(job.spend, ctx, total, job.record.source_image,
                                         tiles=len(unpaid))
    if refusal is not None:
        _end_unsent(unpaid, journal, refusal.message, declined=refusal.declined)
        _end_set(job, journal, JobState.FAILED, refusal.message, declined=refusal.declined)
        raise spend_policy.NotSpentError.of(refusal)


def _each(ctx: JobContext, board: _Board, tiles: list[upscale_job.UpscaleJob],
          step: Callable[[upscale_job.UpscaleJob, JobContext], Any], final: bool
          ) -> dict[int, Any]:
    """Runs ``step`` for each tile as a job of the scheduler's, feeding their progress to the
    board. Returns each tile's result, or the exception it raised, by tile number. In the first
    pass (not ``final``) one failure stops the others: nothing is paid yet. In the final pass
    every tile goes on, as each is paid for."""
    outcomes = ctx.run_parts(
        tiles, step, lambda tile: tile.record.local_id,
        lambda tile, event: board.progress(tile.record.tile, event),
        lambda tile, exc: board.ended(tile.record.tile, exc, finished=final),
        stop_at_first_failure=not final)
    return {tile.record.tile: outcomes[tile.record.local_id] for tile in tiles}


def _reserve_names(job: SetJob, journal: Journal) -> None:
    """Chooses the set's file names once, before any tile is paid, so a set never overwrites
    another set nor is mixed with one; a tile redone later keeps its number's name."""
    record = job.record
    if not record.result_path:
        folder = Path(record.output_dir)
        stem = upscaled_stem(record.output_stem, record.factor)
        name = reserve_tile_names(folder, stem, [t.record.tile for t in job.tiles])
        journal.transition(record, JobState.SUBMITTED, result_path=str(folder / name))
    elif record.state != JobState.SUBMITTED:
        journal.transition(record, JobState.SUBMITTED)
    pattern = Path(record.result_path).name
    for tile in job.tiles:
        if not tile.record.output_name:
            tile.record.output_name = pattern.replace(UDIM_TOKEN, str(tile.record.tile))
            journal.save(tile.record)


def _end_unsent(tiles: list[upscale_job.UpscaleJob], journal: Journal, reason: str,
                own: dict[int, BaseException] | None = None, declined: bool = False,
                durable: bool = True) -> None:
    """Ends the tiles that were never sent (uploaded or priced at most): nothing was paid.
    A tile that failed itself keeps its own reason (``own``)."""
    for tile in tiles:
        if sent_marks.unsent(tile.record):
            error = (own or {}).get(tile.record.tile)
            journal.transition(tile.record, JobState.FAILED, durable,
                               error=str(error) if error else reason,
                               declined=declined and error is None)


def _paid(job: SetJob) -> list[upscale_job.UpscaleJob]:
    return [t for t in job.tiles if t.record.recoverable or t.record.state == JobState.APPLIED]


def _end_set(job: SetJob, journal: Journal, unpaid_state: JobState, message: str,
             declined: bool = False, durable: bool = True) -> None:
    """The set did not complete. Recoverable (submitted) when a tile was paid, so Recover can
    finish it; else ended with ``unpaid_state``."""
    paid = _paid(job)
    state = JobState.SUBMITTED if paid else unpaid_state
    journal.transition(job.record, state, durable, error=message, tiles=_tile_entries(job),
                       declined=declined and not paid)


def _end_cancelled(job: SetJob, journal: Journal) -> None:
    if _paid(job):
        journal.transition(job.record, JobState.ABANDONED, tiles=_tile_entries(job))
    elif any(t.record.state == JobState.CANCELLED for t in job.tiles):
        job_ids = ", ".join(t.record.job_id for t in job.tiles if t.record.job_id)
        journal.transition(job.record, JobState.CANCELLED, error=job_text.cancelled_at_service(job_ids))
    else:
        journal.transition(job.record, JobState.FAILED, error=job_text.CANCELLED_UNPAID)


def _failure_message(job: SetJob, failed: dict[int, BaseException]) -> str:
    named = "; ".join(f"tile {tile}: {exc}" for tile, exc in sorted(failed.items()))
    paid = [t for t in _paid(job) if t.record.tile not in failed]
    if not paid:
        return f"The UDIM set '{job.record.source_image}' was not upscaled ({named})."
    return (f"The UDIM set '{job.record.source_image}' is not complete ({named}). The scene is "
            f"unchanged. The {counted(len(paid), 'tile')} already paid for "
            f"{verb(len(paid), 'is', 'are')} kept: use Recover in Recent Jobs to finish the set; "
            "it pays only for the tiles without a result.")


def _tile_entries(job: SetJob) -> list[dict[str, Any]]:
    """The set record's list of its tiles, with the job that made each one (provenance)."""
    labels = {int(entry["tile"]): entry.get("label", "") for entry in job.record.tiles}
    return [{"tile": t.record.tile, "label": labels.get(t.record.tile, ""),
             "local_id": t.record.local_id, "job_id": t.record.job_id,
             "asset_id": t.record.result_asset_ids[0] if t.record.result_asset_ids else "",
             "size": list(t.record.source_size)}
            for t in job.tiles]


class _Board:
    """Each tile's stage, reported to the set's view as one progress event."""

    def __init__(self, ctx: JobContext, job: SetJob) -> None:
        self.ctx = ctx
        self.text = {t.record.tile: ("Done" if sent_marks.has_result(t.record) else "Queued")
                     for t in job.tiles}
        self.done = {t.record.tile for t in job.tiles if sent_marks.has_result(t.record)}

    def progress(self, tile: int, event: Event) -> None:
        self.text[tile] = _stage_text(event)
        self.report()

    def ended(self, tile: int, exc: BaseException | None, finished: bool) -> None:
        """A tile's pass ended: ``finished`` when that pass gives it its result."""
        if exc is not None:
            self.text[tile] = "Stopped" if isinstance(exc, JobCancelled) else "Failed"
        elif finished:
            self.text[tile] = "Done"
            self.done.add(tile)
        else:
            self.text[tile] = "Priced"
        self.report()

    def report(self) -> None:
        total = len(self.text)
        tiles = tuple(TileProgress(tile, text, tile in self.done)
                      for tile, text in sorted(self.text.items()))
        self.ctx.progress(Stage.TILES, len(self.done) / total if total else None,
                          f"{len(self.done)} of {total} {plural(total, 'tile')} done", detail=tiles)


def _stage_text(event: Event) -> str:
    return live_text(event.stage, event.message, event.fraction)

