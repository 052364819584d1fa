"""Helpers shared by the emulator tests: a tiny HTTP client and image utilities.

Imported by name (conftest.py puts this folder on sys.path); the name is unique on purpose.
"""

from __future__ import annotations

import base64
import io
import time
from typing import Any

import numpy as np
import requests
from PIL import Image

from emulator.server import EmulatorServer

MODEL_ID = "model_sc-upscale-flux-texture"
KEY, SECRET = "demo-key", "demo-secret"


def png_bytes(image: Image.Image, fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def tileable_texture(size: int = 48, seed: int = 7, channels: int = 3) -> np.ndarray:
    """Smooth random texture that tiles: noise low-passed with a circular (FFT) filter."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(size=(size, size, channels))
    freq = np.fft.fftfreq(size)
    radius = np.sqrt(freq[:, None] ** 2 + freq[None, :] ** 2)
    gain = np.exp(-((radius / 0.08) ** 2))[:, :, None]
    smooth = np.real(np.fft.ifft2(np.fft.fft2(noise, axes=(0, 1)) * gain, axes=(0, 1)))
    smooth = (smooth - smooth.min()) / (smooth.max() - smooth.min())
    return (40 + smooth * 175).astype(np.uint8)


def seam_ratio(pixels: np.ndarray) -> float:
    """Mean |left edge - right edge| over mean |adjacent interior columns| (1 = seamless)."""
    values = pixels.astype(np.float64)
    edge = np.abs(values[:, 0] - values[:, -1]).mean()
    interior = np.abs(np.diff(values, axis=1)).mean()
    return float(edge / interior)


def vertical_seam_ratio(pixels: np.ndarray) -> float:
    return seam_ratio(np.swapaxes(pixels, 0, 1))


class Api:
    """Authenticated JSON calls against one emulator over real sockets."""

    def __init__(self, server: EmulatorServer, auth: tuple[str, str] = (KEY, SECRET)) -> None:
        self.server = server
        self.session = requests.Session()
        self.session.auth = auth

    def url(self, path: str) -> str:
        return self.server.base_url + path

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(self.url(path), timeout=kwargs.pop("timeout", 10), **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        return self.session.post(self.url(path), json=body, timeout=kwargs.pop("timeout", 10),
                                 **kwargs)

    def upload(self, image: Image.Image | bytes, name: str = "texture.png") -> dict[str, Any]:
        data = image if isinstance(image, bytes) else png_bytes(image)
        answer = self.post("/assets", {"name": name, "image": data_url(data)})
        assert answer.status_code == 200, answer.text
        return answer.json()["asset"]

    def generate(self, asset_id: str, **inputs: Any) -> requests.Response:
        return self.post(f"/generate/custom/{MODEL_ID}", {"image": asset_id, **inputs})

    def start_job(self, asset_id: str, **inputs: Any) -> dict[str, Any]:
        answer = self.generate(asset_id, **inputs)
        assert answer.status_code == 200, answer.text
        return answer.json()["job"]

    def job(self, job_id: str) -> dict[str, Any]:
        answer = self.get(f"/jobs/{job_id}")
        assert answer.status_code == 200, answer.text
        return answer.json()["job"]

    def wait_job(self, job_id: str, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.job(job_id)
            if job["status"] in ("success", "failure", "canceled"):
                return job
            time.sleep(0.02)
        raise AssertionError(f"job {job_id} did not finish in {timeout}s")

    def result_image(self, job: dict[str, Any]) -> Image.Image:
        asset = self.get(f"/assets/{job['metadata']['assetIds'][0]}").json()["asset"]
        answer = requests.get(asset["url"], timeout=10)
        assert answer.status_code == 200, answer.text
        assert answer.headers["Content-Type"] == "image/png"
        image = Image.open(io.BytesIO(answer.content))
        assert image.format == "PNG"
        return image

    def upscale(self, image: Image.Image | bytes, **inputs: Any) -> Image.Image:
        asset = self.upload(image)
        job = self.wait_job(self.start_job(asset["id"], **inputs)["jobId"])
        assert job["status"] == "success", job
        return self.result_image(job)

    def control(self, method: str, path: str, body: Any = None) -> requests.Response:
        return requests.request(method, self.server.root_url + path, json=body, timeout=10)
