"""One upscale, from a snapshot of the source to a result file on disk, run in a worker thread.

The pipeline is a small state machine over the journal record: each step moves the record to the
next state and writes it before anything is spent or changed. The same steps finish a job after a
crash or a quit (``recover``): a job that reached ``submitting`` is never sent again.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from ..api import errors, lora_check, model_check
from ..api.client import ScenarioClient
from ..api.models import Job
from ..api.params import UpscaleParams
from ..api.prices import credits_text, price_problem, unusable_price_message
from ..api.service_text import clean_text
from ..api.wording import counted
from . import offload, png, spending
from .fidelity import (
    FidelityPlan,
    SourceAnalysis,
    analyse_source,
    finish_result,
    pad_source,
    pixel_count,
    prepare_pixels,
    result_needs_pixels,
)
from .imagefile import FILE_EXTENSIONS, ImageHeaderError, read_image_header, sniff_format
from .journal import JobRecord, Journal
from .naming import reserve_unique_path, upscaled_file_name
from .polling import PollSchedule
from .result_check import ResultLimits, check_result
from .scheduler import JobCancelled, JobContext
from .source import (
    PixelSource,
    Source,
    SourceUnavailable,
    check_intact,
    prepare_upload,
)
from .spend_ledger import SpendLedger
from .spending import NotSpent
from .states import JobState, Stage
from .team_slots import Slot, SlotWaitExpired

log = logging.getLogger(__name__)

# Job statuses as the user reads them in the panel.
STAGE_LABELS = {
    "pending": "Queued",
    "queued": "Queued",
    "warming-up": "Warming up",
    "in-progress": "Generating",
    "finalizing": "Finalizing",
    "success": "Done",
}
# The stages a job reports (JobContext.progress), as the panel names them.
STAGE_TEXT: dict[str, str] = {
    Stage.PREPARING: "Preparing",
    Stage.UPLOADING: "Uploading",
    Stage.PRICING: "Pricing",
    Stage.CONFIRM: "Waiting for your confirmation",
    Stage.WAITING_SLOT: "Waiting for a free slot at Scenario",
    Stage.SUBMITTING: "Submitting",
    Stage.GENERATING: "Generating",
    Stage.DOWNLOADING: "Downloading",
    Stage.PROCESSING: "Processing",
    Stage.APPLYING: "Applying",
    Stage.CANCELLING: "Asking Scenario to cancel",
}
DEFAULT_TIMEOUT_S = 30 * 60.0
DEFAULT_MAX_DOWNLOAD_BYTES = 512 * 1024 * 1024

ClientFactory = Callable[[JobContext], ScenarioClient]
T = TypeVar("T")


@dataclass(frozen=True)
class SpendPolicy:
    """When to ask Scenario for the price before paying, and what to do with it."""

    quote: bool = True
    never_spend: bool = False  # rehearsal: stop before the paid call
    confirm_above: float | None = None  # credits; above this the user must say yes
    can_ask: bool = True  # False in background mode: nobody is there to confirm
    # Shared by a batch's jobs: the limit then applies to the batch's total.
    ledger: SpendLedger | None = field(default=None, compare=False)

    @property
    def must_know(self) -> bool:
        """Whether the price decides anything (not only shown)."""
        return self.never_spend or self.confirm_above is not None


@dataclass(frozen=True)
class PriceQuestion:
    """What the worker asks the main thread before spending above the limit."""

    cost: float
    limit: float
    batch_total: float | None = None  # the batch's credits with this image, for a batch
    tiles: int = 0  # for a UDIM set: how many tiles ``cost`` pays for
    images: int = 0  # for a batch priced whole: how many images ``cost`` pays for
    previews: int = 0  # for previews (core/preview.py): how many ``cost`` pays for
    note: str = ""  # for previews: the crop, and what the whole texture would cost


class NotSpentError(errors.ScenarioError):
    """The job stopped before the paid call, by the user's rules; nothing was charged.
    ``by_choice`` when it is the artist's own decision (Don't Pay, a rehearsal): no failure."""

    def __init__(self, message: str, *, by_choice: bool = False, declined: bool = False) -> None:
        super().__init__(message)
        self.by_choice, self.declined = by_choice, declined

    @classmethod
    def of(cls, refusal: NotSpent) -> NotSpentError:
        return cls(refusal.message, by_choice=refusal.by_choice, declined=refusal.declined)


@dataclass
class UpscaleJob:
    """What the main thread hands to a worker: plain data, no bpy."""

    record: JobRecord
    params: UpscaleParams
    work_dir: Path
    source: Source | None = None
    style_sources: list[Source] = field(default_factory=list)
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_download_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES
    fidelity: FidelityPlan = field(default_factory=FidelityPlan)
    limits: ResultLimits = field(default_factory=ResultLimits)
    spend: SpendPolicy = field(default_factory=lambda: SpendPolicy())
    # Filled in the worker while Scenario works; not journaled (pixels), recomputed if needed.
    analysis: SourceAnalysis | None = None
    # The session's LoRA answers: shared by every job, so an id is looked up once.
    loras: lora_check.LoraCheck = field(default_factory=lambda: lora_check.SESSION,
                                        compare=False, repr=False)
    # The session's look at the upscale model: shared the same way.
    model: model_check.ModelCheck = field(default_factory=lambda: model_check.SESSION,
                                          compare=False, repr=False)
    # The team slot this job holds from its paid generate until Scenario ends it.
    slot: Slot | None = field(default=None, compare=False, repr=False)
    # Uploads a price check of the same image already made: the sha256 of the bytes sent →
    # Scenario's asset id. Bytes found here are not sent again (see ``_send``).
    reuse: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    # A price check keeps what it sent (``uploads``), for the upscale that follows.
    keep_uploads: bool = False
    uploads: dict[str, str] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class UpscaleResult:
    local_id: str
    path: str
    size: int
    sha256: str
    job_id: str
    asset_id: str
    cost: float | None
    seconds: float


def run(job: UpscaleJob, ctx: JobContext, journal: Journal, connect: ClientFactory) -> UpscaleResult:
    """Drives ``job.record`` to ``downloaded`` and returns the result file. Raises on failure."""
    started = time.monotonic()
    record = job.record
    if record.state == JobState.PREPARED and not record.history:
        journal.save(record)  # a new job: on disk before anything is uploaded
    client = connect(ctx)
    try:
        while record.state != JobState.DOWNLOADED:
            step = _STEPS.get(record.state)
            if step is None:
                raise errors.ScenarioError(f"This job cannot continue from state '{record.state}'.")
            step(job, ctx, journal, client)
            ctx.check_cancelled()
    except (JobCancelled, errors.CancelledError) as exc:
        _record_cancel(record, journal, client if ctx.stopped_by_user else None)
        raise JobCancelled() from exc
    except errors.ScenarioError as exc:
        _say_it_is_kept(record, exc)
        raise
    finally:
        _give_back_slot(job, ctx)
        client.close()
    return UpscaleResult(
        local_id=record.local_id,
        path=record.result_path,
        size=record.result_size,
        sha256=record.result_sha256,
        job_id=record.job_id,
        asset_id=record.result_asset_ids[0] if record.result_asset_ids else "",
        cost=record.cost,
        seconds=time.monotonic() - started,
    )


def price(job: UpscaleJob, ctx: JobContext, journal: Journal, connect: ClientFactory
          ) -> float | None:
    """Uploads ``job``'s source and asks Scenario its price, paying nothing: the first pass of a
    UDIM set, whose tiles are priced together before any is paid. None when no price is wanted
    or none could be had (when the rules do not need one)."""
    record = job.record
    if record.state == JobState.PREPARED and not record.history:
        journal.save(record)
    client = connect(ctx)
    try:
        if record.state == JobState.PREPARED:
            _upload(job, ctx, journal, client)
        ctx.check_cancelled()
        quote = _quote(job, ctx, journal, client, _submitted_params(job))
    except (JobCancelled, errors.CancelledError) as exc:
        _record_cancel(record, journal, None)
        raise JobCancelled() from exc
    finally:
        client.close()
    return quote


CANCELLED_UNPAID = "Cancelled before submission; nothing was charged."
CANCELLED_WHILE_SENDING = (
    "Cancelled while the upscale request was on its way to Scenario, before its answer came, so "
    "it is unknown whether Scenario started (and charged for) the job. It was not sent again: "
    "check your jobs on app.scenario.com before retrying.")


def cancelled_at_service(job_id: str) -> str:
    return f"Cancelled at Scenario: job {job_id} was stopped there and will give no result."


def paid_and_kept(record: JobRecord) -> str:
    """What stays true of a paid job whose result was not applied."""
    return (f"Nothing was swapped in. Scenario job {record.job_id} is paid: Recover in Recent "
            "Jobs downloads its result again, without paying again.")


def _say_it_is_kept(record: JobRecord, exc: errors.ScenarioError) -> None:
    """A failure once the job was submitted (a poll refused, redirected, …) leaves a job that
    may be charged: its message says it is kept, unless it already says so."""
    if record.state in (JobState.SUBMITTED, JobState.ABANDONED) and "Recover" not in exc.message:
        exc.message = (f"{exc.message} Scenario job {record.job_id} was submitted and is kept: "
                       "Recover in Recent Jobs collects its result later, without paying again.")
        exc.args = (exc.message,)


def cancel_report(record: JobRecord) -> str:
    """What the report says of a job the user stopped, true to what was paid."""
    if record.is_set and record.recoverable:  # whatever its tiles' run left in its error
        return (f"Stopped the UDIM set '{record.source_image}'. The tiles already paid for are "
                "kept and may still be charged: Recover in Recent Jobs finishes the set, paying "
                "only for the tiles without a result.")
    if record.state in (JobState.ABANDONED, JobState.SUBMITTED, JobState.TIMED_OUT):
        return (f"Stopped waiting for Scenario job {record.job_id}. Scenario did not cancel it, "
                "so it may still finish and be charged: collect the result later with Recover "
                "in Recent Jobs.")
    if record.error:
        return record.error
    if record.recoverable:
        return (f"Cancelled: Scenario job {record.job_id} is paid; the result can be collected "
                "with Recover in Recent Jobs.")
    return CANCELLED_UNPAID


def _record_cancel(record: JobRecord, journal: Journal,
                   client: ScenarioClient | None) -> None:
    """Marks an unsent job as ended. A paid one the user stopped is cancelled at Scenario when
    ``client`` is given and Scenario agrees; otherwise it stays collectable, and one Scenario
    has finished (and charged for) says so."""
    if record.state in (JobState.PREPARED, JobState.SUBMITTING):
        journal.transition(record, JobState.FAILED, error=CANCELLED_UNPAID)
    elif record.state in (JobState.SUBMITTED, JobState.TIMED_OUT):
        if client is not None and record.job_id and _cancel_at_service(client, record.job_id):
            journal.transition(record, JobState.CANCELLED, error=cancelled_at_service(record.job_id))
        else:
            journal.transition(record, JobState.ABANDONED)
    elif record.state == JobState.SUCCEEDED:
        journal.transition(record, record.state, error=(
            f"Cancelled while downloading: Scenario job {record.job_id} is paid; the result can "
            "be collected with Recover in Recent Jobs, without paying again."))
    elif record.state == JobState.DOWNLOADED:
        journal.transition(record, record.state, error=(
            f"Cancelled before the result was applied: Scenario job {record.job_id} is paid and "
            f"its result is saved at {record.result_path}; Recover in Recent Jobs applies it."))


def _cancel_at_service(client: ScenarioClient, job_id: str) -> bool:
    try:
        return client.cancel_job(job_id)
    except errors.ScenarioError as exc:
        # Not knowing is the same as a refusal: the job may still finish, so keep it.
        log.warning("Asking Scenario to cancel job %s failed: %s", job_id, exc)
        return False


def _upload(job: UpscaleJob, ctx: JobContext, journal: Journal, client: ScenarioClient) -> None:
    record = job.record
    if record.input_asset_id:
        journal.transition(record, JobState.SUBMITTING)
        return
    if job.source is None:
        raise errors.ScenarioError("The source texture is no longer available; start again.")
    source = job.source
    ctx.progress(Stage.PREPARING)
    _refuse_before_upload(job, journal, client, [source, *job.style_sources])
    if isinstance(source, PixelSource):
        # Converted here, where numpy lets go of the GIL: a quarter of the bytes cross to a
        # child. Encoded once, and analysed from the same conversion.
        source.rgba8  # noqa: B018
        source, job.analysis = _heavy(job, ctx, prepare_pixels, source, job.fidelity, job.work_dir,
                                      pixels=pixel_count(source))
    elif job.fidelity.seam_pad:
        source = _heavy(job, ctx, pad_source, source, job.fidelity.seam_pad, job.work_dir,
                        pixels=pixel_count(source))
    upload, name = prepare_upload(source, job.work_dir)
    ctx.check_cancelled()
    ctx.progress(Stage.UPLOADING, 0.0)
    asset_id = _send(job, ctx, client, upload, name, shown=True)
    style_ids = []
    for style in job.style_sources:
        ctx.check_cancelled()
        style_upload, style_name = _heavy(job, ctx, prepare_upload, style, job.work_dir,
                                          pixels=_encoded_pixels(style))
        style_ids.append(_send(job, ctx, client, style_upload, style_name))
    ctx.check_cancelled()
    # A UDIM tile redone by Recover reuses its set's style images, already at Scenario.
    journal.transition(record, JobState.SUBMITTING, input_asset_id=asset_id,
                       style_asset_ids=style_ids or record.style_asset_ids,
                       sent_size=_image_size(upload))


def _send(job: UpscaleJob, ctx: JobContext, client: ScenarioClient,
          upload: str | bytes | memoryview, name: str, shown: bool = False) -> str:
    """Uploads ``upload`` and returns its asset id; bytes a price check of this image already
    sent (``job.reuse``, matched by their sha256) are not sent again. ``shown``: its progress
    is the job's."""
    digest = _digest(upload) if job.reuse or job.keep_uploads else ""
    asset_id = job.reuse.get(digest, "") if digest else ""
    if asset_id:
        log.info("Job %s sends no upload: asset %s holds the same bytes (its price check's)",
                 job.record.local_id, asset_id)
        if shown:
            ctx.progress(Stage.UPLOADING, 1.0)
    else:
        progress = ((lambda sent, total: ctx.progress(Stage.UPLOADING, sent / max(total, 1)))
                    if shown else None)
        asset_id = client.upload_image(upload, name=name, progress=progress).id
    if job.keep_uploads:
        job.uploads[digest] = asset_id
    return asset_id


def _digest(upload: str | bytes | memoryview) -> str:
    if isinstance(upload, str):
        return _sha256(Path(upload))
    return hashlib.sha256(upload).hexdigest()


def _image_size(upload: str | bytes | memoryview) -> list[int]:
    """Width and height of what went up, from its header; empty when it cannot be read."""
    try:
        info = read_image_header(upload)
    except (ImageHeaderError, OSError):
        return []
    return [info.width, info.height]


def _refuse_before_upload(job: UpscaleJob, journal: Journal, client: ScenarioClient,
                          sources: list[Source]) -> None:
    """What can be found wrong for free is, before the first byte goes up: damaged files, a
    model Scenario no longer has or that would refuse these settings, then LoRA ids Scenario
    does not know (a lookup, unlike the generate, costs nothing)."""
    try:
        for source in sources:
            check_intact(source)
        job.model.check(client, job.params)
        job.loras.check(client, job.params.loras or ())
    except errors.CancelledError:
        raise  # recorded as a cancel by run()
    except (SourceUnavailable, errors.ScenarioError) as exc:
        journal.transition(job.record, JobState.FAILED, error=str(exc))
        if isinstance(exc, errors.ScenarioError):
            raise
        raise errors.ScenarioError(str(exc), not_sent=True) from exc


def _analysis(job: UpscaleJob, ctx: JobContext) -> SourceAnalysis:
    """What the result checks need from the source, read once."""
    if job.analysis is None:
        source = job.source
        job.analysis = _heavy(job, ctx, analyse_source, source, job.fidelity,
                              pixels=pixel_count(source) if source is not None else 0)
    return job.analysis


def _heavy(job: UpscaleJob, ctx: JobContext, fn: Callable[..., T], *args: Any, pixels: int) -> T:
    """Pixel work: for a big image in a child process (no GIL shared with Blender's UI)."""
    try:
        return offload.call(fn, *args, pixels=pixels, cancel=ctx.cancel_event)
    except offload.OffloadError as exc:
        if job.record.state in (JobState.PREPARED, JobState.SUBMITTING):
            raise errors.ScenarioError(f"{exc} Nothing was spent.") from exc
        raise errors.ScenarioError(
            f"{exc} The result is paid for and kept: close other programs, then use Recover in "
            "Recent Jobs to finish it without paying again.") from exc


def _encoded_pixels(source: Source) -> int:
    """Pixels ``prepare_upload`` would encode: only Blender's buffers are encoded."""
    return pixel_count(source) if isinstance(source, PixelSource) else 0


def _submit(job: UpscaleJob, ctx: JobContext, journal: Journal, client: ScenarioClient) -> None:
    record = job.record
    if was_sent(record):
        # A previous run sent the request but never learned the job id: never send it again.
        journal.transition(record, JobState.UNCERTAIN, error=UNCERTAIN_MESSAGE)
        raise errors.SubmissionUncertainError(UNCERTAIN_MESSAGE)
    ctx.check_cancelled()
    params = _submitted_params(job)
    _check_price(job, ctx, journal, client, params)
    try:
        submitted = _send_in_a_slot(job, ctx, journal, client, params)
    except SlotWaitExpired as exc:
        journal.transition(record, JobState.FAILED, error=str(exc))
        raise
    except errors.CancelledError as exc:
        if not exc.not_sent:  # stopped once the request had left: it may have started a job
            journal.transition(record, JobState.UNCERTAIN, error=CANCELLED_WHILE_SENDING)
        raise
    except errors.ScenarioError as exc:
        if _may_have_started(exc):
            uncertain = _uncertain(exc)
            journal.transition(record, JobState.UNCERTAIN, error=str(uncertain))
            raise uncertain from exc
        journal.transition(record, JobState.FAILED, error=str(exc))
        raise
    journal.transition(record, JobState.SUBMITTED, job_id=submitted.job_id,
                       cost=_paid_cost(submitted, record))
    # The source is read while Scenario works, so checking the result costs no extra wait;
    # then its pixels are let go (a float 8K buffer is a gigabyte held for the whole wait).
    _analysis(job, ctx)
    job.source, job.style_sources = None, []


def _send_in_a_slot(job: UpscaleJob, ctx: JobContext, journal: Journal, client: ScenarioClient,
                    params: UpscaleParams) -> Job:
    """The paid generate, sent once one of the team's slots is free. A 429 means Scenario
    created nothing, so the request waits (for a slot, or with backoff while the team's other
    clients hold them) and goes again, for as long as the job may wait."""
    record, slots = job.record, ctx.slots
    account = client.transport.account
    deadline = time.monotonic() + job.timeout_s
    refusals = 0
    while True:
        if job.slot is None:
            job.slot = slots.acquire(account, ctx, deadline)
        ctx.check_cancelled()
        ctx.progress(Stage.SUBMITTING)
        _mark(record, journal, SENDING)
        try:
            return client.run(params)
        except errors.RateLimitedError as exc:
            _mark(record, journal, REFUSED)  # nothing was created: it may be sent again
            refusals += 1
            job.slot = slots.refused(job.slot, exc.action_limit, exc.retry_after, refusals, ctx,
                                     deadline)


def _mark(record: JobRecord, journal: Journal, mark: str) -> None:
    record.history.append([mark, round(time.time(), 3)])
    journal.save(record)


def _give_back_slot(job: UpscaleJob, ctx: JobContext) -> None:
    """Scenario ended the job, or this process stopped following it: the next job may go."""
    ctx.slots.release(job.slot)
    job.slot = None


def _submitted_params(job: UpscaleJob) -> UpscaleParams:
    record = job.record
    return replace(job.params, image=record.input_asset_id,
                   image_prompt=record.style_asset_ids or None)


def _paid_cost(submitted: Job, record: JobRecord) -> float | None:
    """What the job costs: as Scenario stated it, else the dry run's price; unknown (None), never
    0, when Scenario stated a cost that is not a usable number."""
    if submitted.cost_problem is not None:
        return None
    return submitted.cost if submitted.cost is not None else record.quote


def _check_price(job: UpscaleJob, ctx: JobContext, journal: Journal, client: ScenarioClient,
                 params: UpscaleParams) -> None:
    policy, record = job.spend, job.record
    cost = _quote(job, ctx, journal, client, params)
    if cost is None:
        return
    refusal = spend_refusal(policy, ctx, cost, record.source_image)
    if refusal is not None:
        journal.transition(record, JobState.FAILED, error=refusal.message,
                           declined=refusal.declined)
        raise NotSpentError.of(refusal)


def _quote(job: UpscaleJob, ctx: JobContext, journal: Journal, client: ScenarioClient,
           params: UpscaleParams) -> float | None:
    """The dry-run price, when the rules want one; a failure when they need one and none came."""
    policy, record = job.spend, job.record
    if not (policy.quote or policy.must_know):
        return None
    ctx.progress(Stage.PRICING)
    try:
        quote = client.quote(params)
        cost = _usable(quote.cost)
    except errors.CancelledError:
        raise  # Cancel stops the dry run in flight too: a cancel, not a missing price
    except errors.UnusablePriceError as exc:
        # Scenario answered, with nonsense: whatever the rules, nothing is paid on that.
        journal.transition(record, JobState.FAILED, error=str(exc))
        raise NotSpentError(record.error) from exc
    except errors.DryRunIgnoredError as exc:
        # It ran the price request as a real job, which may be charged: never pay on top of it.
        journal.transition(record, JobState.UNCERTAIN, error=str(exc), job_id=exc.job_id or "")
        raise
    except errors.ScenarioError as exc:
        if not policy.must_know:
            return None  # the price is information only: go on without it
        journal.transition(record, JobState.FAILED, error=f"No price could be had, so nothing was "
                                                  f"spent: {exc}")
        raise NotSpentError(record.error) from exc
    record.quote = cost
    journal.save(record)
    ctx.progress(Stage.PRICING, message=f"Price: {credits_text(cost)}")
    return cost


def _usable(cost: Any) -> float:
    """``cost`` when it is a price that may be shown and journaled."""
    problem = price_problem(cost)
    if problem is not None:
        raise errors.UnusablePriceError(unusable_price_message(problem))
    return float(cost)


def spend_refusal(policy: SpendPolicy, ctx: JobContext, cost: float, name: str,
                  tiles: int = 0, previews: int = 0, note: str = "") -> NotSpent | None:
    """None when ``cost`` may be spent under ``policy`` (asking the user if it passes the
    limit), else why it is not: a price that is not a usable number, a rehearsal, a decline,
    or nobody there to confirm."""
    problem = price_problem(cost)
    if problem is not None:  # -500 must never pass a limit, nor lower a batch's total
        return NotSpent(unusable_price_message(problem))
    if policy.never_spend:
        what = (f"the {counted(tiles, 'tile')} of '{name}'" if tiles else
                f"the {counted(previews, 'preview')} of '{name}'" if previews
                else "this upscale")
        return spending.rehearsal(what, cost)
    limit = policy.confirm_above
    if limit is None:
        return None
    batch = policy.ledger is not None
    ledger = policy.ledger or SpendLedger(limit)  # one job alone is a batch of one
    asked = []

    def ask(cost: float, total: float) -> bool:
        if not policy.can_ask:
            return False
        asked.append(total)
        ctx.progress(Stage.CONFIRM, message=f"Waiting for your confirmation ({credits_text(total)})")
        yes = ctx.ask(PriceQuestion(cost, limit, total if batch else None, tiles=tiles,
                                          previews=previews, note=note))
        ctx.check_cancelled()  # a cancelled job has not answered for the batch
        return yes

    if ledger.commit(cost, ask, ctx.wait_for):
        return None
    return _not_paid_message(name, policy, limit, cost, asked[0] if asked else None, batch,
                             previews)


def _not_paid_message(name: str, policy: SpendPolicy, limit: float, cost: float,
                      declined_at: float | None, batch: bool, previews: int = 0) -> NotSpent:
    if declined_at is not None:
        return spending.declined(declined_at, batch)
    if policy.can_ask:  # another job of the batch asked, and the answer was no
        return NotSpent(f"The batch was declined at its price check; nothing was spent on "
                        f"'{name}'.", by_choice=True, declined=True)
    if batch:
        return NotSpent(f"The batch would pass {credits_text(limit)}. Run it from Blender's "
                        "interface to confirm, or raise the limit in the preferences. Nothing "
                        "was spent.")
    if previews:
        return spending.over_limit(cost, limit, f"The {counted(previews, 'preview')} of '{name}'",
                                   verb="costs" if previews == 1 else "cost")
    return spending.over_limit(cost, limit)


# A resumed job whose request a previous run sent without learning the job.
UNCERTAIN_MESSAGE = errors.submission_uncertain(
    "An earlier run sent this upscale request, but stopped before Scenario's answer came").message


def _uncertain(exc: errors.ScenarioError) -> errors.SubmissionUncertainError:
    """The failure of a generate that may have started a job, saying what happened to it."""
    if isinstance(exc, errors.SubmissionUncertainError):
        return errors.SubmissionUncertainError(exc.message, status=exc.status,
                                               trace_id=exc.trace_id, reason=exc.reason)
    return errors.submission_uncertain(f"Sending the upscale request failed "
                                       f"({exc.message.rstrip('. ')})", status=exc.status)


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


def _may_have_started(exc: errors.ScenarioError) -> bool:
    """Whether a failed generate request could still have created a (paid) job."""
    definite = (*errors.REFUSALS, errors.MissingCredentialsError, errors.InsecureURLError,
                # Scenario answers a generate that starts a job with the job; a redirect is no start.
                errors.RedirectRefusedError)
    if isinstance(exc, errors.SubmissionUncertainError):
        return True
    if isinstance(exc, definite):
        return False
    return not getattr(exc, "not_sent", False)


def _poll(job: UpscaleJob, ctx: JobContext, journal: Journal, client: ScenarioClient) -> None:
    record = job.record
    schedule = PollSchedule()
    submitted_at = time.monotonic()
    progress: float | None = None
    while True:
        elapsed = time.monotonic() - submitted_at
        if elapsed > job.timeout_s:
            minutes = round(job.timeout_s / 60)
            journal.transition(record, JobState.TIMED_OUT)
            raise errors.ScenarioError(
                f"Scenario job {record.job_id} is still running after {minutes} min. It is kept in "
                "Recent jobs: use Recover to collect the result when it finishes."
            )
        eager = job.slot is not None and ctx.slots.awaited(job.slot.account)
        if ctx.cancel_event.wait(schedule.next_delay(elapsed, progress, eager)):
            raise JobCancelled()
        try:
            state = client.get_job(record.job_id)
        except (errors.ConnectionFailedError, errors.ServiceUnavailableError,
                errors.RequestTimeoutError, errors.RateLimitedError):
            # The job is paid and keeps running: a flaky poll is not a failure.
            continue
        progress = state.progress
        _report_job(ctx, state)
        if state.status in ("success", "failure", "canceled"):
            _give_back_slot(job, ctx)  # the next job may go while this one is downloaded
        if state.status == "success":
            if not state.asset_ids:
                journal.transition(record, JobState.FAILED, error="Scenario finished without a result.")
                raise errors.ScenarioError("Scenario reported success but returned no image.")
            journal.transition(record, JobState.SUCCEEDED, result_asset_ids=list(state.asset_ids))
            return
        if state.status in ("failure", "canceled"):
            try:
                client.raise_for_job(state)
            except errors.ScenarioError as exc:
                journal.transition(record, JobState.FAILED, error=str(exc))
                raise
            raise errors.ScenarioError(f"Scenario job ended as '{state.status}'.")


def _report_job(ctx: JobContext, state: Job) -> None:
    # A status this add-on does not know is shown as Scenario names it, but never at length.
    label = STAGE_LABELS.get(state.status) or clean_text(state.status, 30) or "Working"
    fraction = state.progress if state.status == "in-progress" else None
    ctx.progress(Stage.GENERATING, fraction, label)


def _download(job: UpscaleJob, ctx: JobContext, journal: Journal, client: ScenarioClient) -> None:
    """Downloads the result and checks it before anything opens it: whole (the client), its
    header readable, within the limits and of the size that was asked for. A result that fails
    is removed and the job stays *succeeded*: paid, and collected again by Recover."""
    record = job.record
    job.work_dir.mkdir(parents=True, exist_ok=True)
    temp = job.work_dir / f"{record.local_id}-result"
    if temp.exists():
        temp.unlink()
    ctx.progress(Stage.DOWNLOADING, 0.0)
    factor = int(record.params.get("upscaleFactor") or job.params.upscale_factor or 2)
    plan = _plan_for(job)
    try:
        download = client.download_asset(
            record.result_asset_ids[0],
            temp,
            max_bytes=job.max_download_bytes,
            progress=lambda got, total: ctx.progress(Stage.DOWNLOADING, got / total if total else None),
            seconds=job.timeout_s,
        )
        check_result(temp, _expected_size(record, factor), job.limits)
        ctx.progress(Stage.PROCESSING)
        analysis = _analysis(job, ctx)
        report = _heavy(job, ctx, finish_result, temp, plan, analysis, factor,
                        pixels=pixel_count(temp) if result_needs_pixels(plan, analysis) else 0)
    except BaseException as exc:
        temp.unlink(missing_ok=True)
        refusal = _not_usable(exc)
        if refusal is None:
            raise
        journal.transition(record, JobState.SUCCEEDED, error=f"{refusal} {paid_and_kept(record)}")
        raise errors.ScenarioError(record.error) from exc
    record.fidelity = report.to_json()
    changed = report.alpha_rebuilt or report.normals_renormalized or report.cropped
    with open(temp, "rb") as handle:
        fmt = sniff_format(handle.read(64)) or "png"
    ext = FILE_EXTENSIONS[fmt]
    try:
        if record.output_name:  # a UDIM tile: the name its set reserved for it
            final = _move_into_place(temp, Path(record.output_dir) / record.output_name)
        else:
            name = upscaled_file_name(record.output_stem, _factor_label(factor), ext)
            final = _move_into_place(temp, reserve_unique_path(Path(record.output_dir), name))
    except OSError as exc:
        # The result is paid for and still collectable: the record stays 'succeeded'.
        raise errors.ScenarioError(
            f"Could not save the result in {record.output_dir} ({exc.strerror or exc}). Free some "
            "disk space or choose another output folder, then use Recover in Recent Jobs: the "
            "result is kept and will not be paid again."
        ) from exc
    size = os.path.getsize(final)
    journal.transition(
        record, JobState.DOWNLOADED, result_path=str(final), result_size=size,
        result_sha256=_sha256(final) if changed else download.sha256, error="",
    )


def _not_usable(exc: BaseException) -> str | None:
    """Why a download's outcome cannot be used, for the report; None for what is not about
    the result (a cancel, a helper process that died: those say it themselves)."""
    if isinstance(exc, (errors.CancelledError, JobCancelled)):
        return None
    if isinstance(exc, png.PNGError):  # complete, in size, and still not a PNG one can decode
        return f"Scenario's result is damaged ({exc})."
    if isinstance(exc, errors.ScenarioError) and not isinstance(exc.__cause__,
                                                                 offload.OffloadError):
        return str(exc)
    return None


def _plan_for(job: UpscaleJob) -> FidelityPlan:
    """The job's fidelity plan; a job resumed from the journal (Recover) has none, but its
    Seam-Safe padding shows in what was sent, and must still be cropped away."""
    record, plan = job.record, job.fidelity
    if plan.seam_pad or len(record.sent_size) != 2 or len(record.source_size) != 2:
        return plan
    pads = {(sent - source) for sent, source in zip(record.sent_size, record.source_size,
                                                   strict=True)}
    (pad,) = pads if len(pads) == 1 else (0,)
    return replace(plan, seam_pad=pad // 2) if pad > 0 and pad % 2 == 0 else plan


def _expected_size(record: JobRecord, factor: int) -> tuple[int, int] | None:
    """The result's size as Scenario must send it: what went up times the factor (unknown for
    a job journaled before the upload's size was)."""
    if len(record.sent_size) != 2 or min(record.sent_size) <= 0:
        return None
    width, height = record.sent_size
    return width * factor, height * factor


def _move_into_place(temp: Path, final: Path) -> Path:
    """Moves ``temp`` over ``final``, a placeholder reserved for it."""
    final.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(temp, final)
    except OSError:
        # Work folder and output folder on different disks: copy, then swap in atomically.
        try:
            shutil.copyfile(temp, f"{final}.part")
            os.replace(f"{final}.part", final)
        except OSError:
            for leftover in (Path(f"{final}.part"), final):
                leftover.unlink(missing_ok=True)
            raise
        temp.unlink()
    return final


def _factor_label(factor: float) -> int | float:
    return int(factor) if float(factor).is_integer() else factor


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


_STEPS: dict[str, Callable[[UpscaleJob, JobContext, Journal, ScenarioClient], None]] = {
    JobState.PREPARED: _upload,
    JobState.SUBMITTING: _submit,
    JobState.SUBMITTED: _poll,
    JobState.ABANDONED: _poll,
    JobState.TIMED_OUT: _poll,
    JobState.SUCCEEDED: _download,
}
