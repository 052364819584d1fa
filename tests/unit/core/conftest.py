"""The emulator the core's pipeline tests talk to over real sockets: one per test module, its
state reset before each test that asks for it (``emulated``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from emulator.options import EmulatorOptions
from emulator.server import EmulatorServer


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer(EmulatorOptions(job_seconds=0.4, log_requests=False)) as srv:
        yield srv


@pytest.fixture
def emulated(server: EmulatorServer) -> EmulatorServer:
    server.reset()
    return server
