"""LoRA ids checked before anything is spent: a model lookup is free, a paid generate is not.

Each id is looked up once per session (this process), per service, project and key: a second
upscale with the same LoRA sends no lookup. URLs are not checked: they name weights Scenario
fetches itself, and only that fetch can tell whether one is good.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from .client import ScenarioClient
from .errors import CancelledError, InvalidRequestError, ScenarioError


class UnknownLoraError(InvalidRequestError):
    """A LoRA id Scenario does not know; nothing was uploaded or spent."""


class LoraCheckFailedError(ScenarioError):
    """A LoRA could not be looked up (network, keys); nothing was uploaded or spent."""


def is_url(lora: str) -> bool:
    return "://" in lora


# How a job waits for another's lookup: ``wait(condition, predicate)`` with ``condition`` held,
# woken by a notify (the scheduler's JobContext.wait_for, which a cancel also wakes).
Wait = Callable[[threading.Condition, Callable[[], bool]], object]


def _wait(condition: threading.Condition, predicate: Callable[[], bool]) -> object:
    return condition.wait_for(predicate)


class LoraCheck:
    """The session's answers: (account, id) → whether Scenario knows the model."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, str], bool] = {}
        # Ids being looked up: jobs of a batch starting together look an id up once, the
        # others wait on ``_changed`` for that answer.
        self._asking: set[tuple[str, str]] = set()
        self._changed = threading.Condition()

    def check(self, client: ScenarioClient, loras: Iterable[str], wait: Wait = _wait) -> None:
        """Raises UnknownLoraError for the first id Scenario does not know, LoraCheckFailedError
        when a lookup fails; a failed lookup is not remembered, so the next upscale asks again."""
        for lora in loras:
            if is_url(lora):
                continue
            key = (client.transport.account, lora)
            known = self._answer_or_claim(key, wait)
            if known is None:
                try:
                    known = _look_up(client, lora)
                finally:
                    self._settle(key, known)
            if not known:
                raise UnknownLoraError(client.transport.scrub(
                    f"LoRA '{lora}' is not a model Scenario knows for these API keys: check its id "
                    "in Scenario (Models), or remove it from the LoRAs list. Nothing was uploaded "
                    "or spent."), field="loras", not_sent=True)

    def _answer_or_claim(self, key: tuple[str, str], wait: Wait) -> bool | None:
        """The answer once no other job is looking ``key`` up; None when there is none yet, and
        then this job is the one to look it up."""
        with self._changed:
            wait(self._changed, lambda: key not in self._asking)
            known = self._known.get(key)
            if known is None:
                self._asking.add(key)
            return known

    def _settle(self, key: tuple[str, str], known: bool | None) -> None:
        """Ends this job's lookup of ``key`` (an answer is remembered, a failure is not) and
        wakes the jobs waiting for it."""
        with self._changed:
            if known is not None:
                self._known[key] = known
            self._asking.discard(key)
            self._changed.notify_all()


def _look_up(client: ScenarioClient, lora: str) -> bool:
    try:
        return client.find_model(lora) is not None
    except CancelledError:
        raise
    except ScenarioError as exc:
        raise LoraCheckFailedError(client.transport.scrub(
            f"Could not check LoRA '{lora}' before paying, so nothing was uploaded or spent. "
            f"{exc.message}"), status=exc.status, trace_id=exc.trace_id, not_sent=True) from exc


SESSION = LoraCheck()
