"""The official ``scenario-sdk`` client, unchanged, pointed at the emulator by its env vars.

If the SDK needs a field or shape the emulator lacks, these tests are where it shows.
"""

from __future__ import annotations

import io
import time

import httpx
import pytest
import scenario_sdk
from emulator_support import MODEL_ID, data_url, png_bytes, tileable_texture
from PIL import Image
from scenario_sdk import Scenario


@pytest.fixture
def sdk_env(monkeypatch, server):
    monkeypatch.setenv("SCENARIO_BASE_URL", server.base_url)
    monkeypatch.setenv("SCENARIO_SDK_API_KEY", "demo-key")
    monkeypatch.setenv("SCENARIO_SDK_API_SECRET", "demo-secret")
    return server


def _wait(client: Scenario, job_id: str, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.jobs.retrieve(job_id).job
        if job.status in ("success", "failure", "canceled"):
            return job
        time.sleep(0.05)
    raise AssertionError("job did not finish")


def test_upload_run_poll_retrieve_download(sdk_env):
    client = Scenario()
    source = Image.fromarray(tileable_texture(40), "RGB")
    uploaded = client.assets.upload(name="brick.png", image=data_url(png_bytes(source)))
    assert uploaded.asset.id.startswith("asset_")
    assert (uploaded.asset.properties.width, uploaded.asset.properties.height) == (40, 40)

    started = client.generate.run_model(
        model_id=MODEL_ID,
        body={"image": uploaded.asset.id, "upscaleFactor": 4, "preset": "precise",
              "strength": 0.2, "baseModel": "FLUX.1-Krea-dev"},
    )
    assert started.job.status == "queued"
    assert started.creative_units_cost == 1

    job = _wait(client, started.job.job_id)
    assert job.status == "success"
    assert job.billing.cu_cost == 1
    assert [h.status for h in job.status_history][-1] == "success"
    result = client.assets.retrieve(job.metadata.asset_ids[0]).asset
    assert result.mime_type == "image/png"

    # The signed URL is fetched as is, with no auth header.
    downloaded = httpx.get(result.url, timeout=10)
    assert downloaded.status_code == 200
    image = Image.open(io.BytesIO(downloaded.content))
    assert image.format == "PNG" and image.size == (160, 160)


def test_responses_pass_the_sdks_strict_validation(sdk_env):
    """Every required field of the SDK's models is present in the emulator's answers."""
    client = Scenario(_strict_response_validation=True)
    data = png_bytes(Image.new("RGB", (16, 16), (9, 9, 9)))
    asset = client.assets.upload(name="a.png", image=data_url(data)).asset
    model = client.models.retrieve(MODEL_ID).model
    assert [i.name for i in model.inputs][:2] == ["image", "upscaleFactor"]
    assert model.ui_config.loras_component.scale_input == "lorasScale"
    job = client.generate.run_model(model_id=MODEL_ID, body={"image": asset.id}).job
    done = _wait(client, job.job_id)
    assert client.assets.retrieve(done.metadata.asset_ids[0]).asset.properties.width == 32
    link = client.assets.download.request(asset.id, target_format="webp")
    assert link.mime_type == "image/webp" and httpx.get(link.url).status_code == 200

    upload = client.uploads.create(file_name="b.png", content_type="image/png",
                                   file_size=len(data), parts=1, kind="image").upload
    assert httpx.put(upload.parts[0].url, content=data).status_code == 200
    assert client.uploads.trigger_action(upload.id, action="complete").upload.status == "complete"
    deadline = time.monotonic() + 5
    while (current := client.uploads.retrieve(upload.id).upload).status != "imported":
        assert current.status != "failed" and time.monotonic() < deadline
        time.sleep(0.05)
    assert client.assets.retrieve(current.entity_id).asset.properties.size == len(data)


def test_dry_run_through_the_sdk(sdk_env):
    client = Scenario()
    asset = client.assets.upload(name="a.png", image=data_url(png_bytes(Image.new("RGB", (8, 8)))))
    quote = client.generate.run_model(model_id=MODEL_ID, body={"image": asset.asset.id},
                                      dry_run="true")
    assert quote.creative_units_cost == 1
    assert quote.cost_details.custom_generation == 1
    # The SDK types a quote as a job response; the 269 body has no job.
    assert quote.job is None
    assert sdk_env.state()["jobs"] == []


def test_sdk_errors_carry_the_reason(sdk_env, monkeypatch):
    client = Scenario()
    asset = client.assets.upload(name="a.png", image=data_url(png_bytes(Image.new("RGB", (8, 8)))))
    job = client.generate.run_model(model_id=MODEL_ID, body={"image": asset.asset.id}).job
    with pytest.raises(scenario_sdk.BadRequestError) as refused:
        client.jobs.trigger_action(job.job_id, action="cancel")
    assert refused.value.body["reason"] == "Cannot cancel this type of job. Action not permitted."
    with pytest.raises(scenario_sdk.BadRequestError) as invalid:
        client.generate.run_model(model_id=MODEL_ID,
                                  body={"image": asset.asset.id, "upscaleFactor": 16})
    assert '"upscaleFactor"' in invalid.value.body["reason"]
    with pytest.raises(scenario_sdk.NotFoundError):
        client.jobs.retrieve("job_missing")
    monkeypatch.setenv("SCENARIO_SDK_API_SECRET", "wrong")
    with pytest.raises(scenario_sdk.AuthenticationError):
        Scenario().jobs.retrieve(job.job_id)


def test_sdk_retries_a_503_transparently(sdk_env):
    client = Scenario()
    asset = client.assets.upload(name="a.png", image=data_url(png_bytes(Image.new("RGB", (8, 8)))))
    sdk_env.set_faults([{"kind": "status", "status": 503, "path": "^/v1/assets/",
                         "retry_after_ms": 20}])
    assert client.assets.retrieve(asset.asset.id).asset.id == asset.asset.id
    statuses = [e["status"] for e in sdk_env.requests() if e["path"].startswith("/v1/assets/")]
    assert statuses == [503, 200]


def test_sdk_retry_after_a_dropped_generate_creates_a_second_paid_job(sdk_env):
    """Why a client must not let the SDK retry POST /generate: no idempotency key is sent."""
    client = Scenario()
    asset = client.assets.upload(name="a.png", image=data_url(png_bytes(Image.new("RGB", (8, 8)))))
    sdk_env.set_faults([{"kind": "drop", "path": "^/v1/generate",
                         "drop_after_processing": True}])
    client.generate.run_model(model_id=MODEL_ID, body={"image": asset.asset.id})
    assert len(sdk_env.state()["jobs"]) == 2
    # With retries off the same fault surfaces as a connection error instead.
    sdk_env.set_faults([{"kind": "drop", "path": "^/v1/generate",
                         "drop_after_processing": True}])
    with pytest.raises(scenario_sdk.APIConnectionError):
        client.with_options(max_retries=0).generate.run_model(
            model_id=MODEL_ID, body={"image": asset.asset.id})
    assert len(sdk_env.state()["jobs"]) == 3
