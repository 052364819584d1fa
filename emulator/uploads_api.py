"""``/v1/uploads`` (multipart uploads) and ``/_parts`` (the pre-signed part URLs)."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from .errors import ApiError, existing, not_found
from .messages import Request, Response
from .store import DEFAULT_OWNER, Upload
from .upload_flow import NotPending
from .wire import upload_json

if TYPE_CHECKING:
    from .router import Router
    from .services import Services

MAX_PARTS = 10_000
MAX_FILE_BYTES = 1024 * 1024 * 1024


def _bad(name: str, problem: str) -> ApiError:
    return ApiError(400, f'Invalid input "{name}": {problem}')


def _positive_int(body: dict[str, Any], name: str, high: int) -> int:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise _bad(name, "must be an integer")
    if not 1 <= value <= high:
        raise _bad(name, f"must be between 1 and {high}")
    return int(value)


def _find(services: Services, upload_id: str) -> Upload:
    return existing(services.uploads.get(upload_id), "Upload", upload_id)


def create_upload(services: Services, request: Request, _params: dict[str, str]) -> Response:
    body = request.json_object()
    for remote in ("url", "civitaiModelUrl", "huggingFaceModelName"):
        if remote in body:
            raise _bad(remote, "remote imports are not supported by this emulator")
    if body.get("kind") != "image":
        raise _bad("kind", 'must be "image" for a multipart image upload')
    name = body.get("fileName")
    if not isinstance(name, str) or not name.strip():
        raise _bad("fileName", "is required")
    content_type = body.get("contentType")
    if not isinstance(content_type, str) or not content_type.startswith("image/"):
        raise _bad("contentType", "must be an image MIME type such as image/png")
    size = _positive_int(body, "fileSize", MAX_FILE_BYTES)
    parts = _positive_int(body, "parts", MAX_PARTS)
    if parts > size:
        raise _bad("parts", "cannot exceed fileSize")
    upload = services.uploads.create(name, content_type, size, parts,
                                     request.project_id or DEFAULT_OWNER)
    answer = upload_json(upload)
    planted = services.urls.planted_link(request)
    if planted is not None:
        answer["parts"] = [{**part, "url": planted} for part in answer["parts"]]
    return Response.json(200, {"upload": answer})


def get_upload(services: Services, _request: Request, params: dict[str, str]) -> Response:
    return Response.json(200, {"upload": upload_json(_find(services, params["upload_id"]))})


def upload_action(services: Services, request: Request, params: dict[str, str]) -> Response:
    upload_id = params["upload_id"]
    _find(services, upload_id)
    action = request.json_object().get("action")
    if action != "complete":
        raise _bad("action", "must be one of complete")
    try:
        upload = services.uploads.complete(upload_id)
    except NotPending as exc:
        raise ApiError(400, f"Upload {upload_id} is already {exc.status}") from None
    if upload is None:  # removed by a concurrent reset
        raise not_found("Upload", upload_id)
    return Response.json(200, {"upload": upload_json(upload)})


def put_part(services: Services, request: Request, params: dict[str, str]) -> Response:
    verdict = services.uploads.check_part_url(request.path, request.query)
    if verdict == "invalid":
        return Response.xml_error(403, "SignatureDoesNotMatch",
                                  "The request signature we calculated does not match.")
    if verdict == "expired":
        return Response.xml_error(403, "AccessDenied", "Request has expired")
    stored = services.uploads.put_part(params["upload_id"], int(params["number"]), request.body)
    if stored == "no-such-upload":
        return Response.xml_error(404, "NoSuchUpload",
                                  "The specified multipart upload does not exist.")
    if stored == "bad-number":
        return Response.xml_error(400, "InvalidArgument", "Part number out of range.")
    etag = '"' + hashlib.md5(request.body, usedforsecurity=False).hexdigest() + '"'
    return Response(200, b"", [("ETag", etag)])


def register(router: Router) -> None:
    router.add("POST", "/v1/uploads", create_upload)
    router.add("GET", "/v1/uploads/(?P<upload_id>[^/]+)", get_upload)
    router.add("POST", "/v1/uploads/(?P<upload_id>[^/]+)/action", upload_action)
    router.add("PUT", r"/_parts/(?P<upload_id>[^/]+)/(?P<number>\d+)", put_part, auth=False)
