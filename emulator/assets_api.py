"""``/v1/assets``: small uploads (data URL or bare base64), asset details, download links."""

from __future__ import annotations

import base64
import binascii
import re
from typing import TYPE_CHECKING, Any

from . import formats, imaging
from .errors import ApiError, existing
from .ids import new_id
from .messages import Request, Response
from .store import DEFAULT_OWNER, Asset
from .wire import asset_json

if TYPE_CHECKING:
    from .router import Router
    from .services import Services

_WHITESPACE = re.compile(r"\s+")


def _bad(name: str, problem: str) -> ApiError:
    return ApiError(400, f'Invalid input "{name}": {problem}')


def decode_image_field(value: Any) -> bytes:
    """Bytes of a data URL (``data:image/png;base64,…``) or of bare base64."""
    if not isinstance(value, str) or not value:
        raise _bad("image", "must be a base64 string or a data URL")
    payload = value
    if value.startswith("data:"):
        header, sep, payload = value.partition(",")
        if not sep or not header.endswith(";base64"):
            raise _bad("image", "data URL must be base64 encoded")
    try:
        return base64.b64decode(_WHITESPACE.sub("", payload), validate=True)
    except (binascii.Error, ValueError):
        raise _bad("image", "is not valid base64") from None


def find_asset(services: Services, asset_id: str) -> Asset:
    return existing(services.assets.asset(asset_id), "Asset", asset_id)


def create_asset(services: Services, request: Request, _params: dict[str, str]) -> Response:
    body = request.json_object()
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _bad("name", "is required")
    if "image" not in body:
        if "canvas" in body:
            raise ApiError(400, "Canvas uploads are not supported by this emulator")
        raise _bad("image", "is required")
    data = decode_image_field(body["image"])
    try:
        info = imaging.inspect(data)
    except imaging.InvalidImage as exc:
        raise _bad("image", str(exc)) from None
    asset = services.assets.add_asset(Asset(
        id=new_id("asset"), name=name, mime_type=info.mime_type, data=data,
        width=info.width, height=info.height, owner_id=request.project_id or DEFAULT_OWNER,
    ))
    url = services.urls.signed(asset, request, faults=False)
    return Response.json(200, {"asset": asset_json(asset, url)})


def get_asset(services: Services, request: Request, params: dict[str, str]) -> Response:
    asset = find_asset(services, params["asset_id"])
    return Response.json(200, {"asset": asset_json(asset, services.urls.signed(asset, request))})


def request_download(services: Services, request: Request, params: dict[str, str]
                     ) -> Response:
    asset = find_asset(services, params["asset_id"])
    target = request.json_object().get("targetFormat")
    if target is not None and not isinstance(target, str):
        raise _bad("targetFormat", "must be a string")
    fmt = None if target is None else formats.format_named(target)
    own = formats.format_of(asset.mime_type)
    if target is None or (own is not None and fmt == own):
        return Response.json(200, {"url": services.urls.signed(asset, request),
                                   "mimeType": asset.mime_type})
    if fmt not in formats.CONVERTIBLE:
        raise _bad("targetFormat", f"cannot convert an image to {target}")
    mime_type = formats.MIME_TYPES[fmt]
    extension = formats.extension_for(mime_type)
    if services.assets.variant(asset, extension) is None:
        try:
            converted = imaging.convert(asset.data, fmt)
        except imaging.InvalidImage as exc:
            raise _bad("targetFormat", str(exc)) from None
        services.assets.add_variant(asset, extension, (converted, mime_type))
    return Response.json(200, {"url": services.urls.signed(asset, request, extension),
                               "mimeType": mime_type})


def register(router: Router) -> None:
    router.add("POST", "/v1/assets", create_asset)
    router.add("GET", "/v1/assets/(?P<asset_id>[^/]+)", get_asset)
    router.add("POST", "/v1/assets/(?P<asset_id>[^/]+)/download", request_download)
