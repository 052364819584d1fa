"""The emulator's core: state, fault plan, request log, and dispatch of a parsed request.

It knows nothing about sockets; ``handler.py`` feeds it requests and writes its responses.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import time
import traceback
from typing import Any

from . import assets_api, cdn_api, control_api, generate_api, jobs_api, models_api, uploads_api
from .errors import ApiError, gateway_body, reason_body
from .faults import URL_KINDS, FaultPlan
from .formats import extension_for
from .messages import Request, Response
from .options import EmulatorOptions
from .request_log import RequestLog
from .router import Router
from .scheduler import JobScheduler
from .signing import UrlSigner
from .store import Asset, Store
from .wire import job_json


def _build_router() -> Router:
    router = Router()
    for module in (assets_api, uploads_api, models_api, generate_api, jobs_api, cdn_api,
                   control_api):
        module.register(router)
    return router


class Emulator:
    def __init__(self, options: EmulatorOptions) -> None:
        options.validate()
        self.options = options
        self.root_url = ""
        self.store = Store()
        self.signer = UrlSigner()
        self.faults = FaultPlan()
        self.faults.set(options.faults)
        self.log = RequestLog()
        self.scheduler = JobScheduler(
            self.store, options.job_seconds, options.max_concurrent_jobs,
            lambda job: generate_api.render_job(self, job),
        )
        self.router = _build_router()

    def start(self) -> None:
        self.scheduler.start()

    def stop(self) -> None:
        self.scheduler.stop()

    # -- dispatch -------------------------------------------------------------------------
    def dispatch(self, request: Request) -> Response:
        route, params, path_known = self.router.match(request.method, request.path)
        if route is None:
            status, text = (405, "Method Not Allowed") if path_known else (404, "Not Found")
            return Response.json(status, gateway_body(text))
        try:
            if route.auth and not self._authorised(request):
                raise ApiError(401, "Unauthorized: invalid API key or secret")
            return route.endpoint(self, request, params)
        except ApiError as exc:
            return Response.json(exc.status, exc.body(), exc.headers)
        except Exception:  # noqa: BLE001 - a bug must answer 500, not kill the connection
            traceback.print_exc(file=self.options.stream)
            return Response.json(500, reason_body("Internal server error"))

    def _authorised(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic" or not encoded:
            return False
        try:
            pair = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        expected = f"{self.options.api_key}:{self.options.api_secret}"
        return hmac.compare_digest(pair.encode(), expected.encode())

    # -- helpers shared by endpoints ----------------------------------------------------------
    def asset_url(self, asset: Asset, request: Request, extension: str | None = None,
                  *, faults: bool = True) -> str:
        """Fresh signed CDN URL; already expired when an expire_urls fault claims the request.

        ``faults=False`` (upload answers) never claims: clients rarely download from there,
        and a rule spent on them would silently miss the result download it was meant for.
        """
        if not faults:
            return self.signer.cdn_url(self.root_url, self._cdn_path(asset, extension),
                                       self.options.url_ttl_seconds)
        if "urls_expired" not in request.extras:
            rule = self.faults.claim_one(URL_KINDS, request.method, request.path)
            request.extras["urls_expired"] = rule is not None
            if rule is not None:
                request.extras.setdefault("faults", []).append("expire_urls")
        ttl = -60.0 if request.extras["urls_expired"] else self.options.url_ttl_seconds
        return self.signer.cdn_url(self.root_url, self._cdn_path(asset, extension), ttl)

    @staticmethod
    def _cdn_path(asset: Asset, extension: str | None) -> str:
        return f"/_cdn/assets/{asset.id}.{extension or extension_for(asset.mime_type)}"

    def reset(self, *, clear_state: bool = False) -> None:
        self.faults.clear()
        self.log.clear()
        if clear_state:
            self.scheduler.clear()
            self.store.clear()

    def state(self) -> dict[str, Any]:
        with self.store.lock:
            jobs = [job_json(job) for job in self.scheduler.jobs()]
            for upload in self.store.uploads.values():
                uploads_api.refresh(self, upload)
            uploads = [{"id": u.id, "status": u.status, "entityId": u.entity_id,
                        "errorMessage": u.error_message, "fileName": u.file_name}
                       for u in self.store.uploads.values()]
            assets = [{"id": a.id, "name": a.name, "mimeType": a.mime_type, "width": a.width,
                       "height": a.height, "size": len(a.data), "source": a.source}
                      for a in self.store.assets.values()]
        return {
            "time": time.time(),
            "jobs": jobs,
            "jobCounts": self.scheduler.counts(),
            "uploads": uploads,
            "assets": assets,
            "faults": self.faults.describe(),
        }

    def log_line(self, text: str) -> None:
        if self.options.log_requests:
            print(text, file=self.options.stream, flush=True)
