"""What a job's progress and end read as, in the panel and in reports: stage names, cancels,
what stays paid and collectable. Words only; the pipeline decides."""

from __future__ import annotations

from ..api import errors
from .journal import JobRecord
from .states import JobState, Stage

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


def say_it_is_kept(record: JobRecord, exc: errors.ScenarioError) -> None:
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


# A resumed job whose request a previous run sent without learning the job.
UNCERTAIN_MESSAGE = errors.submission_uncertain(
    "An earlier run sent this upscale request, but stopped before Scenario's answer came").message


def uncertain(exc: errors.ScenarioError) -> errors.SubmissionUncertainError:
    """The failure of a generate that may have started a job, saying what happened to it."""
    if isinstance(exc, errors.SubmissionUncertainError):
        return errors.SubmissionUncertainError(exc.message, status=exc.status,
                                               trace_id=exc.trace_id, reason=exc.reason)
    return errors.submission_uncertain(f"Sending the upscale request failed "
                                       f"({exc.message.rstrip('. ')})", status=exc.status)
