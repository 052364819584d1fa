"""The upscale model checked before anything is spent: Scenario may retire or rename a model, or
change what it takes, and a lookup (``GET /models/{id}``) is free while an upload is not.

Each model is looked up once per session (this process), per service, project and key, and the
answer kept for a few minutes: a job of a batch does not ask again, a model that changes during a
long session is seen. A failed lookup is not kept.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace

from .client import ScenarioClient
from .errors import CancelledError, NotFoundError, ScenarioError
from .model_info import ModelDescription
from .params import UpscaleParams

# How long a model's description is trusted before it is looked up again.
FRESH_SECONDS = 600.0


class ModelUnavailableError(ScenarioError):
    """Scenario has no such model for these keys (retired, renamed, not in the plan)."""


class ModelChangedError(ScenarioError):
    """Scenario's model no longer takes these settings as the add-on sends them."""


class ModelCheckFailedError(ScenarioError):
    """The model could not be looked up (network, keys); nothing was uploaded or spent."""


def unavailable_message(model_id: str) -> str:
    return (f"Scenario has no model '{model_id}' for these API keys: it may have been renamed or "
            "retired, or your plan may not include it. Install a newer version of the add-on, or "
            "name the model to use in its preferences (Advanced ▸ Model), then try again.")


class ModelCheck:
    """The session's answers: (account, model id) → the model's description, and when."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, str], tuple[ModelDescription, float]] = {}
        self._lock = threading.Lock()

    def check(self, client: ScenarioClient, params: UpscaleParams) -> ModelDescription:
        """The model's description; raises ModelUnavailableError, ModelChangedError (the message
        names the model and says what to do) or ModelCheckFailedError."""
        model = self._describe(client)
        refusal = model.refusal(replace(params, image=params.image or "pending-upload"))
        if refusal is not None:
            raise ModelChangedError(client.transport.scrub(
                f"Scenario's model '{client.model_id}' would refuse this upscale: {refusal}. "
                "Change that setting in the panel, or update the add-on. Nothing was uploaded "
                "or spent."), not_sent=True)
        return model

    def _describe(self, client: ScenarioClient) -> ModelDescription:
        key = (client.transport.account, client.model_id)
        with self._lock:
            known = self._known.get(key)
        if known is not None and time.monotonic() - known[1] < FRESH_SECONDS:
            return known[0]
        try:
            model = client.check_connection()
        except CancelledError:
            raise
        except NotFoundError as exc:
            raise ModelUnavailableError(unavailable_message(client.model_id) + " Nothing was "
                                        "uploaded or spent.", not_sent=True) from exc
        except ScenarioError as exc:
            raise ModelCheckFailedError(
                f"Could not check Scenario's model '{client.model_id}' before paying, so nothing "
                f"was uploaded or spent: {exc}", not_sent=True) from exc
        with self._lock:
            self._known[key] = (model, time.monotonic())
        return model


# Shared by every job of this process.
SESSION = ModelCheck()
