"""``GET /v1/models/{modelId}``: the model description with its inputs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import existing
from .messages import Request, Response

if TYPE_CHECKING:
    from .router import Router
    from .services import Services


def get_model(services: Services, _request: Request, params: dict[str, str]) -> Response:
    model = existing(services.models.get_model(params["model_id"]), "Model", params["model_id"])
    return Response.json(200, {"model": model})


def register(router: Router) -> None:
    router.add("GET", "/v1/models/(?P<model_id>[^/]+)", get_model)
