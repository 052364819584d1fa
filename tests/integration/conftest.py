"""The API client against the local emulator over real sockets: one fresh server per test."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from scenario_texture_upscale.api import Credentials, Job, ScenarioClient

from emulator.server import EmulatorOptions, EmulatorServer

KEY, SECRET = "demo-key", "demo-secret"
FAST = {"job_seconds": 0.5, "upload_seconds": 0.2, "max_concurrent_jobs": 4, "log_requests": False}


class RecordingSleep:
    """Records the waits the client asks for and sleeps a tenth of them (keeps tests fast)."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        time.sleep(seconds / 10)


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    srv = EmulatorServer(EmulatorOptions(port=0, **FAST))  # type: ignore[arg-type]
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def sleeper() -> RecordingSleep:
    return RecordingSleep()


def make_client(
    server: EmulatorServer, sleeper: RecordingSleep, secret: str = SECRET, **kw: Any
) -> ScenarioClient:
    options: dict[str, Any] = {"timeout": (2.0, 10.0), "sleep": sleeper}
    options.update(kw)
    return ScenarioClient.open(Credentials(KEY, secret), server.base_url, **options)


@pytest.fixture
def client(server: EmulatorServer, sleeper: RecordingSleep) -> Iterator[ScenarioClient]:
    with make_client(server, sleeper) as c:
        yield c


def png_file(folder: Path, size: int, name: str = "texture.png", seed: int = 1) -> Path:
    """A noisy RGB PNG: noise does not compress, so the file is about 3·size² bytes."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(size, size, 3), dtype=np.uint8)
    path = folder / name
    Image.fromarray(pixels, "RGB").save(path, format="PNG", compress_level=1)
    return path


def png_bytes(size: int = 32) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), (120, 80, 40)).save(out, format="PNG")
    return out.getvalue()


def wait_for_job(client: ScenarioClient, job_id: str, timeout: float = 30.0) -> Job:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get_job(job_id)
        if job.is_terminal:
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {job.status} after {timeout} s")
        time.sleep(0.1)


def calls(server: EmulatorServer, method: str, path_prefix: str) -> list[dict[str, Any]]:
    """Logged requests; the emulator completes an entry just after answering, so wait for that."""
    deadline = time.monotonic() + 5.0
    entries = server.requests()
    while any(e["outcome"] == "pending" for e in entries) and time.monotonic() < deadline:
        time.sleep(0.01)
        entries = server.requests()
    return [e for e in entries if e["method"] == method and e["path"].startswith(path_prefix)]


GENERATE = "/v1/generate/custom/model_sc-upscale-flux-texture"
