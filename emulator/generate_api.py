"""``POST /v1/generate/custom/{modelId}``: validation, dry-run quotes, job creation, rendering."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from . import imaging, model_catalog
from .errors import ApiError, not_found
from .faults import JOB_KINDS
from .ids import new_id
from .messages import Request, Response
from .pricing import cost_details, upscale_cost
from .scheduler import Job
from .store import DEFAULT_OWNER, Asset
from .validation import validate_inputs
from .wire import job_json

if TYPE_CHECKING:
    from .app import Emulator
    from .router import Router

DRY_RUN_STATUS = 269
DEFAULT_FAILURE = "The generation failed because of an internal error"


def _check_output_size(app: Emulator, width: int, height: int, factor: int) -> None:
    out_w, out_h = width * factor, height * factor
    side, pixels = app.options.max_output_side, app.options.max_output_pixels
    if max(out_w, out_h) > side or out_w * out_h > pixels:
        raise ApiError(400, f'Invalid input "upscaleFactor": output {out_w}x{out_h} exceeds the '
                            f"maximum of {side} px per side and {pixels} pixels")


def run_model(app: Emulator, request: Request, params: dict[str, str]) -> Response:
    model_id = params["model_id"]
    model = model_catalog.runnable_model(model_id)
    if model is None:
        raise not_found("Model", model_id)
    body = request.json()
    resolved = validate_inputs({} if body is None else body, model["inputs"],
                               app.store.has_asset, model_catalog.is_lora)
    source = app.store.asset(resolved["image"])
    if source is None:  # removed by a concurrent reset
        raise ApiError(400, f'Invalid input "image": asset {resolved["image"]} not found')
    factor = int(resolved["upscaleFactor"])
    _check_output_size(app, source.width, source.height, factor)
    cost = upscale_cost(source.width, source.height, factor)
    price = {"creativeUnitsCost": cost, "creativeUnitsDiscount": 0,
             "costDetails": cost_details(cost)}
    if request.query.get("dryRun") in ("true", "api"):
        return Response.json(DRY_RUN_STATUS, price)
    rule = app.faults.claim_one(JOB_KINDS, request.method, request.path)
    if rule is not None:
        request.extras.setdefault("faults", []).append(rule.kind)
    job = Job(
        id=new_id("job"), model_id=model_id, input=resolved, source_asset_id=source.id,
        factor=factor, cost=cost, owner_id=request.project_id or DEFAULT_OWNER,
        never_finishes=rule is not None and rule.kind == "job_never_finishes",
        fail_with=((rule.param("error") or DEFAULT_FAILURE, rule.param("hint"))
                   if rule is not None and rule.kind == "job_failure" else None),
    )
    app.scheduler.submit(job)
    with app.store.lock:
        return Response.json(200, {"job": job_json(job), **price})


def render_job(app: Emulator, job: Job) -> Callable[[], str]:
    """Upscale the job's input; returns what stores the result when the job succeeds."""
    source = app.store.asset(job.source_asset_id)
    if source is None:
        raise RuntimeError(f"input asset {job.source_asset_id} no longer exists")
    png = imaging.upscale(source.data, job.factor, keep_alpha=app.options.keep_alpha,
                          break_tiling=app.options.break_tiling)
    stem = PurePosixPath(source.name).stem or source.id
    asset = Asset(
        id=new_id("asset"), name=f"{stem}_x{job.factor}.png", mime_type="image/png", data=png,
        width=source.width * job.factor, height=source.height * job.factor,
        source="upscale-texture", owner_id=job.owner_id, parent_id=source.id, job_id=job.id,
    )

    def publish() -> str:
        with app.store.lock:
            if not app.scheduler.has_job(job.id):  # state was cleared while rendering
                raise RuntimeError(f"job {job.id} no longer exists")
            return app.store.add_asset(asset).id

    return publish


def register(router: Router) -> None:
    router.add("POST", "/v1/generate/custom/(?P<model_id>[^/]+)", run_model)
