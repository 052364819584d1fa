"""Happy paths end to end: upload (inline and multipart), describe, quote, run, poll, download."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from PIL import Image
from scenario_texture_upscale.api import (
    MIN_PART_SIZE,
    SMALL_UPLOAD_MAX_BYTES,
    DestinationExistsError,
    InvalidRequestError,
    ScenarioClient,
    UpscaleParams,
    raise_for_job,
)
from scenario_texture_upscale.api import uploads as uploads_mod

from emulator.server import EmulatorServer

from .conftest import GENERATE, calls, png_bytes, png_file, wait_for_job


def upscale_and_fetch(
    client: ScenarioClient, asset_id: str, dest: Path, factor: int = 2
) -> tuple[int, int]:
    job = client.run(UpscaleParams(image=asset_id, upscale_factor=factor))
    assert job.job_id and job.cost is not None and job.cost > 0
    done = raise_for_job(wait_for_job(client, job.job_id))
    assert done.succeeded and len(done.asset_ids) == 1
    result = client.download_asset(done.asset_ids[0], dest)
    assert result.size == dest.stat().st_size
    assert result.sha256 == hashlib.sha256(dest.read_bytes()).hexdigest()
    assert result.mime_type == "image/png"
    with Image.open(dest) as image:
        return image.size


def test_small_texture_full_flow(
    client: ScenarioClient, server: EmulatorServer, tmp_path: Path
) -> None:
    source = png_file(tmp_path, 64, "brick.png")
    progress: list[tuple[int, int]] = []
    asset = client.upload_image(source, progress=lambda s, t: progress.append((s, t)))
    assert asset.id and (asset.width, asset.height) == (64, 64)
    assert progress[-1] == (source.stat().st_size, source.stat().st_size)
    assert calls(server, "POST", "/v1/assets")[0]["body"]["name"] == "brick.png"

    quote = client.quote(UpscaleParams(image=asset.id, upscale_factor=4))
    assert quote.cost > 0
    assert server.state()["jobs"] == []  # a quote never starts a job

    size = upscale_and_fetch(client, asset.id, tmp_path / "brick_x4.png", factor=4)
    assert size == (256, 256)
    assert len(calls(server, "POST", GENERATE)) == 2  # the quote and the run
    assert sorted(p.name for p in tmp_path.iterdir()) == ["brick.png", "brick_x4.png"]


def test_large_texture_multipart_full_flow(
    client: ScenarioClient, server: EmulatorServer, tmp_path: Path
) -> None:
    source = png_file(tmp_path, 1400, "noise.png")
    assert source.stat().st_size > SMALL_UPLOAD_MAX_BYTES
    asset = client.upload_image(source)
    assert (asset.width, asset.height) == (1400, 1400)
    assert calls(server, "POST", "/v1/assets") == []
    created = calls(server, "POST", "/v1/uploads")
    assert created[0]["body"]["fileSize"] == source.stat().st_size
    assert created[0]["body"]["kind"] == "image"
    assert len(calls(server, "PUT", "/_parts/")) == created[0]["body"]["parts"] == 1

    size = upscale_and_fetch(client, asset.id, tmp_path / "noise_x2.png")
    assert size == (2800, 2800)


def test_multipart_in_several_parts(
    client: ScenarioClient, server: EmulatorServer, tmp_path: Path
) -> None:
    source = png_file(tmp_path, 1400, "noise.png")
    asset = uploads_mod.upload_image(client.transport, source, part_size=MIN_PART_SIZE)
    puts = calls(server, "PUT", "/_parts/")
    assert len(puts) == 2 and all(p["status"] == 200 for p in puts)
    assert puts[0]["body"] == f"<binary data: {MIN_PART_SIZE} bytes>"
    stored = {a["id"]: a for a in server.state()["assets"]}
    assert stored[asset.id]["size"] == source.stat().st_size


def test_the_served_model_agrees_with_the_add_ons_table(client: ScenarioClient) -> None:
    described = client.check_connection()
    specs = described.field_specs()
    assert specs["preset"].choices == ("precise", "balanced", "creative")
    assert specs["base_model"].choices == ("FLUX.1-dev", "FLUX.1-Krea-dev")
    image = described.input("image")
    assert image is not None and image.required
    assert specs["image_prompt"].max_items == 4
    assert (specs["upscale_factor"].minimum, specs["upscale_factor"].maximum) == (2, 8)
    assert described.differences() == []


def test_every_input_accepted_by_the_service(
    client: ScenarioClient, server: EmulatorServer
) -> None:
    image = client.upload_image(png_bytes(32), name="a.png").id
    style = client.upload_image(png_bytes(16), name="style.png").id
    params = UpscaleParams(
        image=image, upscale_factor=2, preset="creative", loras=["model_emulator-lora-mossy-brick"],
        loras_scale=[0.7], prompt="weathered stone", image_prompt=[style],
        image_prompt_strength=0.5, controlnet_conditioning_scale=0.6, strength=0.3,
        num_inference_steps=20, details_enable=False, base_model="FLUX.1-Krea-dev", seed=1234,
    )
    job = client.run(params)
    assert calls(server, "POST", GENERATE)[0]["body"] == {**params.to_body()}
    assert raise_for_job(wait_for_job(client, job.job_id)).succeeded


def test_service_side_validation(client: ScenarioClient, server: EmulatorServer) -> None:
    with pytest.raises(InvalidRequestError) as info:
        client.run(UpscaleParams(image="asset_doesnotexist"))
    assert "asset_doesnotexist" in info.value.message
    assert info.value.status == 400 and info.value.field is None
    with pytest.raises(InvalidRequestError) as local:
        client.run(UpscaleParams(image="asset_x", upscale_factor=9))
    assert local.value.field == "upscaleFactor"
    assert len(calls(server, "POST", GENERATE)) == 1  # the local refusal sent nothing


def test_cancel_is_refused_for_this_model(client: ScenarioClient) -> None:
    asset = client.upload_image(png_bytes())
    job = client.run(UpscaleParams(image=asset.id))
    assert client.cancel_job(job.job_id) is False
    assert wait_for_job(client, job.job_id).succeeded  # it keeps running (and is paid)


def test_download_never_overwrites(client: ScenarioClient, tmp_path: Path) -> None:
    asset = client.upload_image(png_bytes())
    dest = tmp_path / "out.png"
    dest.write_bytes(b"mine")
    with pytest.raises(DestinationExistsError):
        client.download_asset(asset.id, dest)
    assert dest.read_bytes() == b"mine"
