"""The Scenario client the add-on uses: one object, one method per thing it needs to do."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import quote

from .config import Credentials
from .constants import MODEL_ID
from .download import DEFAULT_DOWNLOAD_SECONDS, DEFAULT_MAX_DOWNLOAD_BYTES, download_asset
from .errors import (
    DryRunIgnoredError,
    InvalidRequestError,
    JobFailedError,
    NotFoundError,
    UnexpectedResponseError,
    UnusablePriceError,
    submission_uncertain,
)
from .model_info import ModelDescription, fetch_model
from .models import Asset, Download, Job, Quote, as_str, unwrap
from .params import FieldSpec, UpscaleParams
from .prices import MISSING, unusable_price_message
from .transport import RetryPolicy, Transport
from .uploads import ImageSource, Progress, upload_image

# The status Scenario answers a dry run with: a price, and no job.
DRY_RUN_STATUS = 269


def _id(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequestError(f"A {what} id is required.", field=what, not_sent=True)
    return quote(value.strip(), safe="")


class ScenarioClient:
    """Talks to Scenario for one worker thread. Close it (or use ``with``) when done."""

    def __init__(self, transport: Transport, *, model_id: str = MODEL_ID) -> None:
        self.transport = transport
        # The upscale model: Scenario may rename or retire it, so the preferences can name another.
        self.model_id = model_id.strip() or MODEL_ID
        self._generate_path = f"/generate/custom/{_id(self.model_id, 'model')}"

    @classmethod
    def open(cls, credentials: Credentials, base_url: str, *, model_id: str = MODEL_ID,
             **transport_options: Any) -> ScenarioClient:
        """A client with a transport of its own (``Transport``'s options: timeout, retries,
        cancel_event, …)."""
        return cls(Transport(credentials, base_url, **transport_options), model_id=model_id)

    def __enter__(self) -> ScenarioClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ScenarioClient(base_url={self.transport.base_url!r})"

    def close(self) -> None:
        self.transport.close()

    # --- model ----------------------------------------------------------------------------------
    def check_connection(self) -> ModelDescription:
        """Fetch the model description from the service; raises AuthenticationError on bad keys
        and NotFoundError when Scenario has no such model (for these keys)."""
        return fetch_model(self.transport, self.model_id)

    def find_model(self, model_id: str) -> dict[str, Any] | None:
        """Any model's description (a free lookup), or None when Scenario knows no such id."""
        try:
            data = self.transport.request_json("GET", f"/models/{_id(model_id, 'model')}")
        except NotFoundError:
            return None
        return unwrap(data, "model")

    # --- assets ---------------------------------------------------------------------------------
    def upload_image(
        self, source: ImageSource, *, name: str | None = None, progress: Progress | None = None
    ) -> Asset:
        return upload_image(self.transport, source, name=name, progress=progress)

    def get_asset(self, asset_id: str) -> Asset:
        data = self.transport.request_json("GET", f"/assets/{_id(asset_id, 'asset')}")
        asset = Asset.from_api(data)
        if not asset.id:
            raise UnexpectedResponseError("Scenario's asset answer named no asset id.")
        return asset

    def download_link(self, asset_id: str, target_format: str) -> Asset:
        """A link to the asset converted to ``target_format`` ("png", ...) by Scenario; only the
        link and its type are known, and the link is checked like any other before use."""
        data = self.transport.request_json(
            "POST", f"/assets/{_id(asset_id, 'asset')}/download",
            json={"targetFormat": target_format})
        link = unwrap(data, "asset")
        return Asset(id=asset_id, url=as_str(link.get("url")), mime_type=as_str(link.get("mimeType")))

    def download_asset(
        self,
        asset_id: str,
        dest_path: str | os.PathLike[str],
        *,
        max_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES,
        progress: Progress | None = None,
        seconds: float = DEFAULT_DOWNLOAD_SECONDS,
        as_format: str | None = None,
    ) -> Download:
        """The result file, whole (see ``download``); ``seconds`` bounds the download. With
        ``as_format``, Scenario is asked for the image in that format (a UDIM set's tiles must
        all be the format their reserved names say)."""
        return download_asset(
            self.transport,
            (lambda: self.download_link(asset_id, as_format)) if as_format
            else (lambda: self.get_asset(asset_id)),
            dest_path,
            max_bytes=max_bytes,
            progress=progress,
            seconds=seconds,
        )

    # --- jobs -----------------------------------------------------------------------------------
    def quote(self, params: UpscaleParams, specs: dict[str, FieldSpec] | None = None) -> Quote:
        """Price of an upscale (a free dry run; the input asset must exist). Never starts a job."""
        self._validate(params, specs)
        # Sent like a real run (never repeated once it may have arrived): if a server ignored
        # dryRun, a repeat would start a second paid job.
        resp = self.transport.request(
            "POST",
            self._generate_path,
            json=params.to_body(),
            params={"dryRun": "true"},
            policy=RetryPolicy.UNSENT_ONLY,
            ok=(DRY_RUN_STATUS, 200, 201),
        )
        data = _json_object(resp)
        if resp.status_code != DRY_RUN_STATUS:
            job_id = as_str(unwrap(data, "job").get("jobId"))
            started = f" (job {job_id})" if job_id else ""
            raise DryRunIgnoredError(
                f"Scenario ignored the price-only request and may have started a real job"
                f"{started}. Nothing more was sent; check your jobs on app.scenario.com.",
                status=int(resp.status_code), job_id=job_id,
            )
        quote_ = Quote.from_api(data)
        if quote_ is None:
            raise UnusablePriceError(unusable_price_message(str(Quote.problem(data))),
                                     status=int(resp.status_code))
        return quote_

    def run(self, params: UpscaleParams, specs: dict[str, FieldSpec] | None = None) -> Job:
        """Start an upscale (paid). Sent at most once unless it provably never reached Scenario."""
        self._validate(params, specs)
        resp = self.transport.request(
            "POST", self._generate_path, json=params.to_body(), policy=RetryPolicy.SUBMIT
        )
        answered = f"Scenario answered the upscale request (HTTP {resp.status_code})"
        try:
            data = _json_object(resp)
        except UnexpectedResponseError as exc:
            raise submission_uncertain(f"{answered} with something that is not JSON",
                                       status=exc.status) from exc
        job = Job.from_api(data, cost=data.get("creativeUnitsCost", MISSING))
        if not job.job_id or not isinstance(data.get("job"), dict):
            raise submission_uncertain(f"{answered} without naming a job",
                                       status=int(resp.status_code))
        return job

    def _validate(self, params: UpscaleParams, specs: dict[str, FieldSpec] | None) -> None:
        try:
            params.validate(specs)
        except InvalidRequestError as exc:
            # Validation echoes the value: never echo a secret pasted into the wrong field.
            exc.message = self.transport.scrub(exc.message)
            exc.args = (exc.message,)
            raise

    def get_job(self, job_id: str) -> Job:
        job = Job.from_api(self.transport.request_json("GET", f"/jobs/{_id(job_id, 'job')}"))
        if not job.job_id:
            raise UnexpectedResponseError("Scenario's job answer named no job id.")
        return job

    def raise_for_job(self, job: Job) -> Job:
        """Same as the module-level ``raise_for_job``."""
        return raise_for_job(job)

    def cancel_job(self, job_id: str) -> bool:
        """Ask Scenario to cancel. False when it cannot (custom-model jobs): not an error.
        Sent even after this client's cancel flag is set, once, without retries."""
        try:
            with self.transport.after_cancel():
                self.transport.request(
                    "POST", f"/jobs/{_id(job_id, 'job')}/action", json={"action": "cancel"}
                )
        except InvalidRequestError as exc:
            if exc.status == 400 and "cannot cancel" in (exc.reason or "").lower():
                return False
            raise
        return True


def _json_object(resp: Any) -> dict[str, Any]:
    try:
        data = resp.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise UnexpectedResponseError(
            "Scenario's answer to the upscale request was not JSON; check your jobs on "
            "app.scenario.com before retrying.",
            status=int(resp.status_code),
        )
    return data


def raise_for_job(job: Job) -> Job:
    """Return ``job`` unless it ended in failure/canceled, then raise ``JobFailedError``."""
    if job.status == "failure":
        reason = job.error or "no reason given"
        hint = f" {job.hint.rstrip('.')}." if job.hint else ""
        raise JobFailedError(
            f"Scenario could not upscale the texture: {reason.rstrip('.')}.{hint}",
            job_id=job.job_id,
            job_status=job.status,
            hint=job.hint,
            reason=job.error,
        )
    if job.status == "canceled":
        raise JobFailedError(
            "The upscale job was canceled on Scenario.",
            job_id=job.job_id,
            job_status=job.status,
            hint=job.hint,
            reason=job.error,
        )
    return job
