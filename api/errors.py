"""The one family of errors the client raises, each with a message a user can act on."""

from __future__ import annotations

import time
from typing import Any, ClassVar

import requests

from .redact import redact
from .retry import parse_retry_after
from .service_text import clean_text, message_text

# A trace id is for support: a short token, never a story.
_MAX_TRACE_ID = 100


class ScenarioError(Exception):
    """Base class. ``message`` says what happened and what to do; ``reason`` is Scenario's text."""

    default_message: ClassVar[str] = "Something went wrong while talking to Scenario."

    def __init__(
        self,
        message: str | None = None,
        *,
        status: int | None = None,
        trace_id: str | None = None,
        reason: str | None = None,
        not_sent: bool = False,
    ) -> None:
        self.message: str = message or self.default_message
        self.status: int | None = status
        self.trace_id: str | None = trace_id
        self.reason: str | None = reason
        # True when the request provably never reached Scenario (so it cannot have cost anything).
        self.not_sent: bool = not_sent
        super().__init__(self.message)

    def __str__(self) -> str:
        if self.trace_id:
            return f"{self.message} (trace id {self.trace_id})"
        return self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, status={self.status!r}, "
            f"trace_id={self.trace_id!r}, reason={self.reason!r})"
        )


class MissingCredentialsError(ScenarioError):
    default_message = (
        "No Scenario API key/secret: enter them in the add-on preferences, or set "
        "SCENARIO_SDK_API_KEY and SCENARIO_SDK_API_SECRET."
    )


class InsecureURLError(ScenarioError):
    default_message = "Refusing to use a plain http:// address: use https://."


class AuthenticationError(ScenarioError):
    default_message = (
        "Scenario rejected the API key/secret — check them in the add-on preferences."
    )


class AccessDeniedError(ScenarioError):
    default_message = (
        "Scenario refused access. Check your plan, remaining credits and that this project may "
        "use the texture upscale model."
    )


class NotFoundError(ScenarioError):
    default_message = "Scenario could not find that item; it may have been deleted."


class InvalidRequestError(ScenarioError):
    """The request was refused as invalid, by Scenario or by local validation (``field`` set)."""

    default_message = "Scenario rejected the request. Check the upscale settings."

    def __init__(self, message: str | None = None, *, field: str | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.field: str | None = field


class RateLimitedError(ScenarioError):
    """429. On a generate it means Scenario created nothing. ``action_limit`` is the team's limit
    when the refusal names it (``details.actionName`` "parallel-custom-jobs")."""

    default_message = "Scenario is receiving too many requests from you. Wait a moment, then retry."

    def __init__(
        self, message: str | None = None, *, retry_after: float | None = None,
        action_name: str | None = None, action_limit: int | None = None, **kw: Any
    ) -> None:
        super().__init__(message, **kw)
        self.retry_after: float | None = retry_after
        self.action_name: str | None = action_name
        self.action_limit: int | None = action_limit


class ServiceUnavailableError(ScenarioError):
    default_message = "Scenario is having trouble right now. Try again in a few minutes."


class RequestTimeoutError(ScenarioError):
    default_message = (
        "Scenario did not answer in time. Try again, or raise the network timeout in "
        "Blender's preferences."
    )


class ConnectionFailedError(ScenarioError):
    default_message = (
        "Could not reach Scenario: check your internet connection (and any firewall or proxy), "
        "then try again."
    )


# Ends every message of a SubmissionUncertainError, after what happened.
_UNCERTAIN_TAIL = (
    ", so it is unknown whether Scenario started (and charged for) the job. It was not sent "
    "again, to avoid paying twice: check your jobs on app.scenario.com before retrying."
)


class SubmissionUncertainError(ScenarioError):
    """The upscale request may have reached Scenario, but no job came back from it: a job may
    exist (and be charged). Its message says what happened (``submission_uncertain``)."""

    default_message = "The upscale request was sent but no job came back" + _UNCERTAIN_TAIL


def submission_uncertain(what: str, **kw: Any) -> SubmissionUncertainError:
    """``what`` happened to the paid upscale request (the connection broke, Scenario answered
    HTTP 500, …), followed by what that means and what to do."""
    return SubmissionUncertainError(what + _UNCERTAIN_TAIL, **kw)


class UnexpectedResponseError(ScenarioError):
    default_message = "Scenario sent an answer this add-on does not understand."


class UnusablePriceError(UnexpectedResponseError):
    """The dry run's price is not a usable number: nothing is paid on such an answer."""


class DryRunIgnoredError(UnexpectedResponseError):
    """Scenario answered the price-only request with a job: it may have run, and be charged,
    as a real upscale. Nothing may be paid on top of it."""

    def __init__(self, message: str | None = None, *, job_id: str | None = None,
                 **kw: Any) -> None:
        super().__init__(message, **kw)
        self.job_id: str | None = job_id


class CancelledError(ScenarioError):
    default_message = "Cancelled."


class JobFailedError(ScenarioError):
    """A job ended in ``failure`` or ``canceled``; ``reason``/``hint`` come from its metadata."""

    default_message = "Scenario could not upscale the texture."

    def __init__(
        self,
        message: str | None = None,
        *,
        job_id: str | None = None,
        job_status: str | None = None,
        hint: str | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(message, **kw)
        self.job_id: str | None = job_id
        self.job_status: str | None = job_status
        self.hint: str | None = hint


class DownloadError(ScenarioError):
    default_message = "Could not download the upscaled texture."


class DestinationExistsError(DownloadError):
    """The target file already exists; the caller should pick another name (never overwritten)."""

    def __init__(self, message: str | None = None, *, path: str = "", **kw: Any) -> None:
        super().__init__(message, **kw)
        self.path: str = path


class UploadError(ScenarioError):
    default_message = "Could not upload the texture to Scenario."


class UnsafeLinkError(ScenarioError):
    """A link from Scenario (a download, an upload part, a redirect) leads somewhere the add-on
    never sends a request: plain http, this computer, the local network. Nothing was sent."""

    default_message = "Scenario sent a link that was refused; nothing was sent to it."


class RedirectRefusedError(UnexpectedResponseError):
    """An API call was answered with a redirect. API calls follow none: the request carried the
    keys and, for an upload, the image, and Scenario's API does not move."""

    default_message = "Scenario's API answered with a redirect, which the add-on does not follow."


def parse_error_body(resp: requests.Response) -> tuple[str | None, str | None]:
    """``(reason, trace_id)``; the reason is ``reason``, else ``message``, ``error``, ``detail``,
    both made safe to show and log (``clean_text``)."""
    try:
        body = resp.json()
    except ValueError:
        body = None
    reason: str | None = None
    trace_id: str | None = None
    if isinstance(body, dict):
        for key in ("reason", "message", "error", "detail"):
            reason = message_text(body.get(key))
            if reason:
                break
        raw_trace = body.get("trace_id") or body.get("traceId")
        if isinstance(raw_trace, int) and not isinstance(raw_trace, bool):
            raw_trace = str(raw_trace)
        trace_id = clean_text(raw_trace, _MAX_TRACE_ID)
    elif "text/plain" in str(resp.headers.get("Content-Type", "")):
        reason = clean_text(resp.text)
    return reason, trace_id


def _limit_details(resp: requests.Response) -> tuple[str | None, int | None]:
    """``details.actionName`` and ``details.actionLimit`` of a 429, when they are sane."""
    try:
        body = resp.json()
    except ValueError:
        return None, None
    details = body.get("details") if isinstance(body, dict) else None
    if not isinstance(details, dict):
        return None, None
    name, limit = details.get("actionName"), details.get("actionLimit")
    name = clean_text(name, 100)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 10_000:
        limit = None
    return name, limit


# Answers that refuse a request before any work: a generate refused so created no job.
REFUSALS: tuple[type[ScenarioError], ...] = (
    InvalidRequestError, AuthenticationError, AccessDeniedError, NotFoundError, RateLimitedError,
)


def _with_reason(prefix: str, reason: str | None, advice: str) -> str:
    said = f": {reason.rstrip('. ')}" if reason else ""
    return f"{prefix}{said}. {advice}"


def error_from_response(resp: requests.Response, secrets: tuple[str, ...] = ()) -> ScenarioError:
    """Turn a non-success HTTP answer from the API into the matching ``ScenarioError``."""
    status = int(resp.status_code)
    reason, trace_id = parse_error_body(resp)
    if reason:
        reason = redact(reason, secrets)
    kw: dict[str, Any] = {"status": status, "trace_id": trace_id, "reason": reason}
    if status == 401:
        return AuthenticationError(**kw)
    if status == 403:
        return AccessDeniedError(
            _with_reason(
                "Scenario refused access",
                reason,
                "Check your plan, remaining credits and that this project may use the texture "
                "upscale model.",
            ),
            **kw,
        )
    if status == 404:
        return NotFoundError(
            _with_reason(
                "Scenario could not find it",
                reason,
                "It may have been deleted, or belong to another project.",
            ),
            **kw,
        )
    if status in (400, 422):
        return InvalidRequestError(
            _with_reason("Scenario rejected the request", reason, "Check the upscale settings."),
            **kw,
        )
    if status == 408:
        return RequestTimeoutError(**kw)
    if status == 429:
        action_name, action_limit = _limit_details(resp)
        return RateLimitedError(
            _with_reason(
                "Scenario is receiving too many requests from you",
                reason,
                "Wait a moment, or let running upscales finish, then retry.",
            ),
            retry_after=parse_retry_after(resp.headers, time.time()),
            action_name=action_name,
            action_limit=action_limit,
            **kw,
        )
    if 500 <= status < 600:
        return ServiceUnavailableError(
            f"Scenario is having trouble right now (HTTP {status}). Try again in a few minutes.",
            **kw,
        )
    return UnexpectedResponseError(
        f"Scenario answered with unexpected HTTP status {status}. Try again later.", **kw
    )
