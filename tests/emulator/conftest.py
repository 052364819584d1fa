"""Fixtures for the emulator tests: real servers on loopback ports, stopped after each test."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from emulator_support import Api  # noqa: E402

from emulator.server import EmulatorOptions, EmulatorServer  # noqa: E402

FAST = {"job_seconds": 0.3, "upload_seconds": 0.2, "log_requests": False}


@pytest.fixture
def make_server() -> Iterator[Callable[..., EmulatorServer]]:
    started: list[EmulatorServer] = []

    def make(**overrides: Any) -> EmulatorServer:
        server = EmulatorServer(EmulatorOptions(**{**FAST, **overrides}))
        started.append(server.start())
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def server(make_server: Callable[..., EmulatorServer]) -> EmulatorServer:
    return make_server()


@pytest.fixture
def api(server: EmulatorServer) -> Api:
    return Api(server)


@pytest.fixture
def make_api(make_server: Callable[..., EmulatorServer]) -> Callable[..., Api]:
    return lambda **overrides: Api(make_server(**overrides))
