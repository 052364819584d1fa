"""``/_cdn/assets/<id>.<ext>``: the signed download URLs, answered like a CDN would.

No auth header is needed; the signature is the credential. A bad or expired signature gets
a 403 with an XML body. ``Range: bytes=a-b`` is honoured so clients can resume.

A service that lies about its result is played here: a ``result_size`` fault serves the image
resampled to another size, a ``header_bomb`` fault a small PNG whose header claims a huge one.
The asset itself stays as it is, so a client that fetches it again once the fault is spent gets
the real result.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING

from . import formats, imaging
from .faults import RESULT_KINDS
from .messages import Request, Response

if TYPE_CHECKING:
    from .router import Router
    from .services import Services

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _payload(services: Services, asset_id: str, extension: str) -> tuple[bytes, str] | None:
    """The asset's own bytes, or its copy re-encoded for that extension."""
    asset = services.assets.asset(asset_id)
    if asset is None:
        return None
    if extension == formats.extension_for(asset.mime_type):
        return asset.data, asset.mime_type
    return services.assets.variant(asset, extension)


def _ranged(request: Request, data: bytes, headers: list[tuple[str, str]]) -> Response:
    found = _RANGE.match(request.headers.get("Range", "").strip())
    if found is None or not (found.group(1) or found.group(2)):
        return Response(200, data, headers)
    size = len(data)
    first, last = found.groups()
    if first:
        start, end = int(first), min(int(last) if last else size - 1, size - 1)
    else:
        start, end = max(0, size - int(last)), size - 1
    if start >= size or start > end:
        return Response(416, b"", [("Content-Range", f"bytes */{size}")])
    headers = [*headers, ("Content-Range", f"bytes {start}-{end}/{size}")]
    return Response(206, data[start : end + 1], headers)


def download(services: Services, request: Request, params: dict[str, str]) -> Response:
    verdict = services.urls.check(request)
    if verdict == "invalid":
        return Response.xml_error(403, "AccessDenied", "Access denied")
    if verdict == "expired":
        return Response.xml_error(403, "AccessDenied", "Request has expired")
    payload = _payload(services, params["asset_id"], params["ext"])
    if payload is None:
        return Response.xml_error(404, "NoSuchKey", "The specified key does not exist.")
    data, mime_type = payload
    lie = services.faults.claim_for(RESULT_KINDS, request)
    if lie is not None and lie.kind == "result_size":
        data, mime_type = imaging.resized(data, lie.param("width"), lie.param("height")), "image/png"
    elif lie is not None:
        data = imaging.header_bomb(lie.param("width") or 60000, lie.param("height") or 60000)
        mime_type = "image/png"
    headers = [
        ("Content-Type", mime_type),
        ("Accept-Ranges", "bytes"),
        ("ETag", '"' + hashlib.md5(data, usedforsecurity=False).hexdigest() + '"'),
        ("Cache-Control", "private, max-age=86400"),
    ]
    return _ranged(request, data, headers)


def register(router: Router) -> None:
    router.add("GET", r"/_cdn/assets/(?P<asset_id>[^/.]+)\.(?P<ext>[A-Za-z0-9]+)", download,
               auth=False)
