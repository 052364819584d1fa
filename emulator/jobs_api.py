"""``/v1/jobs/{jobId}``: job status, and the cancel action (refused, as for custom-model jobs,
unless the emulator was started to accept it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import ApiError, not_found
from .messages import Request, Response
from .wire import job_json

if TYPE_CHECKING:
    from .app import Emulator
    from .router import Router

# Answer observed live for a custom-model job.
CANCEL_REFUSED = "Cannot cancel this type of job. Action not permitted."
CANCEL_TOO_LATE = "Cannot cancel a job that has already ended."


def get_job(app: Emulator, _request: Request, params: dict[str, str]) -> Response:
    with app.store.lock:
        job = app.scheduler.get(params["job_id"])
        if job is None:
            raise not_found("Job", params["job_id"])
        return Response.json(200, {"job": job_json(job)})


def job_action(app: Emulator, request: Request, params: dict[str, str]) -> Response:
    if app.scheduler.get(params["job_id"]) is None:
        raise not_found("Job", params["job_id"])
    action = request.json_object().get("action")
    if action != "cancel":
        raise ApiError(400, 'Invalid input "action": must be one of cancel')
    if not app.options.accept_cancel:
        raise ApiError(400, CANCEL_REFUSED)
    with app.store.lock:
        job = app.scheduler.cancel(params["job_id"])
        if job is None:
            raise ApiError(400, CANCEL_TOO_LATE)
        return Response.json(200, {"job": job_json(job)})


def register(router: Router) -> None:
    router.add("GET", "/v1/jobs/(?P<job_id>[^/]+)", get_job)
    router.add("POST", "/v1/jobs/(?P<job_id>[^/]+)/action", job_action)
