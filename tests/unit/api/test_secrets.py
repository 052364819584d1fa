"""A canary secret must never reach a message, a repr or a log line, whatever goes wrong."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import responses
from scenario_texture_upscale.api import (
    MODEL_ID,
    Credentials,
    ScenarioClient,
    ScenarioError,
    UpscaleParams,
)

from .conftest import API_KEY, BASE, CANARY, CDN, GENERATE, TOKEN, asset_json, dropped, png_bytes


def test_canary_never_leaks(
    mocked: responses.RequestsMock,
    client: ScenarioClient,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # everything, from every logger
    echo = {"reason": f"header was Authorization: Basic {TOKEN} and secret {CANARY}"}
    mocked.add(responses.GET, f"{BASE}/models/{MODEL_ID}", status=401, json=echo)
    mocked.add(responses.POST, f"{BASE}/assets", status=400, json=echo)
    mocked.add(responses.POST, GENERATE, status=500, json=echo)
    mocked.add(responses.POST, GENERATE, body=dropped())
    mocked.add(responses.GET, f"{BASE}/jobs/job_1", status=404, json={"message": CANARY})
    mocked.add(responses.POST, f"{BASE}/jobs/job_1/action", status=403, json={"error": CANARY})
    url = f"{CDN}/a.png?Signature=x"
    mocked.add(responses.GET, f"{BASE}/assets/asset_1", json=asset_json("asset_1", url))
    mocked.add(responses.GET, url, status=403)

    errors: list[ScenarioError] = []
    attempts = [
        lambda: client.check_connection(),
        lambda: client.upload_image(png_bytes(100)),
        lambda: client.run(UpscaleParams(image="asset_1")),
        lambda: client.run(UpscaleParams(image="asset_1")),
        lambda: client.get_job("job_1"),
        lambda: client.cancel_job("job_1"),
        lambda: client.download_asset("asset_1", tmp_path / "o.png"),
        lambda: client.run(UpscaleParams(image=CANARY + " x")),
    ]
    for attempt in attempts:
        with pytest.raises(ScenarioError) as info:
            attempt()
        errors.append(info.value)

    texts = [caplog.text]
    for err in errors:
        texts += [err.message, str(err), repr(err), err.reason or "", repr(err.args)]
    for text in texts:
        assert CANARY not in text
        assert TOKEN not in text
        assert API_KEY not in text


def test_credentials_and_client_reprs() -> None:
    creds = Credentials(API_KEY, CANARY)
    with ScenarioClient.open(creds, BASE) as client:
        for text in (repr(creds), str(creds), repr(client), repr(client.transport),
                     repr(vars(client.transport))):
            assert CANARY not in text and TOKEN not in text
