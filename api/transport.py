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

Redirects: API calls follow none (a 3xx raises ``RedirectRefusedError``): they carry the keys and,
for an upload, the image, and Scenario's API has no reason to move; following one would send
both to whatever address the answer names. Requests to links Scenario hands out (download links,
upload parts) follow redirects by hand, each hop checked by ``links.LinkPolicy`` before anything
is sent to it, at most ``MAX_REDIRECTS`` hops.

Every request runs under the watchdog (``abort``): the job's Cancel shuts its socket at once (a
generate is given ``SUBMIT_CANCEL_GRACE`` to bring back its job id first), and a request that is
still not done after ``request_seconds`` (a server dripping its answer) is stopped like a read
timeout.
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
from urllib.parse import urljoin, urlsplit

import requests

from .abort import ConnectionTracker, Limit, RequestGuard, Stall, Stop, StopKind
from .config import Credentials
from .constants import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, USER_AGENT
from .errors import (
    REFUSALS,
    CancelledError,
    ConnectionFailedError,
    RedirectRefusedError,
    RequestTimeoutError,
    ScenarioError,
    UnexpectedResponseError,
    UnsafeLinkError,
    error_from_response,
    submission_uncertain,
)
from .links import LinkPolicy
from .redact import redact_keys
from .retry import RETRYABLE_STATUSES, backoff_delay, parse_retry_after, server_forbids_retry

_LOG = logging.getLogger(__name__)

# urllib3 names the errors raised while opening a connection, i.e. before any byte was sent.
# Matched by name so the code does not import urllib3 (only requests is promised in Blender).
_CONNECT_ERROR_NAMES = frozenset({"NewConnectionError", "ConnectTimeoutError"})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Statuses after which a redirect may repeat the method and its body (the others turn into GET).
_SAME_METHOD_REDIRECTS = frozenset({307, 308})
MAX_REDIRECTS = 5
# A cancelled generate waits this long for its answer before its socket is shut: with the job id
# known, a cancel leaves a job Recover can collect instead of one that may exist unseen.
SUBMIT_CANCEL_GRACE = 0.5
# A request body is sent at least this fast, or its request is stopped (see request_seconds).
MIN_SEND_BYTES_PER_SECOND = 16 * 1024
# Asking Scenario to cancel happens after the user's Cancel, who is waiting for it: a service
# that does not answer at once is taken as a refusal (the job is kept for Recover).
AFTER_CANCEL_SECONDS = 2.0


class RetryPolicy(enum.Enum):
    SAFE = "safe"
    UNSENT_ONLY = "unsent_only"
    SUBMIT = "submit"


class _Failure(enum.Enum):
    UNSENT = "unsent"
    TIMEOUT = "timeout"
    SLOW = "slow"  # the whole request took longer than request_seconds: an answer dripping in
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


def _check_whole(resp: requests.Response) -> None:
    """Raises when an answer read whole has fewer bytes than its Content-Length: urllib3 before
    2.0 hands over what came when the connection ends early (a shut socket, a server gone)."""
    declared = resp.headers.get("Content-Length", "")
    encoded = resp.headers.get("Content-Encoding", "identity").lower() not in ("", "identity")
    if declared.isdigit() and not encoded and len(resp.content) < int(declared):
        resp.close()
        raise requests.exceptions.ChunkedEncodingError(
            f"the answer ended after {len(resp.content)} of {declared} bytes")


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
        self.links = LinkPolicy(self.base_url)
        self._tracker = ConnectionTracker()
        if self._own_session:
            # A caller's session keeps its own adapters: Cancel then waits for its timeouts.
            self._tracker.mount(self.session)
        self._guard = RequestGuard(cancel_event, self._tracker)
        self._seconds_cap: float | None = None  # see after_cancel
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

    @property
    def cancel_event(self) -> threading.Event | None:
        return self._guard.cancel_event

    @cancel_event.setter
    def cancel_event(self, event: threading.Event | None) -> None:
        self._guard.cancel_event = event

    def raise_if_cancelled(self) -> None:
        if self.cancel_event is not None and self.cancel_event.is_set():
            raise CancelledError("Cancelled.", not_sent=True)

    @contextlib.contextmanager
    def after_cancel(self) -> Iterator[None]:
        """For a request sent because the user stopped a job (asking Scenario to cancel it):
        the stop flag must not stop it, and a single try keeps the answer quick."""
        saved = self.cancel_event, self.max_retries, self._seconds_cap
        self.cancel_event, self.max_retries = None, 0
        self._seconds_cap = AFTER_CANCEL_SECONDS
        try:
            yield
        finally:
            self.cancel_event, self.max_retries, self._seconds_cap = saved

    def pause(self, seconds: float) -> None:
        """Sleep, waking early on cancel when the real clock is used."""
        self.raise_if_cancelled()
        if seconds > 0:
            if self.cancel_event is not None and self._sleep is time.sleep:
                self.cancel_event.wait(seconds)
            else:
                self._sleep(seconds)
        self.raise_if_cancelled()

    # --- the watchdog, for work longer than one request (a download across its attempts) -----
    def watching(self, seconds: float | None = None, stall: Stall | None = None
                 ) -> contextlib.AbstractContextManager[Limit]:
        """Stops the requests inside (shuts their sockets) once ``seconds`` have passed or when
        they make less progress than ``stall`` asks; the job's Cancel stops them in any case.
        Who reads a response's body reports it with ``progressed``."""
        return self._guard.watching(seconds, stall)

    def restart(self, limit: Limit) -> None:
        self._guard.restart(limit)

    def progressed(self, count: int) -> None:
        self._guard.progressed(count)

    def stop(self) -> Stop | None:
        """Why the watchdog stopped the request in flight, if it did."""
        return self._guard.stop()

    def request_seconds(self, body_bytes: int = 0) -> float:
        """How long one request may take in all: connecting, sending its body at no less than
        ``MIN_SEND_BYTES_PER_SECOND`` and twice the read timeout for the answer. A read timeout
        alone never ends an answer that drips in a byte at a time."""
        connect, read = self.timeout
        seconds = connect + 2 * read + body_bytes / MIN_SEND_BYTES_PER_SECOND
        return min(seconds, self._seconds_cap) if self._seconds_cap else seconds

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
                allow_redirects=False,
            )

        label = f"{method} {path}"
        resp = self._with_retries(send, policy=policy, label=label, host="Scenario",
                                  body_bytes=len(body or b""))
        if resp.status_code in ok:
            return resp
        if resp.status_code in _REDIRECTS:
            resp.close()
            raise self._redirect_refused(label, resp)
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

    def _redirect_refused(self, label: str, resp: requests.Response) -> RedirectRefusedError:
        target = resp.headers.get("Location") or ""
        where = describe_url(urljoin(resp.url or self.base_url, target)) if target else "nowhere"
        self.log(logging.WARNING, "%s: HTTP %s redirect to %s refused", label,
                 resp.status_code, where)
        return RedirectRefusedError(
            f"Scenario's API answered {label} with a redirect (HTTP {resp.status_code}) to "
            f"{where}. The add-on follows no redirect on API calls, so nothing was sent there. "
            "Check the Scenario address in the add-on preferences (and any proxy), then try "
            "again.",
            status=int(resp.status_code),
        )

    # --- requests to pre-signed URLs (S3 parts, CDN) ------------------------------------------
    def send_external(
        self,
        method: str,
        url: str,
        *,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
        what: str = "link",
    ) -> requests.Response:
        """Unauthenticated request to a signed URL, retried as SAFE; any final status returned.

        The URL is used exactly as given: its query is its signature. It, and every redirect
        it answers with, is checked (``links``) before anything is sent to it; ``what`` names
        it in messages ("download link").
        """
        sent_headers = {"User-Agent": self.user_agent, **(headers or {})}
        self.links.check(url, f"Scenario sent a {what}")
        for _hop in range(MAX_REDIRECTS + 1):
            resp = self._send_external_once(method, url, data, sent_headers, stream)
            if resp.status_code not in _REDIRECTS:
                return resp
            status, location = int(resp.status_code), resp.headers.get("Location") or ""
            resp.close()
            if not location:
                raise UnexpectedResponseError(
                    f"{describe_url(url)} answered a redirect (HTTP {status}) that names no "
                    "address. Try again later.", status=status)
            url = self.links.check(urljoin(url, location),
                                   f"The {what} redirected (HTTP {status}) to an address")
            if status not in _SAME_METHOD_REDIRECTS and method not in ("GET", "HEAD"):
                raise UnsafeLinkError(
                    f"The {what} answered {method} with a redirect (HTTP {status}) that would "
                    "drop what was sent; it was not followed. Try again later.", not_sent=True)
            self.log(logging.INFO, "%s %s: HTTP %d, following to %s", method, what, status,
                     describe_url(url))
        raise UnexpectedResponseError(
            f"The {what} redirected more than {MAX_REDIRECTS} times; it was not followed further. "
            "Try again later.")

    def _send_external_once(self, method: str, url: str, data: bytes | None,
                            headers: Mapping[str, str], stream: bool) -> requests.Response:
        def send() -> requests.Response:
            return self.session.request(
                method,
                url,
                data=data,
                headers=headers,
                timeout=self.timeout,
                auth=_no_auth,
                stream=stream,
                allow_redirects=False,
            )

        host = urlsplit(url).hostname or "the file server"
        return self._with_retries(send, policy=RetryPolicy.SAFE,
                                  label=f"{method} {describe_url(url)}", host=host,
                                  body_bytes=len(data or b""), stream=stream)

    # --- the retry loop -----------------------------------------------------------------------
    def _with_retries(
        self,
        send: Callable[[], requests.Response],
        *,
        policy: RetryPolicy,
        label: str,
        host: str,
        body_bytes: int = 0,
        stream: bool = False,
    ) -> requests.Response:
        retry = 0
        while True:
            self.raise_if_cancelled()
            started = self.clock()
            outcome = self._watched(send, policy, body_bytes, stream)
            if not isinstance(outcome, requests.Response):
                failure, exc = outcome
                repeatable = failure is _Failure.UNSENT or (
                    policy is RetryPolicy.SAFE
                    and failure in (_Failure.TIMEOUT, _Failure.SLOW, _Failure.DROPPED)
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
                raise self._failure_error(failure, exc, policy, host,
                                          self.request_seconds(body_bytes)) from exc
            resp = outcome
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

    def _watched(self, send: Callable[[], requests.Response], policy: RetryPolicy,
                 body_bytes: int, stream: bool
                 ) -> requests.Response | tuple[_Failure, requests.exceptions.RequestException]:
        """One try of ``send`` under the watchdog: the response, or how it failed. Raises
        ``CancelledError`` when the job's Cancel stopped it, and lets the error through when a
        watch around it (a download's) stopped it: its owner says what that means."""
        grace = SUBMIT_CANCEL_GRACE if policy is RetryPolicy.SUBMIT else 0.0
        with self._guard.watching(self.request_seconds(body_bytes), grace=grace) as limit:
            try:
                resp = send()
                if not stream:
                    _check_whole(resp)
                return resp
            except requests.exceptions.RequestException as exc:
                failure, stop = _classify(exc), self._guard.stop()
                if stop is None:
                    return failure, exc
                if stop.kind == StopKind.CANCELLED:
                    raise CancelledError("Cancelled.", not_sent=failure is _Failure.UNSENT) from exc
                if stop.limit is not limit:
                    raise
                return _Failure.SLOW, exc

    def _failure_error(
        self,
        failure: _Failure,
        exc: requests.exceptions.RequestException,
        policy: RetryPolicy,
        host: str,
        seconds: float,
    ) -> ScenarioError:
        if policy is RetryPolicy.SUBMIT and failure in (_Failure.TIMEOUT, _Failure.SLOW,
                                                        _Failure.DROPPED):
            what = {
                _Failure.TIMEOUT: f"Scenario did not answer within {self.timeout[1]:g} s",
                _Failure.SLOW: f"Scenario's answer was not complete after {seconds:.0f} s",
            }.get(failure, "The connection broke")
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
        if failure is _Failure.SLOW:
            return RequestTimeoutError(
                f"{host} had not finished answering after {seconds:.0f} s (a read timeout stops "
                "only a silence, not a trickle), so the request was stopped. Try again later."
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
