"""Clients of the core's test emulator (see conftest.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from scenario_texture_upscale.api.client import ScenarioClient
from scenario_texture_upscale.api.config import Credentials
from scenario_texture_upscale.core.journal import JobRecord, Journal
from scenario_texture_upscale.core.scheduler import JobCancelled, JobContext
from scenario_texture_upscale.core.states import JobState

from emulator.server import EmulatorServer


def connect_to(server: EmulatorServer):
    """The pipeline's client factory for ``server``, with the job's cancel flag."""
    def connect(ctx: JobContext) -> ScenarioClient:
        return ScenarioClient.open(Credentials("demo-key", "demo-secret"), server.base_url,
                              cancel_event=ctx.cancel_event)
    return connect


def cancelled_once(run: Callable[[], object], ctx: JobContext,
                   ready: Callable[[], bool]) -> BaseException | None:
    """Runs ``run`` in a thread, cancels ``ctx`` as the user would once ``ready()`` holds, and
    returns what ``run`` raised (None if it returned)."""
    raised: list[BaseException] = []

    def go() -> None:
        try:
            run()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            raised.append(exc)

    thread = threading.Thread(target=go)
    thread.start()
    while not ready():
        time.sleep(0.01)
    ctx.cancel(by_user=True)
    thread.join(30)
    return raised[0] if raised else None


def stopped_while_generating(run: Callable[..., object], job, ctx: JobContext, journal: Journal,
                             server: EmulatorServer, ready: Callable[[], bool]) -> JobRecord:
    """Runs ``run(job, ctx, journal, connect)`` for a set (UDIM tiles, preview variants), stops
    it as the user would once ``ready()``, and returns the set's record as saved: the run ended
    in a cancel, and the set is kept for Recover."""
    raised = cancelled_once(lambda: run(job, ctx, journal, connect_to(server)), ctx, ready)
    assert isinstance(raised, JobCancelled)
    saved = journal.load(job.record.local_id)
    assert saved is not None and saved.state == JobState.ABANDONED and saved.recoverable
    return saved
