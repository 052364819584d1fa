"""Clients of the core's test emulator (see conftest.py)."""

from __future__ import annotations

from scenario_texture_upscale.api.client import ScenarioClient
from scenario_texture_upscale.api.config import Credentials
from scenario_texture_upscale.core.scheduler import JobContext

from emulator.server import EmulatorServer


def connect_to(server: EmulatorServer):
    """The pipeline's client factory for ``server``, with the job's cancel flag."""
    def connect(ctx: JobContext) -> ScenarioClient:
        return ScenarioClient.open(Credentials("demo-key", "demo-secret"), server.base_url,
                              cancel_event=ctx.cancel_event)
    return connect
