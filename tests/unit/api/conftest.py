"""Shared fixtures for the API client unit tests: a mocked HTTP layer and a fake clock."""

from __future__ import annotations

import base64
import os
import struct
import zlib
from collections.abc import Iterator
from http.client import RemoteDisconnected

import pytest
import requests
import responses
import urllib3
from scenario_texture_upscale.api import Credentials, ScenarioClient

BASE = "https://api.scenario.test/v1"
CDN = "https://cdn.scenario.test"
S3 = "https://s3.scenario.test"
API_KEY = "demo-key-0123456789"
# A canary: if it shows up in any message, repr or log line, a secret leaked.
CANARY = "canary-SECRET-3f9a7c"
TOKEN = base64.b64encode(f"{API_KEY}:{CANARY}".encode()).decode()
GENERATE = f"{BASE}/generate/custom/model_sc-upscale-flux-texture"

PNG_HEAD = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(56)


def png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def png_bytes(size: int, width: int = 16, height: int = 16) -> bytes:
    """A PNG file of ``size`` bytes (at least 57), whole to its IEND chunk: the client checks
    its signature and its end, not its pixels; a private chunk of noise makes up the size."""
    head = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height,
                                                                   8, 2, 0, 0, 0))
    filler = png_chunk(b"prVt", os.urandom(max(0, size - len(head) - 24)))
    return head + filler + png_chunk(b"IEND", b"")


class FakeClock:
    """Injected sleep + monotonic clock: sleeping advances time and is recorded."""

    def __init__(self) -> None:
        self.time = 1000.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.time += seconds

    def now(self) -> float:
        return self.time


def refused() -> requests.exceptions.ConnectionError:
    """What requests raises when the TCP connection cannot be opened (nothing was sent)."""
    reason = urllib3.exceptions.NewConnectionError(
        None, "Failed to establish a new connection: [Errno 111] Connection refused"
    )
    return requests.exceptions.ConnectionError(
        urllib3.exceptions.MaxRetryError(None, "/v1/x", reason)
    )


def dropped() -> requests.exceptions.ConnectionError:
    """What requests raises when the server closes the connection after the request was sent."""
    return requests.exceptions.ConnectionError(
        urllib3.exceptions.ProtocolError(
            "Connection aborted.", RemoteDisconnected("Remote end closed connection")
        )
    )


def read_timeout() -> requests.exceptions.ReadTimeout:
    return requests.exceptions.ReadTimeout("Read timed out. (read timeout=60)")


def connect_timeout() -> requests.exceptions.ConnectTimeout:
    return requests.exceptions.ConnectTimeout("Connection to host timed out. (connect timeout=5)")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def credentials() -> Credentials:
    return Credentials(API_KEY, CANARY)


@pytest.fixture
def client(credentials: Credentials, clock: FakeClock) -> Iterator[ScenarioClient]:
    # rand=0: no jitter, so backoff delays are exact.
    with ScenarioClient.open(
        credentials, BASE, sleep=clock.sleep, clock=clock.now, rand=lambda: 0.0
    ) as c:
        yield c


def job_json(status: str = "queued", **extra: object) -> dict[str, object]:
    job: dict[str, object] = {
        "jobId": "job_1",
        "jobType": "custom",
        "status": status,
        "progress": 0,
        "metadata": {},
    }
    job.update(extra)
    return {"job": job}


def asset_json(asset_id: str = "asset_1", url: str | None = None) -> dict[str, object]:
    return {
        "asset": {
            "id": asset_id,
            "url": url or f"{CDN}/assets/{asset_id}.png?Policy=p&Signature=s&Key-Pair-Id=k",
            "mimeType": "image/png",
            "kind": "image",
            "status": "success",
            "properties": {"size": 1234, "width": 512, "height": 256},
        }
    }
