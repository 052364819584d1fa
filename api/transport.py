"""HTTP to the Scenario API: auth, JSON, timeouts, retries with backoff, redacted logging.

Retry rules, by what a repeat could cost:
- ``RetryPolicy.SAFE``: repeating cannot charge anything (GET, PUT of an upload part, creating an
  asset or an upload — a repeat at worst leaves a harmless duplicate). Retried on connection
  failures, timeouts, 408, 429 and 5xx.
- ``RetryPolicy.UNSENT_ONLY`` / ``SUBMIT``: ``POST /generate/...`` creates a paid job and Scenario
  takes no idempotency key, so it is repeated only when it provably never reached the service:
  the connection could not be opened, or (for the dry run) the answer was 429. With ``SUBMIT`` a
  429 is returned at once (the caller waits for one of the team's slots, core/team_slots.py), and
  a lost answer (read timeout, dropped connection) or an error status that is not a refusal
  (5xx, 408, …) raises ``SubmissionUncertainError``, saying which.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import json as jsonlib
import logging
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests

from .config import Credentials
from .constants import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, USER_AGENT
from .errors import (
    REFUSALS,
    CancelledError,
    ConnectionFailedError,
    RequestTimeoutError,
    ScenarioError,
    UnexpectedResponseError,
    error_from_response,
    submission_uncertain,
)
from .redact import redact_keys
from .retry import RETRYABLE_STATUSES, backoff_delay, parse_retry_after, server_forbids_retry

_LOG = logging.getLogger(__name__)

# urllib3 names the errors raised while opening a connection, i.e. before any byte was sent.
# Matched by name so the code does not import urllib3 (only requests is promised in Blender).
_CONNECT_ERROR_NAMES = frozenset({"NewConnectionError", "ConnectTimeoutError"})


class RetryPolicy(enum.Enum):
    SAFE = "safe"
    UNSENT_ONLY = "unsent_only"
    SUBMIT = "submit"


class _Failure(enum.Enum):
    UNSENT = "unsent"
    TIMEOUT = "timeout"
    DROPPED = "dropped"
    TLS = "tls"
    OTHER = "other"


class _BasicAuth:
    """requests auth hook; a plain callable so the token never shows in a repr."""

    def __init__(self, credentials: Credentials) -> None:
        self.header = "Basic " + credentials.basic_token

    def __call__(self, request: Any) -> Any:
        request.headers["Authorization"] = self.header
        return request

    def __repr__(self) -> str:
        return "_BasicAuth(***)"


class _Hidden:
    """Holds strings needed for scrubbing; shows nothing in a repr (e.g. a debugger's vars())."""

    def __init__(self, *values: str) -> None:
        self.values = values

    def __repr__(self) -> str:
        return "<hidden>"


def _no_auth(request: Any) -> Any:
    # Passing an auth hook also stops requests from adding ~/.netrc credentials.
    request.headers.pop("Authorization", None)
    return request


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        err = stack.pop()
        if id(err) in seen:
            continue
        seen.add(id(err))
        yield err
        stack.extend(a for a in err.args if isinstance(a, BaseException))
        for attr in ("reason", "__cause__"):
            linked = getattr(err, attr, None)
            if isinstance(linked, BaseException):
                stack.append(linked)


def _classify(exc: requests.exceptions.RequestException) -> _Failure:
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return _Failure.UNSENT
    if isinstance(exc, requests.exceptions.SSLError):
        return _Failure.TLS
    if isinstance(exc, requests.exceptions.Timeout):
        return _Failure.TIMEOUT
    if isinstance(exc, requests.exceptions.ConnectionError):
        for err in _causes(exc):
            if isinstance(err, (ConnectionRefusedError, socket.gaierror)):
                return _Failure.UNSENT
            if any(cls.__name__ in _CONNECT_ERROR_NAMES for cls in type(err).__mro__):
                return _Failure.UNSENT
        return _Failure.DROPPED
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return _Failure.DROPPED
    return _Failure.OTHER


def describe_url(url: str) -> str:
    """Host and path only: signed URLs carry their signature in the query."""
    parts = urlsplit(url)
    return f"{parts.hostname or '?'}{parts.path}"


class Transport:
    """One authenticated connection to the API. Not thread-safe: use one per worker thread."""

    def __init__(
        self,
        credentials: Credentials,
        base_url: str,
        *,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        project_id: str | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] = random.random,
        cancel_event: threading.Event | None = None,
        logger: logging.Logger | None = None,
        user_agent: str = USER_AGENT,
    ) -> None:
        self._auth = _BasicAuth(credentials)
        self._secrets = _Hidden(*credentials.secrets)
        self._key = _Hidden(credentials.api_key)
        self.base_url = base_url.rstrip("/")
        self.timeout = (float(timeout[0]), float(timeout[1]))
        self.max_retries = max(0, int(max_retries))
        self.project_id = project_id or None
        self._own_session = session is None
        self.session: requests.Session = session if session is not None else requests.Session()
        self._sleep = sleep
        self.clock = clock
        self._rand = rand
        self.cancel_event = cancel_event
        self._logger = logger or _LOG
        self.user_agent = user_agent

    # --- helpers shared with uploads/downloads ------------------------------------------------
    def __repr__(self) -> str:
        return f"Transport(base_url={self.base_url!r})"

    @property
    def secrets(self) -> tuple[str, ...]:
        return self._secrets.values

    @property
    def account(self) -> str:
        """Whom answers are for (service, project, key), as a digest: caches keyed by it hold
        no key."""
        (key,) = self._key.values
        who = f"{self.base_url}\0{self.project_id or ''}\0{key}"
        return hashlib.sha256(who.encode()).hexdigest()[:24]

    def scrub(self, text: str) -> str:
        """Mask the secret, the auth token, and all but the start of the key."""
        return redact_keys(text, self._secrets.values, self._key.values)

    def log(self, level: int, message: str, *args: object) -> None:
        if self._logger.isEnabledFor(level):
            self._logger.log(level, "%s", self.scrub(message % args if args else message))

    def backoff(self, retry_index: int) -> float:
        """Delay before retry ``retry_index`` (0-based), with this transport's jitter source."""
        return backoff_delay(retry_index, None, self._rand)

    def raise_if_cancelled(self) -> None:
        if self.cancel_event is not None and self.cancel_event.is_set():
            raise CancelledError("Cancelled.", not_sent=True)

    @contextlib.contextmanager
    def after_cancel(self) -> Iterator[None]:
        """For a request sent because the user stopped a job (asking Scenario to cancel it):
        the stop flag must not stop it, and a single try keeps the answer quick."""
        saved = self.cancel_event, self.max_retries
        self.cancel_event, self.max_retries = None, 0
        try:
            yield
        finally:
            self.cancel_event, self.max_retries = saved

    def pause(self, seconds: float) -> None:
        """Sleep, waking early on cancel when the real clock is used."""
        self.raise_if_cancelled()
        if seconds > 0:
            if self.cancel_event is not None and self._sleep is time.sleep:
                self.cancel_event.wait(seconds)
            else:
                self._sleep(seconds)
        self.raise_if_cancelled()

    # --- API requests ---------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        body: bytes | None = None,
        params: Mapping[str, str] | None = None,
        policy: RetryPolicy = RetryPolicy.SAFE,
        ok: tuple[int, ...] = (200, 201),
    ) -> requests.Response:
        """Send an authenticated request; return the response if its status is in ``ok``."""
        url = self.base_url + path
        query = dict(params or {})
        if self.project_id:
            query["projectId"] = self.project_id
        headers = {"User-Agent": self.user_agent, "Accept": "application/json"}
        if json is not None:
            body = jsonlib.dumps(json, separators=(",", ":")).encode()
        if body is not None:
            headers["Content-Type"] = "application/json"

        def send() -> requests.Response:
            return self.session.request(
                method,
                url,
                data=body,
                params=query or None,
                headers=headers,
                timeout=self.timeout,
                auth=self._auth,
            )

        label = f"{method} {path}"
        resp = self._with_retries(send, policy=policy, label=label, host="Scenario")
        if resp.status_code in ok:
            return resp
        error = error_from_response(resp, self.secrets)
        error.message = self.scrub(error.message)
        error.args = (error.message,)
        if error.reason:
            error.reason = self.scrub(error.reason)
        self.log(logging.WARNING, "%s: HTTP %s %s", label, resp.status_code, error.reason or "")
        if policy is RetryPolicy.SUBMIT and not isinstance(error, REFUSALS):
            said = f": {error.reason.rstrip('. ')}" if error.reason else ""
            raise submission_uncertain(
                f"Scenario answered the upscale request with an error (HTTP "
                f"{resp.status_code}{said})",
                status=error.status, reason=error.reason, trace_id=error.trace_id,
            ) from error
        raise error

    def request_json(self, method: str, path: str, **kw: Any) -> dict[str, Any]:
        resp = self.request(method, path, **kw)
        try:
            data = resp.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise UnexpectedResponseError(
                f"Scenario sent an answer that is not a JSON object ({method} {path}). "
                "Try again later.",
                status=int(resp.status_code),
            )
        return data

    # --- requests to pre-signed URLs (S3 parts, CDN) ------------------------------------------
    def send_external(
        self,
        method: str,
        url: str,
        *,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
    ) -> requests.Response:
        """Unauthenticated request to a signed URL, retried as SAFE; any final status returned.

        The URL is used exactly as given: its query is its signature.
        """
        sent_headers = {"User-Agent": self.user_agent, **(headers or {})}

        def send() -> requests.Response:
            return self.session.request(
                method,
                url,
                data=data,
                headers=sent_headers,
                timeout=self.timeout,
                auth=_no_auth,
                stream=stream,
            )

        host = urlsplit(url).hostname or "the file server"
        return self._with_retries(
            send, policy=RetryPolicy.SAFE, label=f"{method} {describe_url(url)}", host=host
        )

    # --- the retry loop -----------------------------------------------------------------------
    def _with_retries(
        self,
        send: Callable[[], requests.Response],
        *,
        policy: RetryPolicy,
        label: str,
        host: str,
    ) -> requests.Response:
        retry = 0
        while True:
            self.raise_if_cancelled()
            started = self.clock()
            try:
                resp = send()
            except requests.exceptions.RequestException as exc:
                failure = _classify(exc)
                repeatable = failure is _Failure.UNSENT or (
                    policy is RetryPolicy.SAFE and failure in (_Failure.TIMEOUT, _Failure.DROPPED)
                )
                if repeatable and retry < self.max_retries:
                    delay = backoff_delay(retry, None, self._rand)
                    self.log(
                        logging.INFO,
                        "%s: %s (%s); retry %d/%d in %.2f s",
                        label,
                        failure.value,
                        type(exc).__name__,
                        retry + 1,
                        self.max_retries,
                        delay,
                    )
                    self.pause(delay)
                    retry += 1
                    continue
                self.log(logging.WARNING, "%s: %s (%s)", label, failure.value, type(exc).__name__)
                raise self._failure_error(failure, exc, policy, host) from exc
            status = int(resp.status_code)
            self.log(logging.DEBUG, "%s -> %d in %.2f s", label, status, self.clock() - started)
            # A 429 on the paid generate goes back to the caller, who waits for a team slot.
            repeatable = status in RETRYABLE_STATUSES and (
                policy is RetryPolicy.SAFE or (status == 429 and policy is RetryPolicy.UNSENT_ONLY)
            )
            if repeatable and retry < self.max_retries and not server_forbids_retry(resp.headers):
                hint = parse_retry_after(resp.headers, time.time())
                delay = backoff_delay(retry, hint, self._rand)
                self.log(
                    logging.INFO,
                    "%s: HTTP %d; retry %d/%d in %.2f s",
                    label, status, retry + 1, self.max_retries, delay,
                )
                resp.close()
                self.pause(delay)
                retry += 1
                continue
            return resp

    def _failure_error(
        self,
        failure: _Failure,
        exc: requests.exceptions.RequestException,
        policy: RetryPolicy,
        host: str,
    ) -> ScenarioError:
        if policy is RetryPolicy.SUBMIT and failure in (_Failure.TIMEOUT, _Failure.DROPPED):
            what = (
                f"Scenario did not answer within {self.timeout[1]:g} s"
                if failure is _Failure.TIMEOUT
                else "The connection broke"
            )
            return submission_uncertain(f"{what} after the upscale request was sent")
        if failure is _Failure.UNSENT:
            return ConnectionFailedError(
                f"Could not connect to {host}: check your internet connection (and any "
                "firewall or proxy), then try again.",
                not_sent=True,
            )
        if failure is _Failure.TIMEOUT:
            return RequestTimeoutError(
                f"{host} did not answer within {self.timeout[1]:g} s. Try again, or raise the "
                "network timeout in Blender's preferences (System → Network)."
            )
        if failure is _Failure.DROPPED:
            return ConnectionFailedError(
                f"The connection to {host} was interrupted. Check your internet connection, "
                "then try again."
            )
        if failure is _Failure.TLS:
            return ConnectionFailedError(
                f"The secure (TLS) connection to {host} failed. Check the computer's clock and "
                "any proxy that inspects HTTPS, then try again."
            )
        return ScenarioError(
            self.scrub(f"The request to {host} failed ({type(exc).__name__}). Try again.")
        )

    def close(self) -> None:
        if self._own_session:
            self.session.close()
