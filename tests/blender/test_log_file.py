"""Failures a maintainer can diagnose: a job that fails unexpectedly leaves its traceback in the
add-on's log file, under its local id, which the artist's report names; no key or secret from the
preferences or the environment is written anywhere along the way."""

from __future__ import annotations

import logging
import re
import sys

import bpy
import pytest
import scenes
from conftest import API_KEY, API_SECRET

pytestmark = pytest.mark.usefixtures("clean_file", "prefs")



def module(addon: str, name: str):
    return sys.modules[f"{addon}.{name}"]


def log_text(addon: str) -> str:
    path = module(addon, "core.addon_log").file_path()
    for handler in logging.getLogger(addon).handlers:
        handler.flush()
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def break_the_upload(addon: str, monkeypatch, key: str, secret: str) -> None:
    """A bug in the worker thread whose message holds the credentials, as a careless one might."""
    client = module(addon, "api.client").ScenarioClient
    token = module(addon, "api.config").Credentials(key, secret).basic_token

    def upload_image(self, source, **_kwargs):
        raise RuntimeError(f"upload broke for {key}:{secret} (Authorization: Basic {token})")

    monkeypatch.setattr(client, "upload_image", upload_image)


@pytest.mark.parametrize("keys_from", ["preferences", "environment"])
def test_a_failing_jobs_traceback_is_in_the_log_under_its_id_without_secrets(
        addon, tmp_path, monkeypatch, capfd, keys_from) -> None:
    key, secret = API_KEY, API_SECRET  # the emulator's: the model's lookup must pass first
    if keys_from == "environment":
        prefs = bpy.context.preferences.addons[addon].preferences
        prefs.api_key = prefs.api_secret = ""
        monkeypatch.setenv("SCENARIO_SDK_API_KEY", key)
        monkeypatch.setenv("SCENARIO_SDK_API_SECRET", secret)
    break_the_upload(addon, monkeypatch, key, secret)
    scenes.object_with("Wall", [scenes.material_with("Brick", scenes.texture_file(tmp_path, "brick"))],
                       selected=True)

    with pytest.raises(RuntimeError) as failure:
        bpy.ops.scenario.upscale_image(image_name="brick")

    report = str(failure.value)
    [local_id] = re.findall(r"\(job ([0-9a-f]{16}) in the add-on's log: Open Log in Recent "
                            r"Jobs opens it\)", report)
    log_file = module(addon, "core.addon_log").file_path()
    assert "Unexpected error (RuntimeError" in report and str(log_file) in report
    text = log_text(addon)
    [line] = [line for line in text.splitlines() if f"job {local_id} failed unexpectedly" in line]
    assert line.split()[2] == "ERROR"
    after = text[text.index(line):]
    assert "Traceback (most recent call last)" in after and "RuntimeError: upload broke" in after
    assert f"{key[:4]}…" in after, "the key is shortened, enough to tell which one"
    console = capfd.readouterr().err
    assert f"job {local_id} failed unexpectedly" in console
    token = module(addon, "api.config").Credentials(key, secret).basic_token
    for where, written in {"log file": text, "console": console, "report": report}.items():
        for hidden in (key, secret, token):
            assert hidden not in written, f"{hidden} in the {where}"
    module(addon, "bridge.runtime").get().journal.forget(local_id)


def test_re_enabling_the_add_on_keeps_one_pair_of_handlers(addon) -> None:
    def ours(log: logging.Logger) -> list[str]:
        return sorted(str(h.name) for h in log.handlers if str(h.name).startswith(addon))

    try:
        bpy.ops.preferences.addon_disable(module=addon)
        assert ours(logging.getLogger(addon)) == []
        bpy.ops.preferences.addon_enable(module=addon)
        bpy.ops.preferences.addon_disable(module=addon)
    finally:
        bpy.ops.preferences.addon_enable(module=addon)
    assert ours(logging.getLogger(addon)) == [f"{addon}.console", f"{addon}.file"]
    assert ours(logging.getLogger()) == [], "nothing on the root logger"
