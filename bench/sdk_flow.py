"""The baseline: the same upscale done with the official ``scenario-sdk`` client, the way its
documentation shows it (data URL upload, run_model, poll jobs.retrieve at a fixed cadence,
retrieve the asset, download its URL to a file)."""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from scenario_sdk import Scenario

MODEL_ID = "model_sc-upscale-flux-texture"


@dataclass
class SdkRun:
    upload_s: float
    submit_s: float
    wait_s: float
    fetch_s: float  # asset retrieve + download to file
    total_s: float
    seen_at: float  # epoch when the poll that saw success returned
    job_id: str
    polls: int


class SdkFlow:
    def __init__(self, base_url: str, api_key: str, api_secret: str) -> None:
        # Made once, as a script would; the add-on's per-job client set-up is counted against it.
        self.client = Scenario(api_key=api_key, api_secret=api_secret, base_url=base_url)
        self.http = httpx.Client(timeout=120)

    def close(self) -> None:
        self.http.close()
        self.client.close()

    def run(self, source: Path, dest: Path, factor: int = 2, poll_s: float = 1.0) -> SdkRun:
        mime = "image/jpeg" if source.suffix.lower() in (".jpg", ".jpeg") else "image/png"
        t0 = time.perf_counter()
        data_url = f"data:{mime};base64," + base64.b64encode(source.read_bytes()).decode("ascii")
        asset = self.client.assets.upload(name=source.name, image=data_url).asset
        del data_url
        t1 = time.perf_counter()
        started = self.client.generate.run_model(
            model_id=MODEL_ID, body={"image": asset.id, "upscaleFactor": factor}
        )
        job_id = started.job.job_id
        t2 = time.perf_counter()
        polls = 0
        while True:
            time.sleep(poll_s)
            job = self.client.jobs.retrieve(job_id).job
            polls += 1
            if job.status in ("success", "failure", "canceled"):
                break
        seen_at = time.time()
        t3 = time.perf_counter()
        if job.status != "success":
            raise RuntimeError(f"SDK job ended as {job.status}")
        result = self.client.assets.retrieve(job.metadata.asset_ids[0]).asset
        with self.http.stream("GET", result.url) as resp, open(dest, "wb") as out:
            resp.raise_for_status()
            for chunk in resp.iter_bytes(256 * 1024):
                out.write(chunk)
        t4 = time.perf_counter()
        return SdkRun(t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0, seen_at, job_id, polls)
