"""``/v1/jobs/{jobId}``: job status, and the cancel action (refused, as for custom-model jobs,
unless the emulator was started to accept it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import ApiError, existing, not_found
from .messages import Request, Response
from .wire import job_json

if TYPE_CHECKING:
    from .router import Router
    from .services import Services

# Answer observed live for a custom-model job.
CANCEL_REFUSED = "Cannot cancel this type of job. Action not permitted."
CANCEL_TOO_LATE = "Cannot cancel a job that has already ended."


def get_job(services: Services, _request: Request, params: dict[str, str]) -> Response:
    job = existing(services.jobs.get(params["job_id"]), "Job", params["job_id"])
    return Response.json(200, {"job": job_json(job)})


def job_action(services: Services, request: Request, params: dict[str, str]) -> Response:
    existing(services.jobs.get(params["job_id"]), "Job", params["job_id"])
    action = request.json_object().get("action")
    if action != "cancel":
        raise ApiError(400, 'Invalid input "action": must be one of cancel')
    if not services.options.accept_cancel:
        raise ApiError(400, CANCEL_REFUSED)
    try:
        job = services.jobs.cancel(params["job_id"])
    except KeyError:  # removed by a concurrent reset
        raise not_found("Job", params["job_id"]) from None
    if job is None:
        raise ApiError(400, CANCEL_TOO_LATE)
    return Response.json(200, {"job": job_json(job)})


def register(router: Router) -> None:
    router.add("GET", "/v1/jobs/(?P<job_id>[^/]+)", get_job)
    router.add("POST", "/v1/jobs/(?P<job_id>[^/]+)/action", job_action)
