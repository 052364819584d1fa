"""HTTP/1.1 wire handling: read a request, apply request-level faults, write the answer.

Faults act here because they are about the connection: a delay before processing, a status or
a redirect answered instead of processing, a connection dropped before or after processing, a
body cut short after full-length headers, a Content-Length shorter than the body, a body
dripped a few bytes at a time.

The same handler serves the emulator's other listener (another port: another origin, see
server.py), which no fault touches and whose requests the log marks ``"listener": "other"``.
"""

from __future__ import annotations

import socket
import time
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from . import answer_faults
from .errors import default_body, gateway_body
from .messages import Request, Response
from .request_log import summarise_body

if TYPE_CHECKING:
    from .app import Emulator
    from .faults import FaultRule

_CHUNK = 64 * 1024
# Part PUTs carry raw slices, so they get a larger cap than the JSON API.
_PART_BODY_CAP = 256 * 1024 * 1024
# Oversized bodies up to this size are read and discarded so keep-alive survives the 413.
_DRAIN_CAP = 64 * 1024 * 1024
_SECRET_QUERY_KEYS = {"Signature", "Policy", "X-Amz-Signature"}


class BodyTooLarge(Exception):
    def __init__(self, length: int) -> None:
        super().__init__(length)
        self.length = length


class ClientGone(ConnectionError):
    """The connection ended (client gone, or the server shutting down) in the middle of a body."""


class EmulatorHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ScenarioEmulator/1.0"
    sys_version = ""
    # Reap idle keep-alive connections eventually.
    timeout = 300
    # Headers and body go out as separate writes: with Nagle's algorithm the body would wait
    # for the client's delayed ACK, adding ~40 ms to every answer, which no real service does.
    disable_nagle_algorithm = True

    def version_string(self) -> str:
        return self.server_version

    @property
    def app(self) -> Emulator:
        app: Emulator = self.server.app  # type: ignore[attr-defined]
        return app

    @property
    def listener(self) -> str:
        name: str = self.server.listener  # type: ignore[attr-defined]
        return name

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection)  # type: ignore[attr-defined]

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)  # type: ignore[attr-defined]

    # BaseHTTPRequestHandler looks these up by name.
    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        return  # one line per request is written by _serve instead

    def log_message(self, format: str, *args: Any) -> None:
        self.app.log_line(f"[emulator] {self.client_address[0]} {format % args}")

    # -- reading ----------------------------------------------------------------------------
    def _read_chunked(self, cap: int) -> bytes:
        body = bytearray()
        while True:
            line = self.rfile.readline()
            if not line:
                raise ClientGone
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                break
            body += self._read_exactly(size)
            self.rfile.readline()
            if len(body) > cap:
                self.close_connection = True
                raise BodyTooLarge(len(body))
        return bytes(body)

    def _read_body(self, cap: int) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked(cap)
        length = int(self.headers.get("Content-Length") or 0)
        if length > cap:
            if length <= _DRAIN_CAP:
                remaining = length
                while remaining > 0:
                    chunk = self.rfile.read(min(_CHUNK, remaining))
                    if not chunk:
                        break
                    remaining -= len(chunk)
            else:
                self.close_connection = True
            raise BodyTooLarge(length)
        return self._read_exactly(length)

    def _read_exactly(self, length: int) -> bytes:
        data = self.rfile.read(length) if length > 0 else b""
        if len(data) < length:
            raise ClientGone  # a body cut short is never processed, as S3 or a gateway would not
        return data

    # -- writing ----------------------------------------------------------------------------
    def _write(self, response: Response, body_fault: FaultRule | None = None) -> None:
        body = response.body
        kind = body_fault.kind if body_fault is not None else None
        cut = len(body)
        if body_fault is not None and kind in ("truncate", "short_length"):
            wanted = body_fault.param("bytes")
            cut = min(len(body), len(body) // 2 if wanted is None else int(wanted))
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        # short_length states the cut; truncate states the whole and sends the cut.
        self.send_header("Content-Length", str(cut if kind == "short_length" else len(body)))
        self.end_headers()
        if self.command == "HEAD":
            return
        if body_fault is not None and kind == "drip":
            self._drip(body, body_fault)
            self._hang_up()
            return
        view = memoryview(body)
        limit = cut if kind == "truncate" else len(body)
        for start in range(0, limit, _CHUNK):
            self.wfile.write(view[start : min(limit, start + _CHUNK)])
        if kind is not None:
            # Cut short, or more sent than stated: the connection cannot carry another answer.
            self.wfile.flush()
            self._hang_up()

    def _drip(self, body: bytes, rule: FaultRule) -> None:
        """``bytes`` bytes every ``seconds`` seconds, until the body is out or the client (or the
        server's shutdown) ends the connection."""
        step = max(1, int(rule.param("bytes") or 1))
        seconds = float(rule.param("seconds", 1.0))
        for start in range(0, len(body), step):
            time.sleep(seconds)
            self.wfile.write(body[start : start + step])
            self.wfile.flush()

    def _hang_up(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            return

    # -- the request cycle ----------------------------------------------------------------------
    def _serve(self) -> None:
        started = time.monotonic()
        split = urlsplit(self.path)
        path, query = split.path, dict(parse_qsl(split.query, keep_blank_values=True))
        # The control API answers on the main listener only; the other one logs everything.
        control = path.startswith("/_emulator/") and self.listener == "main"
        cap = _PART_BODY_CAP if path.startswith("/_parts/") else self.app.options.max_body_bytes
        try:
            body: bytes | None = self._read_body(cap)
            too_large = None
        except BodyTooLarge as exc:
            body, too_large = None, exc.length
        except ValueError:  # malformed Content-Length or chunk size
            self.close_connection = True
            self._send(Response.json(400, gateway_body("Bad Request")))
            return
        except OSError:  # ClientGone, or the socket failed: nobody to answer
            self.close_connection = True
            return
        request = Request(self.command, path, query, self.headers, body or b"",
                          self.client_address[0])
        entry = None if control else self.app.log.start(
            self.command, path, query, summarise_body(body, too_large), self.listener)
        response, outcome, faults, body_fault = self._decide(request, too_large, control,
                                                             split.query)
        if response is not None and not control and outcome != "dropped-after-processing":
            # What the answer says may lie too (prices, texts), whoever made it.
            response = answer_faults.rewrite(self.app.faults, request, response)
        faults = [*faults, *request.extras.get("faults", [])]
        status = None if response is None else response.status
        # Record before touching the wire: the client may act the moment it sees the answer.
        if entry is not None:
            self.app.log.finish(entry, status, outcome, faults)
            self._log_line(request, status, outcome, faults, started)
        if outcome.startswith("dropped") or response is None:
            self._hang_up()
        else:
            self._send(response, body_fault)

    def _decide(self, request: Request, too_large: int | None, control: bool, query: str
                ) -> tuple[Response | None, str, list[str], FaultRule | None]:
        """Run one request through faults and dispatch.

        Returns (response or None when dropped, outcome, fault kinds that acted, the rule that
        shapes the body).
        """
        if too_large is not None:
            message = f"HTTP content length exceeded {self.app.options.max_body_bytes} bytes."
            return Response.json(413, gateway_body(message)), "answered", [], None
        if control:
            return self.app.dispatch(request), "answered", [], None
        if self.listener != "main":
            if request.path.startswith("/_emulator/"):
                return Response.json(404, gateway_body("Not Found")), "answered", [], None
            return self.app.dispatch(request), "answered", [], None
        decision = self.app.faults.claim_request(request.method, request.path)
        if decision.delay is not None:
            seconds = decision.delay.param("seconds")
            time.sleep(1.0 if seconds is None else float(seconds))
        rule = decision.terminal
        if rule is not None and rule.kind == "status":
            return _fault_response(rule), "fault-status", decision.fired, None
        if rule is not None and rule.kind == "redirect":
            target = self._redirect_target(rule, request.path, query)
            return _redirect_response(rule, target), "redirected", decision.fired, None
        if rule is not None and not rule.param("drop_after_processing"):
            return None, "dropped", decision.fired, None
        response = self.app.dispatch(request)
        if rule is not None:
            return response, "dropped-after-processing", decision.fired, None
        body = decision.body
        outcome = _BODY_OUTCOMES[body.kind] if body is not None else "answered"
        return response, outcome, decision.fired, body

    def _redirect_target(self, rule: FaultRule, path: str, query: str) -> str:
        """``to``: an address, or "other" (the default): this path on the other listener."""
        to = rule.param("to") or "other"
        if to != "other":
            return str(to)
        return f"{self.app.other_root_url}{path}" + (f"?{query}" if query else "")

    def _send(self, response: Response, body_fault: FaultRule | None = None) -> None:
        try:
            self._write(response, body_fault)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True  # the client gave up (e.g. after its read timeout)

    def _log_line(self, request: Request, status: int | None, outcome: str,
                  faults: list[str], started: float) -> None:
        shown = "&".join(f"{key}={'…' if key in _SECRET_QUERY_KEYS else value}"
                         for key, value in request.query.items())
        target = request.path + (f"?{shown}" if shown else "")
        extra = f" [{outcome}: {','.join(faults)}]" if faults else ""
        elapsed = (time.monotonic() - started) * 1000
        self.app.log_line(f"[emulator] {request.method} {target} -> {status or '-'} "
                          f"{elapsed:.0f}ms{extra}")


_BODY_OUTCOMES = {"truncate": "truncated", "short_length": "short-length", "drip": "dripped"}


def _redirect_response(rule: FaultRule, target: str) -> Response:
    status = int(rule.param("status") or 307)
    return Response.json(status, {"message": "Moved"}, [("Location", target)])


def _fault_response(rule: FaultRule) -> Response:
    status = int(rule.param("status"))
    headers = [(str(k), str(v)) for k, v in (rule.param("headers") or {}).items()]
    if rule.param("retry_after") is not None:
        headers.append(("Retry-After", _number_text(rule.param("retry_after"))))
    if rule.param("retry_after_ms") is not None:
        headers.append(("retry-after-ms", _number_text(rule.param("retry_after_ms"))))
    body = rule.param("body")
    if isinstance(body, str):
        return Response(status, body.encode(), [("Content-Type", "text/plain"), *headers])
    return Response.json(status, default_body(status) if body is None else body, headers)


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
