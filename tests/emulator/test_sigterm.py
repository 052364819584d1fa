"""SIGTERM stops the emulator process within a second, whatever its clients left behind.

Each test starts the real process (``python -m emulator``), leaves it in one awkward state,
sends SIGTERM and measures the time until the process has exited.
"""

from __future__ import annotations

import io
import os
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from emulator_support import KEY, MODEL_ID, SECRET, data_url
from PIL import Image

from emulator.process import start_emulator_process, stop_emulator_process

REPO = Path(__file__).resolve().parents[2]
# What the emulator promises: gone within a second of SIGTERM.
SHUTDOWN_SECONDS = 1.0
AUTH = (KEY, SECRET)


class Emulator:
    """One emulator process and the raw sockets a test leaves open on it."""

    def __init__(self, *args: str) -> None:
        self.proc, self.base_url = start_emulator_process(["--quiet", *args])
        parts = urlsplit(self.base_url)
        self.address = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.sockets: list[socket.socket] = []

    def connect(self, payload: bytes = b"") -> socket.socket:
        sock = socket.create_connection(self.address, timeout=5)
        if payload:
            sock.sendall(payload)
        self.sockets.append(sock)
        return sock

    def terminate(self) -> float:
        """SIGTERM; seconds until the process exited (asserts a clean exit)."""
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            # Generous, so a slow exit is measured and reported rather than cut off.
            code = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            code = None
        elapsed = time.monotonic() - started
        print(f"shutdown after SIGTERM: {elapsed * 1000:.0f} ms")  # shown with -s
        assert code == 0, f"exit code {code} after {elapsed:.2f} s"
        return elapsed

    def close(self) -> None:
        for sock in self.sockets:
            sock.close()
        stop_emulator_process(self.proc)


@pytest.fixture
def make_emulator() -> Iterator[Callable[..., Emulator]]:
    started: list[Emulator] = []

    def make(*args: str) -> Emulator:
        started.append(Emulator(*args))
        return started[-1]

    yield make
    for emulator in started:
        emulator.close()


def _upload(base_url: str, image: Image.Image) -> str:
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    answer = requests.post(f"{base_url}/assets", json={"name": "t.png", "image": data_url(
        out.getvalue())}, auth=AUTH, timeout=30)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["asset"]["id"])


def _start_long_render(emulator: Emulator) -> str:
    """A job whose upscale (1024² x8 of noise: seconds of work) is under way; returns its id."""
    asset_id = _upload(emulator.base_url, Image.effect_noise((1024, 1024), 64).convert("RGB"))
    answer = requests.post(f"{emulator.base_url}/generate/custom/{MODEL_ID}",
                           json={"image": asset_id, "upscaleFactor": 8}, auth=AUTH, timeout=30)
    assert answer.status_code == 200, answer.text
    job_id = str(answer.json()["job"]["jobId"])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        job = requests.get(f"{emulator.base_url}/jobs/{job_id}", auth=AUTH, timeout=30).json()["job"]
        # With --job-seconds 0.1 the job reaches finalizing at once and then waits for the
        # upscale: finalizing means the render thread is still busy.
        if job["status"] == "finalizing":
            return job_id
        assert job["status"] in ("queued", "warming-up", "in-progress"), job
        time.sleep(0.02)
    raise AssertionError("the job never reached finalizing")


def _assert_prompt(elapsed: float) -> None:
    assert elapsed <= SHUTDOWN_SECONDS, f"took {elapsed:.2f} s to stop after SIGTERM"


def test_idle(make_emulator):
    _assert_prompt(make_emulator().terminate())


def test_half_sent_request_body(make_emulator):
    emulator = make_emulator()
    # Headers announce a body that never comes; the handler waits in its read.
    emulator.connect(b"POST /v1/assets HTTP/1.1\r\nHost: emulator\r\nContent-Type: "
                     b"application/json\r\nContent-Length: 100000\r\n\r\n{\"name\": \"t")
    time.sleep(0.2)
    _assert_prompt(emulator.terminate())


def test_half_sent_request_headers(make_emulator):
    emulator = make_emulator()
    emulator.connect(b"GET /v1/models/" + MODEL_ID.encode() + b" HTTP/1.1\r\nHost: emu")
    time.sleep(0.2)
    _assert_prompt(emulator.terminate())


def test_idle_connections(make_emulator):
    emulator = make_emulator()
    emulator.connect()  # connected, nothing sent
    # A keep-alive connection that has had its answer and is left open.
    session = requests.Session()
    assert session.get(f"{emulator.base_url}/models/{MODEL_ID}", auth=AUTH,
                       timeout=5).status_code == 200
    time.sleep(0.2)
    try:
        _assert_prompt(emulator.terminate())
    finally:
        session.close()


def test_stalled_download(make_emulator):
    emulator = make_emulator()
    asset_id = _upload(emulator.base_url, Image.effect_noise((1024, 1024), 64).convert("RGB"))
    asset = requests.get(f"{emulator.base_url}/assets/{asset_id}", auth=AUTH, timeout=5).json()
    target = urlsplit(asset["asset"]["url"])
    # Asks for megabytes and reads a few bytes: the handler blocks writing to a full socket.
    sock = emulator.connect(f"GET {target.path}?{target.query} HTTP/1.1\r\nHost: emulator\r\n"
                            "\r\n".encode())
    assert sock.recv(100).startswith(b"HTTP/1.1 200")
    time.sleep(0.2)
    _assert_prompt(emulator.terminate())


def test_job_rendering(make_emulator):
    emulator = make_emulator("--job-seconds", "0.1")
    _start_long_render(emulator)
    _assert_prompt(emulator.terminate())


def test_client_gone_mid_job_with_everything_else_open(make_emulator):
    emulator = make_emulator("--job-seconds", "0.1")
    job_id = _start_long_render(emulator)
    # The client that asked for the job polls once more, then dies without reading the answer.
    poll = emulator.connect(f"GET /v1/jobs/{job_id} HTTP/1.1\r\nHost: emulator\r\n\r\n".encode())
    poll.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    poll.close()  # a reset, as when a process is killed
    emulator.connect()
    emulator.connect(b"PUT /_parts/upload_x/1?X-Amz-Signature=x HTTP/1.1\r\nHost: e\r\n"
                     b"Content-Length: 5000000\r\n\r\n" + b"\0" * 1000)
    time.sleep(0.2)
    _assert_prompt(emulator.terminate())


# --- signal storms: two or three signals within a millisecond ----------------------------------
# GNU make forwards a fatal signal to its child, so an emulator under `make emulator` stopped by a
# signal to its process group gets it twice. A handler that took a lock (Event.set) deadlocked
# when the second signal landed while the first handler held that lock.
STORM_ROUNDS = 12
STORMS = [(signal.SIGTERM, signal.SIGTERM), (signal.SIGTERM, signal.SIGINT, signal.SIGTERM),
          (signal.SIGINT, signal.SIGINT), (signal.SIGTERM, signal.SIGTERM, signal.SIGTERM)]


def _jobs_in_flight(base_url: str, count: int = 3) -> None:
    """Jobs that are queued or running, and their render threads busy, when the signals land."""
    asset_id = _upload(base_url, Image.effect_noise((256, 256), 64).convert("RGB"))
    for _ in range(count):
        answer = requests.post(f"{base_url}/generate/custom/{MODEL_ID}",
                               json={"image": asset_id, "upscaleFactor": 4}, auth=AUTH, timeout=30)
        assert answer.status_code in (200, 429), answer.text


def _storm(group: int, signals: tuple[int, ...]) -> float:
    """Sends ``signals`` to the process group back to back; returns the time of the first."""
    started = time.monotonic()
    for signum in signals:
        os.killpg(group, signum)
    return started


def _wait_gone(proc: subprocess.Popen[str], started: float, what: str) -> float:
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise AssertionError(f"{what}: still running 30 s after the signals") from None
    # Under make the emulator is make's child: the whole group must be gone, not just make.
    while _group_alive(proc.pid):
        if time.monotonic() - started > 30:
            os.killpg(proc.pid, signal.SIGKILL)
            raise AssertionError(f"{what}: a process of the group outlived the signals")
        time.sleep(0.005)
    return time.monotonic() - started


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def _started_in_own_group(command: list[str]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True,
                            start_new_session=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("EMULATOR_READY "):
            return proc, line.split(" ", 1)[1].strip()
    proc.wait(timeout=10)
    raise AssertionError(f"{command} never became ready (exit code {proc.returncode})")


@pytest.mark.parametrize("under_make", [False, True], ids=["direct", "under-make"])
def test_signal_storms_with_jobs_in_flight(under_make):
    if under_make:
        command = ["make", "-s", "emulator", "PORT=0", "ARGS=--quiet --job-seconds 2"]
    else:
        command = [sys.executable, "-m", "emulator", "--port", "0", "--quiet",
                   "--job-seconds", "2"]
    times = []
    for round_ in range(STORM_ROUNDS):
        proc, base_url = _started_in_own_group(command)
        try:
            _jobs_in_flight(base_url)
            # Vary the moment within the emulator's poll, so some storms land mid-poll.
            time.sleep((round_ % 4) * 0.013)
            started = _storm(proc.pid, STORMS[round_ % len(STORMS)])
            times.append(_wait_gone(proc, started, f"round {round_}"))
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            assert proc.stdout is not None
            proc.stdout.close()
    print(f"stopped after {len(times)} storms in {min(times) * 1000:.0f}–"
          f"{max(times) * 1000:.0f} ms")
    assert max(times) <= SHUTDOWN_SECONDS, [round(t, 3) for t in times]
