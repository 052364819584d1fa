"""The emulator's core: builds its parts, wires them into ``Services``, dispatches requests.

It knows nothing about sockets; ``handler.py`` feeds it requests and writes its responses.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import traceback

from . import assets_api, cdn_api, control_api, generate_api, jobs_api, models_api, uploads_api
from .asset_urls import AssetUrls
from .errors import ApiError, gateway_body, reason_body
from .faults import FaultPlan
from .messages import Request, Response
from .model_catalog import ModelCatalog
from .options import EmulatorOptions
from .rendering import Renderer
from .request_log import RequestLog
from .router import Router
from .scheduler import JobScheduler
from .services import Services
from .signing import UrlSigner
from .store import Store
from .upload_flow import UploadFlow


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
        self.store = Store()
        self.signer = UrlSigner()
        self.faults = FaultPlan()
        self.faults.set(options.faults)
        self.log = RequestLog()
        renderer = Renderer(self.store, keep_alpha=options.keep_alpha,
                            break_tiling=options.break_tiling, result_format=options.result_format)
        self.scheduler = JobScheduler(self.store, options.job_seconds,
                                      options.max_concurrent_jobs, renderer)
        self.services = Services(
            options=options,
            assets=self.store,
            urls=AssetUrls(self.signer, self.faults, options.url_ttl_seconds),
            jobs=self.scheduler,
            uploads=UploadFlow(self.store, self.signer, options.upload_seconds,
                               options.min_part_bytes),
            faults=self.faults,
            log=self.log,
            models=ModelCatalog(options.model_missing, options.model_input_changes),
        )
        self.router = _build_router()

    @property
    def root_url(self) -> str:
        return self.signer.root_url

    @root_url.setter
    def root_url(self, value: str) -> None:
        self.signer.root_url = value

    @property
    def other_root_url(self) -> str:
        """The other listener's origin (server.py): where redirect faults and planted links
        lead by default."""
        return self.services.urls.other_root

    @other_root_url.setter
    def other_root_url(self, value: str) -> None:
        self.services.urls.other_root = value

    def start(self) -> None:
        self.scheduler.start()

    def stop(self) -> None:
        self.scheduler.stop()

    def dispatch(self, request: Request) -> Response:
        route, params, path_known = self.router.match(request.method, request.path)
        if route is None:
            status, text = (405, "Method Not Allowed") if path_known else (404, "Not Found")
            return Response.json(status, gateway_body(text))
        try:
            if route.auth and not self._authorised(request):
                raise ApiError(401, "Unauthorized: invalid API key or secret")
            return route.endpoint(self.services, request, params)
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

    def log_line(self, text: str) -> None:
        if self.options.log_requests:
            print(text, file=self.options.stream, flush=True)
