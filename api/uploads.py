"""Send a texture to Scenario as an asset: one JSON request when small, multipart when large."""

from __future__ import annotations

import binascii
import contextlib
import io
import json
import math
import os
from collections.abc import Callable, Iterator
from typing import Any, Protocol
from urllib.parse import quote

from .errors import InvalidRequestError, UnexpectedResponseError, UploadError
from .image_types import (
    ACCEPTED_UPLOAD_TYPES,
    EXTENSIONS,
    SNIFF_BYTES,
    describe_unsupported,
    sniff_image_type,
)
from .models import Asset, as_dict, as_int, as_str, unwrap
from .service_text import clean_text
from .transport import Transport
from .wording import counted

# Raw bytes sent inline as a data URL. Scenario's own Blender client keeps to 3.5 MB: base64 grows
# it by a third and the gateway caps request bodies at about 10 MB.
SMALL_UPLOAD_MAX_BYTES = 3_500_000
# Pre-signed S3 parts: every part but the last must be at least 5 MiB.
PART_SIZE = 8 * 1024 * 1024
# Read size when encoding a data URL: a multiple of 3, so the base64 pieces join without padding.
_INLINE_PIECE = 3 * 64 * 1024
MIN_PART_SIZE = 5 * 1024 * 1024
IMPORT_TIMEOUT = 300.0
# Imports usually take well under a second: look early, then back off.
_POLL_FIRST, _POLL_MAX = 0.25, 3.0
_STILL_WORKING = frozenset({"pending", "complete", "validating", "validated"})

Progress = Callable[[int, int], None]
ImageSource = str | os.PathLike[str] | bytes | memoryview


class _Reader(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _Source:
    """A path or in-memory bytes, read lazily: at most one part is in memory at a time."""

    def __init__(self, source: ImageSource) -> None:
        self.data: bytes | memoryview | None = None
        self.path: str | None = None
        if isinstance(source, (bytes, bytearray, memoryview)):
            # A view (e.g. of a mapped buffer) is read part by part, never copied whole.
            self.data = source if isinstance(source, bytes) else memoryview(source).cast("B")
            self.size = len(self.data)
            self.display = "the image"
        else:
            self.path = os.fspath(source)
            self.display = os.path.basename(self.path) or self.path
            try:
                stat = os.stat(self.path)
            except OSError as exc:
                raise UploadError(
                    f"Cannot read the texture file {self.path!r}: {exc.strerror or exc}. Check "
                    "that it exists (unpack packed images first)."
                ) from exc
            if not os.path.isfile(self.path):
                raise UploadError(f"{self.path!r} is not a file.")
            self.size = stat.st_size
        if self.size == 0:
            raise UploadError(f"{self.display} is empty: there is nothing to upload.")

    @contextlib.contextmanager
    def open(self) -> Iterator[_Reader]:
        if isinstance(self.data, bytes):
            yield io.BytesIO(self.data)  # shares the bytes, no copy
            return
        if self.data is not None:
            yield _ViewReader(self.data)
            return
        assert self.path is not None
        try:
            handle = open(self.path, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise UploadError(f"Cannot read the texture file {self.path!r}: {exc}.") from exc
        with handle:
            yield handle

    def head(self) -> bytes:
        with self.open() as handle:
            return handle.read(SNIFF_BYTES)


class _ViewReader:
    """Reads a memoryview the way a file is read: each ``read`` copies just what it returns."""

    def __init__(self, view: memoryview) -> None:
        self._view, self._position = view, 0

    def read(self, size: int | None = -1, /) -> bytes:
        end = len(self._view) if size is None or size < 0 else self._position + size
        piece = bytes(self._view[self._position:end])
        self._position += len(piece)
        return piece


def upload_image(
    transport: Transport,
    source: ImageSource,
    *,
    name: str | None = None,
    progress: Progress | None = None,
    small_limit: int = SMALL_UPLOAD_MAX_BYTES,
    part_size: int = PART_SIZE,
    import_timeout: float = IMPORT_TIMEOUT,
) -> Asset:
    """Upload an image and return the new asset. ``progress(sent_bytes, total_bytes)``."""
    if part_size < MIN_PART_SIZE:
        raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes")
    src = _Source(source)
    head = src.head()
    mime = sniff_image_type(head)
    if mime not in ACCEPTED_UPLOAD_TYPES or mime is None:
        raise UploadError(
            f"{src.display} is {describe_unsupported(head)}, which Scenario does not accept: "
            "save the texture as PNG, JPEG or WebP, then try again."
        )
    default_name = os.path.basename(src.path) if src.path else f"texture{EXTENSIONS[mime]}"
    file_name = name or default_name
    report = progress or (lambda sent, total: None)
    report(0, src.size)
    if src.size <= small_limit:
        asset = _upload_inline(transport, src, file_name, mime)
    else:
        asset = _upload_multipart(
            transport, src, file_name, mime, part_size, import_timeout, report
        )
    report(src.size, src.size)
    return asset


def _upload_inline(transport: Transport, src: _Source, name: str, mime: str) -> Asset:
    head = b"".join((b'{"name":', json.dumps(name).encode(), b',"image":"data:',
                     mime.encode("ascii"), b";base64,"))
    tail = b'"}'
    end = len(head) + 4 * math.ceil(src.size / 3)
    # Encoded piece by piece straight into the body: the image is held once, as base64 (reading
    # it whole, encoding it and joining held it three times over).
    body = bytearray(end + len(tail))
    body[: len(head)] = head
    position = len(head)
    with src.open() as handle:
        while piece := handle.read(_INLINE_PIECE):
            encoded = binascii.b2a_base64(piece, newline=False)
            body[position : position + len(encoded)] = encoded
            position += len(encoded)
    if position != end:
        raise UploadError(f"{src.display} changed while it was being read; try again.")
    body[end:] = tail
    # A repeated POST /assets at worst creates a duplicate asset; it is never charged.
    return _asset_from(transport.request_json("POST", "/assets", body=body), "upload")


def _asset_from(data: dict[str, Any], what: str) -> Asset:
    asset = Asset.from_api(data)
    if not asset.id:
        raise UnexpectedResponseError(f"Scenario's answer to the {what} named no asset id.")
    return asset


def _upload_multipart(
    transport: Transport,
    src: _Source,
    name: str,
    mime: str,
    part_size: int,
    import_timeout: float,
    report: Progress,
) -> Asset:
    count = math.ceil(src.size / part_size)
    created = unwrap(
        transport.request_json(
            "POST",
            "/uploads",
            json={
                "fileName": name,
                "contentType": mime,
                "fileSize": src.size,
                "parts": count,
                "kind": "image",
            },
        ),
        "upload",
    )
    upload_id = as_str(created.get("id"))
    urls = _part_urls(transport, created, count)
    if not upload_id:
        raise UnexpectedResponseError("Scenario's answer to the upload request named no upload id.")
    sent = 0
    with src.open() as handle:
        for number in range(1, count + 1):
            transport.raise_if_cancelled()
            chunk = handle.read(part_size)
            _put_part(transport, urls[number], chunk, mime, number, count)
            sent += len(chunk)
            # Else the next read happens while this name still holds the part: two in memory.
            del chunk
            report(sent, src.size)
    path = f"/uploads/{quote(upload_id, safe='')}"
    _complete(transport, path)
    return _wait_imported(transport, path, src.display, import_timeout)


def _part_urls(transport: Transport, upload: dict[str, Any], count: int) -> dict[int, str]:
    """Every part's address, each checked before the first part goes out."""
    urls: dict[int, str] = {}
    raw_parts = upload.get("parts")
    for part in raw_parts if isinstance(raw_parts, list) else []:
        number, url = as_int(as_dict(part).get("number")), as_str(as_dict(part).get("url"))
        if number is not None and url:
            urls[number] = url
    if sorted(urls) != list(range(1, count + 1)):
        raise UnexpectedResponseError(
            f"Scenario returned {counted(len(urls), 'upload address', 'upload addresses')} for "
            f"{counted(count, 'part')}. Try again."
        )
    for number, url in urls.items():
        transport.links.check(url, f"Scenario sent an upload address for part {number} of {count}")
    return urls


def _put_part(
    transport: Transport, url: str, chunk: bytes, mime: str, number: int, count: int
) -> None:
    # Signed URL: no Authorization header (send_external strips it); repeats are harmless.
    resp = transport.send_external("PUT", url, data=chunk, headers={"Content-Type": mime},
                                   what=f"upload address for part {number}")
    status = int(resp.status_code)
    resp.close()
    if status not in (200, 201, 204):
        raise UploadError(
            f"Uploading part {number} of {count} failed (HTTP {status}). Try the upload again.",
            status=status,
        )


def _complete(transport: Transport, path: str) -> None:
    try:
        transport.request("POST", f"{path}/action", json={"action": "complete"})
    except InvalidRequestError:
        # A retried "complete" whose first attempt did arrive is refused; that is fine if the
        # upload is already being processed.
        status = as_str(unwrap(transport.request_json("GET", path), "upload").get("status"))
        if status not in _STILL_WORKING | {"imported"}:
            raise


def _wait_imported(transport: Transport, path: str, display: str, timeout: float) -> Asset:
    deadline = transport.clock() + timeout
    delay = _POLL_FIRST
    while True:
        upload = unwrap(transport.request_json("GET", path), "upload")
        status = as_str(upload.get("status"))
        if status == "imported":
            asset_id = as_str(upload.get("entityId")) or as_str(upload.get("assetId"))
            if not asset_id:
                raise UnexpectedResponseError("Scenario imported the upload but named no asset id.")
            got = transport.request_json("GET", f"/assets/{quote(asset_id, safe='')}")
            return _asset_from(got, "asset request")
        if status == "failed":
            reason = clean_text(upload.get("errorMessage"))
            said = f": {reason.rstrip('.')}" if reason else ""
            raise UploadError(
                f"Scenario could not import {display}{said}. Check that the file is a valid "
                "image, or save it as PNG and try again.",
                reason=reason,
            )
        if transport.clock() + delay > deadline:
            raise UploadError(
                f"Scenario did not finish importing {display} within {timeout:g} s "
                f"(status {status or 'unknown'}). Try again later."
            )
        transport.pause(delay)
        delay = min(delay * 1.5, _POLL_MAX)
