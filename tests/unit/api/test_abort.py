"""The watchdog over real sockets: Cancel stops a request blocked in recv or send at once, a
dripping answer is stopped by its deadline, a dripping download by its stall rule.

A raw server on loopback plays the hostile service: it accepts and says nothing, reads nothing,
or sends its answer a few bytes at a time. "At once" is asserted as under a second (the issue's
promise); the watchdog looks every 50 ms, so the margin is wide on a loaded machine.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from scenario_texture_upscale.api import (
    CancelledError,
    Credentials,
    DownloadError,
    RequestTimeoutError,
    RetryPolicy,
    Transport,
    abort,
    download,
)
from scenario_texture_upscale.api.models import Asset

from .conftest import API_KEY, CANARY, png_bytes

Handler = Callable[[socket.socket, threading.Event], None]
CANCEL_PROMISE = 1.0


@contextlib.contextmanager
def raw_server(handler: Handler) -> Iterator[str]:
    """``http://127.0.0.1:<port>``, each connection given to ``handler`` on its own thread."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()
    connections: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            connections.append(conn)
            threading.Thread(target=_handle, args=(handler, conn, stop), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        listener.close()
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.close()


def _handle(handler: Handler, conn: socket.socket, stop: threading.Event) -> None:
    with contextlib.suppress(OSError):
        handler(conn, stop)


def read_head(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        piece = conn.recv(65536)
        if not piece:
            break
        data += piece
    return data


def silent(conn: socket.socket, stop: threading.Event) -> None:
    read_head(conn)
    stop.wait(30)


def reads_nothing(conn: socket.socket, stop: threading.Event) -> None:
    stop.wait(30)


def dripping(body: bytes, every: float, size: int = 1) -> Handler:
    def handler(conn: socket.socket, stop: threading.Event) -> None:
        read_head(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body))
        for start in range(0, len(body), size):
            if stop.wait(every):
                return
            conn.sendall(body[start : start + size])

    return handler


def transport(root: str, event: threading.Event | None = None, *,
              timeout: tuple[float, float] = (2.0, 10.0), retries: int = 0) -> Transport:
    return Transport(Credentials(API_KEY, CANARY), f"{root}/v1", timeout=timeout,
                     max_retries=retries, cancel_event=event)


def fetch(client: Transport, root: str, dest: Path, **kw: object) -> None:
    download.download_asset(client, lambda: Asset("asset_1", url=f"{root}/a.png"), dest,
                            **kw)  # type: ignore[arg-type]


def cancel_after(event: threading.Event, seconds: float) -> list[float]:
    """Sets ``event`` after ``seconds``; the list gets the moment it did."""
    when: list[float] = []

    def later() -> None:
        time.sleep(seconds)
        when.append(time.monotonic())
        event.set()

    threading.Thread(target=later, daemon=True).start()
    return when


def test_cancel_stops_a_request_waiting_for_its_answer_at_once() -> None:
    event = threading.Event()
    with raw_server(silent) as root:
        client = transport(root, event, timeout=(2.0, 60.0))
        asked = cancel_after(event, 0.3)
        with pytest.raises(CancelledError) as info:
            client.request("GET", "/jobs/job_1")
        took = time.monotonic() - asked[0]
    assert took < CANCEL_PROMISE, f"the cancel took {took:.2f} s"
    assert info.value.not_sent is False  # it reached the server


def test_cancel_stops_an_upload_blocked_in_send_at_once() -> None:
    """A part PUT to a server that reads nothing: send blocks once the buffers are full."""
    event = threading.Event()
    with raw_server(reads_nothing) as root:
        client = transport(root, event, timeout=(2.0, 60.0))
        asked = cancel_after(event, 0.5)
        with pytest.raises(CancelledError):
            client.send_external("PUT", f"{root}/_parts/upload_1/1?sig=x", data=bytes(64 << 20))
        took = time.monotonic() - asked[0]
    assert took < CANCEL_PROMISE, f"the cancel took {took:.2f} s"


def test_cancel_stops_a_dripping_download_at_once(tmp_path: Path) -> None:
    event = threading.Event()
    body = png_bytes(49_353)
    with raw_server(dripping(body, every=0.05)) as root:
        client = transport(root, event)
        asked = cancel_after(event, 0.5)
        with pytest.raises(CancelledError):
            fetch(client, root, tmp_path / "out.png")
        took = time.monotonic() - asked[0]
    assert took < CANCEL_PROMISE, f"the cancel took {took:.2f} s"
    assert list(tmp_path.iterdir()) == []


def test_a_generate_gets_a_grace_to_bring_back_its_job_id() -> None:
    """Cancelled while its answer is on the way, a generate waits a moment for it: with the
    job id known, the job stays collectable."""
    answer = b'{"job": {"jobId": "job_1", "status": "queued"}}'

    def slow_answer(conn: socket.socket, stop: threading.Event) -> None:
        read_head(conn)
        stop.wait(0.3)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (len(answer), answer))
        stop.wait(30)

    event = threading.Event()
    with raw_server(slow_answer) as root:
        client = transport(root, event)
        cancel_after(event, 0.1)
        resp = client.request("POST", "/generate/custom/x", json={},
                              policy=RetryPolicy.SUBMIT)
    assert resp.json()["job"]["jobId"] == "job_1"


def test_an_answer_that_drips_in_is_stopped_by_its_deadline() -> None:
    """One byte every 0.1 s never trips a 1 s read timeout; the request's deadline
    (connect + 2 × read) stops it."""
    body = b'{"job": {"jobId": "job_1"}}' * 10
    with raw_server(dripping(body, every=0.1)) as root:
        client = transport(root, timeout=(0.5, 1.0))
        started = time.monotonic()
        with pytest.raises(RequestTimeoutError, match="had not finished answering after 2 s"):
            client.request("GET", "/jobs/job_1")
        took = time.monotonic() - started
    assert 2.5 - 0.1 <= took < 2.5 + 1.0


def test_a_dripping_download_stalls_and_is_given_up(tmp_path: Path) -> None:
    """Less than 1 KiB per read timeout is a stall: each attempt stops after the window."""
    body = png_bytes(49_353)
    with raw_server(dripping(body, every=0.1)) as root:
        client = transport(root, timeout=(1.0, 1.0))
        started = time.monotonic()
        with pytest.raises(DownloadError, match="kept stalling .*less than 1024 bytes in 1 s"):
            fetch(client, root, tmp_path / "out.png", attempts=2)
        took = time.monotonic() - started
    assert took < 2 * (1.0 + 0.2) + 0.5 + 1.0  # two windows, a backoff, slack
    assert list(tmp_path.iterdir()) == []


def test_a_slow_but_steady_download_is_not_a_stall(tmp_path: Path) -> None:
    """2 KiB every 0.2 s (10 KiB/s) over a 1 s window: slow, honest, finished."""
    body = png_bytes(30_000)
    with raw_server(dripping(body, every=0.2, size=2048)) as root:
        client = transport(root, timeout=(1.0, 1.0))
        fetch(client, root, tmp_path / "out.png")
    assert (tmp_path / "out.png").read_bytes() == body


def test_a_download_past_its_deadline_is_stopped(tmp_path: Path) -> None:
    body = png_bytes(200_000)
    with raw_server(dripping(body, every=0.1, size=4096)) as root:
        client = transport(root, timeout=(1.0, 1.0))
        started = time.monotonic()
        with pytest.raises(DownloadError, match="not finished after 1 s"):
            fetch(client, root, tmp_path / "out.png", seconds=1.0)
        took = time.monotonic() - started
    assert took < 1.0 + CANCEL_PROMISE


def test_the_watchdog_thread_ends_when_nothing_is_in_flight() -> None:
    with raw_server(dripping(b"{}", every=0.0, size=2)) as root:
        client = transport(root)
        client.request("GET", "/jobs/job_1")
    deadline = time.monotonic() + abort._LINGER + 2.0
    while abort.WATCHDOG._thread is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert abort.WATCHDOG._thread is None


def test_the_download_deadline_also_stops_the_asset_request_it_starts_with(
        tmp_path: Path) -> None:
    """The asset answer (the link) drips: the download's deadline stops it, and says so."""
    answer = b'{"asset": {"id": "asset_1", "url": "http://127.0.0.1:9/a.png"}}'
    with raw_server(dripping(answer, every=0.2)) as root:
        client = transport(root, timeout=(1.0, 5.0))
        fetch_asset = lambda: Asset.from_api(client.request_json("GET", "/assets/asset_1"))  # noqa: E731
        with pytest.raises(DownloadError, match="not finished after 1 s"):
            download.download_asset(client, fetch_asset, tmp_path / "out.png", seconds=1.0)


def test_asking_scenario_to_cancel_waits_two_seconds_at_most() -> None:
    """Sent after the user's Cancel: a service that does not answer is a refusal, soon."""
    from scenario_texture_upscale.api import ScenarioClient
    from scenario_texture_upscale.api.transport import AFTER_CANCEL_SECONDS

    event = threading.Event()
    event.set()
    with raw_server(silent) as root, ScenarioClient.open(
            Credentials(API_KEY, CANARY), f"{root}/v1", timeout=(2.0, 60.0),
            cancel_event=event) as client:
        started = time.monotonic()
        with pytest.raises(RequestTimeoutError):
            client.cancel_job("job_1")
        took = time.monotonic() - started
    assert AFTER_CANCEL_SECONDS <= took < AFTER_CANCEL_SECONDS + 0.5
