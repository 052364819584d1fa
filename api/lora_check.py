"""LoRA ids checked before anything is spent: a model lookup is free, a paid generate is not.

Each id is looked up once per session (this process), per service, project and key: a second
upscale with the same LoRA sends no lookup. URLs are not checked: they name weights Scenario
fetches itself, and only that fetch can tell whether one is good.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from .client import ScenarioClient
from .errors import CancelledError, InvalidRequestError, ScenarioError


class UnknownLoraError(InvalidRequestError):
    """A LoRA id Scenario does not know; nothing was uploaded or spent."""


class LoraCheckFailedError(ScenarioError):
    """A LoRA could not be looked up (network, keys); nothing was uploaded or spent."""


def is_url(lora: str) -> bool:
    return "://" in lora


class LoraCheck:
    """The session's answers: (account, id) → whether Scenario knows the model."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, str], bool] = {}
        # Held through a lookup, so jobs of a batch starting together look an id up once.
        self._lock = threading.Lock()

    def check(self, client: ScenarioClient, loras: Iterable[str]) -> None:
        """Raises UnknownLoraError for the first id Scenario does not know, LoraCheckFailedError
        when a lookup fails; a failed lookup is not remembered, so the next upscale asks again."""
        for lora in loras:
            if is_url(lora):
                continue
            self._acquire(client)
            try:
                key = (client.transport.account, lora)
                if key not in self._known:
                    self._known[key] = _look_up(client, lora)
                known = self._known[key]
            finally:
                self._lock.release()
            if not known:
                raise UnknownLoraError(client.transport.scrub(
                    f"LoRA '{lora}' is not a model Scenario knows for these API keys: check its id "
                    "in Scenario (Models), or remove it from the LoRAs list. Nothing was uploaded "
                    "or spent."), field="loras", not_sent=True)

    def _acquire(self, client: ScenarioClient) -> None:
        # A job cancelled while another one looks up stops at once, not when that lookup ends.
        while not self._lock.acquire(timeout=0.05):
            client.transport.raise_if_cancelled()


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
