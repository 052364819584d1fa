"""``/v1/uploads`` (multipart uploads) and ``/_parts`` (the pre-signed part URLs)."""

from __future__ import annotations

import hashlib
import time
from typing import TYPE_CHECKING, Any

from . import upload_flow
from .errors import ApiError, not_found
from .ids import iso, new_id
from .messages import Request, Response
from .store import DEFAULT_OWNER, Upload
from .wire import upload_json

if TYPE_CHECKING:
    from .app import Emulator
    from .router import Router

MAX_PARTS = 10_000
MAX_FILE_BYTES = 1024 * 1024 * 1024
PART_URL_TTL = 3600


def _bad(name: str, problem: str) -> ApiError:
    return ApiError(400, f'Invalid input "{name}": {problem}')


def _positive_int(body: dict[str, Any], name: str, high: int) -> int:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise _bad(name, "must be an integer")
    if not 1 <= value <= high:
        raise _bad(name, f"must be between 1 and {high}")
    return int(value)


def refresh(app: Emulator, upload: Upload) -> None:
    with app.store.lock:
        upload_flow.advance(upload, app.store, app.options.upload_seconds)


def _find(app: Emulator, upload_id: str) -> Upload:
    with app.store.lock:
        upload = app.store.uploads.get(upload_id)
        if upload is None:
            raise not_found("Upload", upload_id)
        refresh(app, upload)
        return upload


def create_upload(app: Emulator, request: Request, _params: dict[str, str]) -> Response:
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
    upload = Upload(id=new_id("upload"), file_name=name, content_type=content_type,
                    file_size=size, parts_count=parts, kind="image",
                    owner_id=request.project_id or DEFAULT_OWNER)
    for number in range(1, parts + 1):
        url, expires = app.signer.part_url(app.root_url, f"/_parts/{upload.id}/{number}",
                                           PART_URL_TTL)
        upload.part_urls.append({"number": number, "url": url, "expires": iso(expires)})
    with app.store.lock:
        app.store.uploads[upload.id] = upload
    return Response.json(200, {"upload": upload_json(upload)})


def get_upload(app: Emulator, _request: Request, params: dict[str, str]) -> Response:
    upload = _find(app, params["upload_id"])
    with app.store.lock:
        return Response.json(200, {"upload": upload_json(upload)})


def upload_action(app: Emulator, request: Request, params: dict[str, str]) -> Response:
    upload = _find(app, params["upload_id"])
    action = request.json_object().get("action")
    if action != "complete":
        raise _bad("action", "must be one of complete")
    with app.store.lock:
        if upload.status != "pending":
            raise ApiError(400, f"Upload {upload.id} is already {upload.status}")
        upload_flow.assemble(upload, app.options.min_part_bytes)
        upload.status = "complete"
        upload.completed_at = upload.updated_at = time.time()
        return Response.json(200, {"upload": upload_json(upload)})


def put_part(app: Emulator, request: Request, params: dict[str, str]) -> Response:
    verdict = app.signer.check_part(request.path, request.query)
    if verdict == "invalid":
        return Response.xml_error(403, "SignatureDoesNotMatch",
                                  "The request signature we calculated does not match.")
    if verdict == "expired":
        return Response.xml_error(403, "AccessDenied", "Request has expired")
    number = int(params["number"])
    with app.store.lock:
        upload = app.store.uploads.get(params["upload_id"])
        if upload is None or upload.status != "pending":
            return Response.xml_error(404, "NoSuchUpload",
                                      "The specified multipart upload does not exist.")
        if not 1 <= number <= upload.parts_count:
            return Response.xml_error(400, "InvalidArgument", "Part number out of range.")
        upload.parts[number] = request.body
        upload.updated_at = time.time()
    etag = '"' + hashlib.md5(request.body, usedforsecurity=False).hexdigest() + '"'
    return Response(200, b"", [("ETag", etag)])


def register(router: Router) -> None:
    router.add("POST", "/v1/uploads", create_upload)
    router.add("GET", "/v1/uploads/(?P<upload_id>[^/]+)", get_upload)
    router.add("POST", "/v1/uploads/(?P<upload_id>[^/]+)/action", upload_action)
    router.add("PUT", r"/_parts/(?P<upload_id>[^/]+)/(?P<number>\d+)", put_part, auth=False)
