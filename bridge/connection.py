"""From the preferences and the environment to a Scenario client, with Blender's rules applied:
online access, Blender's network timeout, credentials only from preferences or environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import bpy

from ..api.client import ScenarioClient
from ..api.config import (
    Credentials,
    credentials_source,
    is_loopback_url,
    resolve_base_url,
    resolve_credentials,
)
from ..api.constants import ENV_API_KEY, ENV_API_SECRET, MODEL_ID
from ..core import addon_log
from ..core.refusal import Refusal
from ..core.scheduler import JobContext
from . import addon_data

if TYPE_CHECKING:
    from ..ui.preferences import ScenarioUpscalePreferences

DEFAULT_READ_TIMEOUT = 60.0
ONLINE_ACCESS_MESSAGE = (
    "Online access is turned off in Blender. Turn on Preferences ▸ System ▸ Network ▸ "
    "Allow Online Access to reach Scenario."
)


@dataclass(frozen=True)
class TestAnswer:
    """What Test Connection last found, for the preferences to show: (report level, text)."""

    lines: tuple[tuple[str, str], ...]


last_test: TestAnswer | None = None


def tell_test(lines: list[tuple[str, str]]) -> None:
    """Keeps Test Connection's answer and redraws the preferences, where it is shown."""
    global last_test
    last_test = TestAnswer(tuple(lines))
    for window in getattr(bpy.context.window_manager, "windows", ()):
        for area in window.screen.areas:
            if area.type == "PREFERENCES":
                area.tag_redraw()


@dataclass(frozen=True)
class Connection:
    credentials: Credentials
    base_url: str
    timeout: tuple[float, float]
    model_id: str = MODEL_ID

    def connect(self, ctx: JobContext) -> ScenarioClient:
        """A client for one job; runs in the worker thread and stops retrying when cancelled."""
        return ScenarioClient.open(
            self.credentials, self.base_url, timeout=self.timeout, cancel_event=ctx.cancel_event,
            model_id=self.model_id,
        )


def _preference_keys() -> tuple[str, str]:
    """The key and secret typed into the preferences ("" where empty or not enabled)."""
    prefs = addon_data.preferences()
    return (prefs.api_key or "", prefs.api_secret or "") if prefs is not None else ("", "")


def keys_source() -> str | None:
    return credentials_source(*_preference_keys())


def hide_from_log() -> None:
    """Masks in the log every key pair this Blender could send: the preferences' and the
    environment's (each also when only half of it is filled in)."""
    pairs = (_preference_keys(),
             (os.environ.get(ENV_API_KEY, ""), os.environ.get(ENV_API_SECRET, "")))
    for key, secret in pairs:
        addon_log.hide(Credentials(key.strip(), secret.strip()))


def preferred_base_url(prefs: ScenarioUpscalePreferences | None) -> str:
    """The Service URL preference ("" where empty or not enabled: the environment's, else
    Scenario's cloud)."""
    return (prefs.base_url if prefs is not None else "") or ""


def online_access_blocks(base_url: str) -> bool:
    return not bpy.app.online_access and not is_loopback_url(base_url)


def connection() -> Connection:
    """Credentials, base URL and timeouts; raises Refusal or a ScenarioError saying what to fix."""
    prefs = addon_data.preferences()
    base_url = resolve_base_url(preferred_base_url(prefs))
    if online_access_blocks(base_url):
        raise Refusal(ONLINE_ACCESS_MESSAGE)
    credentials = resolve_credentials(*_preference_keys())
    addon_log.hide(credentials)  # before any thread can log a line that holds them
    # Blender's own network timeout (seconds, 0 = unset) bounds how long one request may wait.
    blender = bpy.context.preferences
    system = blender.system if blender is not None else None
    blender_timeout = float(getattr(system, "network_timeout", 0) or 0)
    read = blender_timeout if blender_timeout > 0 else DEFAULT_READ_TIMEOUT
    model_id = ((prefs.model_id if prefs is not None else "") or "").strip() or MODEL_ID
    return Connection(credentials, base_url, (min(10.0, read), read), model_id)
