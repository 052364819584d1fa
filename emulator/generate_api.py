"""``POST /v1/generate/custom/{modelId}``: validation, dry-run quotes, job creation.

The upscale itself is rendering.py's, run when the scheduler gives the job a slot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import ApiError, existing
from .faults import JOB_KINDS
from .ids import new_id
from .messages import Request, Response
from .pricing import cost_details, upscale_cost
from .scheduler import Job
from .store import DEFAULT_OWNER
from .validation import validate_inputs
from .wire import job_json

if TYPE_CHECKING:
    from .router import Router
    from .services import Services

DRY_RUN_STATUS = 269
DEFAULT_FAILURE = "The generation failed because of an internal error"


def _check_output_size(services: Services, width: int, height: int, factor: int) -> None:
    out_w, out_h = width * factor, height * factor
    side, pixels = services.options.max_output_side, services.options.max_output_pixels
    if max(out_w, out_h) > side or out_w * out_h > pixels:
        raise ApiError(400, f'Invalid input "upscaleFactor": output {out_w}x{out_h} exceeds the '
                            f"maximum of {side} px per side and {pixels} pixels")


def run_model(services: Services, request: Request, params: dict[str, str]) -> Response:
    model_id = params["model_id"]
    model = existing(services.models.runnable_model(model_id), "Model", model_id)
    body = request.json()
    resolved = validate_inputs({} if body is None else body, model["inputs"],
                               services.assets.has_asset, services.models.is_lora)
    source = services.assets.asset(resolved["image"])
    if source is None:  # removed by a concurrent reset
        raise ApiError(400, f'Invalid input "image": asset {resolved["image"]} not found')
    factor = int(resolved["upscaleFactor"])
    _check_output_size(services, source.width, source.height, factor)
    cost = upscale_cost(source.width, source.height, factor)
    price = {"creativeUnitsCost": cost, "creativeUnitsDiscount": 0,
             "costDetails": cost_details(cost)}
    if request.query.get("dryRun") in ("true", "api"):
        return Response.json(DRY_RUN_STATUS, price)

    def make_job() -> Job:  # only once the team has room: a refused request claims no fault
        rule = services.faults.claim_for(JOB_KINDS, request)
        return Job(
            id=new_id("job"), model_id=model_id, input=resolved, source_asset_id=source.id,
            factor=factor, cost=cost, owner_id=request.project_id or DEFAULT_OWNER,
            never_finishes=rule is not None and rule.kind == "job_never_finishes",
            fail_with=((rule.param("error") or DEFAULT_FAILURE, rule.param("hint"))
                       if rule is not None and rule.kind == "job_failure" else None),
        )

    limit = services.options.team_parallel_jobs
    submitted = services.jobs.submit(make_job, limit)
    if submitted is None:
        raise team_limit_error(limit)
    return Response.json(200, {"job": job_json(submitted), **price})


# What Scenario names the limit on a team's jobs at once in a 429's details.
TEAM_LIMIT_ACTION = "parallel-custom-jobs"


def team_limit_error(limit: int) -> ApiError:
    """The refusal of a generate while the team's ``limit`` jobs run: nothing is created."""
    jobs = "1 job" if limit == 1 else f"{limit} jobs"
    return ApiError(
        429, f"Your team already runs {jobs} at a time, the most its plan allows. "
             "Wait for one to finish.",
        extra={"details": {"actionName": TEAM_LIMIT_ACTION, "actionLimit": limit}})


def register(router: Router) -> None:
    router.add("POST", "/v1/generate/custom/(?P<model_id>[^/]+)", run_model)
