"""One upscale, from a snapshot of the source to a result file on disk, run in a worker thread.

The pipeline is a small state machine over the journal record: each step moves the record to the
next state and writes it before anything is spent or changed. The same steps finish a job after a
crash or a quit (``recover``): a job that reached ``submitting`` is never sent again.

The steps: upload (``pipeline_upload.py``), price and the paid submit (here, with the rules in
``spend_policy.py`` and the marks around the paid request in ``sent_marks.py``), poll (here), and
download (``pipeline_download.py``). What the worker is handed is ``upscale_job.py``; what the
artist reads of it, ``job_text.py``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace

from ..api import errors
from ..api.client import ScenarioClient
from ..api.models import Job
from ..api.params import UpscaleParams
from ..api.prices import credits_text
from ..api.service_text import clean_text
from . import job_text, pipeline_download, pipeline_upload, sent_marks, spend_policy, upscale_job
from .job_text import (
    CANCELLED_UNPAID,
    CANCELLED_WHILE_SENDING,
    STAGE_LABELS,
    UNCERTAIN_MESSAGE,
    cancelled_at_service,
)
from .journal import JobRecord, Journal
from .polling import PollSchedule
from .scheduler import JobCancelled, JobContext
from .sent_marks import REFUSED, SENDING, was_sent
from .spend_policy import NotSpentError, spend_refusal
from .states import JobState, Stage
from .team_slots import SlotWaitExpired
from .upscale_job import ClientFactory, UpscaleJob, UpscaleResult

log = logging.getLogger(__name__)


def run(job: UpscaleJob, ctx: JobContext, journal: Journal, connect: ClientFactory) -> UpscaleResult:
    """Drives ``job.record`` to ``downloaded`` and returns the result file. Raises on failure."""
    started = time.monotonic()
    record = job.record
    journal.save_new(record)  # a new job: on disk before anything is uploaded
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
        job_text.say_it_is_kept(record, exc)
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
    journal.save_new(record)
    client = connect(ctx)
    try:
        if record.state == JobState.PREPARED:
            pipeline_upload.upload(job, ctx, journal, client)
        ctx.check_cancelled()
        quote = _quote(job, ctx, journal, client, _submitted_params(job))
    except (JobCancelled, errors.CancelledError) as exc:
        _record_cancel(record, journal, None)
        raise JobCancelled() from exc
    finally:
        client.close()
    return quote


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
            uncertain = job_text.uncertain(exc)
            journal.transition(record, JobState.UNCERTAIN, error=str(uncertain))
            raise uncertain from exc
        journal.transition(record, JobState.FAILED, error=str(exc))
        raise
    journal.transition(record, JobState.SUBMITTED, job_id=submitted.job_id,
                       cost=_paid_cost(submitted, record))
    # The source is read while Scenario works, so checking the result costs no extra wait;
    # then its pixels are let go (a float 8K buffer is a gigabyte held for the whole wait).
    upscale_job.analysis(job, ctx)
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
        sent_marks.mark(record, journal, SENDING)
        try:
            return client.run(params)
        except errors.RateLimitedError as exc:
            sent_marks.mark(record, journal, REFUSED)  # nothing was created: it may be sent again
            refusals += 1
            job.slot = slots.refused(job.slot, exc.action_limit, exc.retry_after, refusals, ctx,
                                     deadline)


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
        cost = spend_policy.usable_price(quote.cost)
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
        if state.is_terminal:
            _give_back_slot(job, ctx)  # the next job may go while this one is downloaded
        if state.succeeded:
            if not state.asset_ids:
                journal.transition(record, JobState.FAILED, error="Scenario finished without a result.")
                raise errors.ScenarioError("Scenario reported success but returned no image.")
            journal.transition(record, JobState.SUCCEEDED, result_asset_ids=list(state.asset_ids))
            return
        if state.is_terminal:  # failed, or cancelled at Scenario
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


_STEPS: dict[str, Callable[[UpscaleJob, JobContext, Journal, ScenarioClient], None]] = {
    JobState.PREPARED: pipeline_upload.upload,
    JobState.SUBMITTING: _submit,
    JobState.SUBMITTED: _poll,
    JobState.ABANDONED: _poll,
    JobState.TIMED_OUT: _poll,
    JobState.SUCCEEDED: pipeline_download.download,
}
