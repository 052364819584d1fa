"""Fetch an asset's signed URL to disk: streamed, verified, placed atomically, never overwriting."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from .config import is_secure_url
from .errors import DestinationExistsError, DownloadError
from .image_types import SNIFF_BYTES, describe_unsupported, sniff_image_type
from .models import Asset, Download, as_int
from .transport import Transport, describe_url

DEFAULT_MAX_DOWNLOAD_BYTES = 1024 * 1024 * 1024
# Whole-body attempts when the body arrives cut short (transport retries cover failed connects).
DOWNLOAD_ATTEMPTS = 3
# Signed URLs expire: how many times a 403 may send us back to GET /assets/{id} for a fresh one.
URL_REFRESHES = 2
_CHUNK = 256 * 1024
# Progress goes to the UI thread as events: a few a second is plenty, one per chunk (1,600 for a
# 400 MB result) keeps the main thread contending with this one for the GIL.
_PROGRESS_EVERY = 0.1

Progress = Callable[[int, int], None]


class _Truncated(Exception):
    pass


@dataclass
class _Written:
    size: int
    sha256: str
    mime_type: str


def download_asset(
    transport: Transport,
    fetch_asset: Callable[[], Asset],
    dest_path: str | os.PathLike[str],
    *,
    max_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES,
    progress: Progress | None = None,
    attempts: int = DOWNLOAD_ATTEMPTS,
) -> Download:
    """Download to ``dest_path``; raise ``DestinationExistsError`` rather than replace a file.

    ``fetch_asset`` (re)reads the asset, for its URL at first and again when the URL has expired.
    ``progress(received_bytes, total_bytes)``; total is 0 when unknown.
    """
    dest = os.path.abspath(os.fspath(dest_path))
    _check_destination(dest)
    part = dest + ".part"
    report = progress or (lambda done, total: None)
    asset = fetch_asset()
    url = _usable_url(asset)
    refreshes = failures = 0
    try:
        while True:
            transport.raise_if_cancelled()
            # identity: Content-Length must count the bytes we write.
            headers = {"Accept": "image/*", "Accept-Encoding": "identity"}
            resp = transport.send_external("GET", url, stream=True, headers=headers)
            try:
                if resp.status_code in (401, 403) and refreshes < URL_REFRESHES:
                    refreshes += 1
                    transport.log(
                        logging.INFO, "download link refused (HTTP %s); fetching a fresh one",
                        resp.status_code,
                    )
                    asset = fetch_asset()
                    url = _usable_url(asset)
                    continue
                _check_response(resp)
                total = _content_length(resp)
                written = _stream_to(part, resp, total, max_bytes, transport, report, asset.size)
            except _Truncated as exc:
                failures += 1
                if failures >= attempts:
                    raise DownloadError(
                        f"The download kept breaking off ({exc}) after {attempts} attempts. Check "
                        "your connection and try again; the result stays available on Scenario."
                    ) from None
                transport.pause(transport.backoff(failures - 1))
                continue
            finally:
                resp.close()
            break
        _place(part, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(part)
        raise
    return Download(
        path=dest, size=written.size, sha256=written.sha256, mime_type=written.mime_type
    )


def _check_destination(dest: str) -> None:
    if os.path.lexists(dest):
        raise DestinationExistsError(
            f"{dest} already exists; it was left untouched. Choose another file name.", path=dest
        )
    folder = os.path.dirname(dest)
    if not os.path.isdir(folder):
        raise DownloadError(f"The folder {folder} does not exist; create it or pick another one.")


def _usable_url(asset: Asset) -> str:
    if not asset.url:
        raise DownloadError(
            f"Scenario has no download link for asset {asset.id} yet. Try again in a moment."
        )
    if not is_secure_url(asset.url):
        raise DownloadError(
            f"Refusing to download asset {asset.id} over an insecure (non-https) link."
        )
    return asset.url


def _check_response(resp: Any) -> None:
    status = int(resp.status_code)
    if status == 403 or status == 401:
        raise DownloadError(
            "The download link was refused even after fetching a fresh one. Try again later.",
            status=status,
        )
    if status == 404:
        raise DownloadError("The result file is no longer on Scenario's servers.", status=status)
    if status != 200:
        raise DownloadError(
            f"The download server answered HTTP {status}. Try again later.", status=status
        )
    final_url = str(getattr(resp, "url", "") or "")
    if final_url and not is_secure_url(final_url):
        raise DownloadError(
            f"The download was redirected to an insecure address ({describe_url(final_url)})."
        )


def _content_length(resp: Any) -> int | None:
    length = as_int(resp.headers.get("Content-Length"))
    return length if length is not None and length >= 0 else None


def _too_big(max_bytes: int) -> DownloadError:
    return DownloadError(
        f"The upscaled image is larger than the {max_bytes / 2**20:.0f} MiB download limit; it "
        "was not saved. Raise the limit or choose a smaller upscale factor."
    )


def _stream_to(
    part: str,
    resp: Any,
    total: int | None,
    max_bytes: int,
    transport: Transport,
    report: Progress,
    size_hint: int | None,
) -> _Written:
    if total is not None and total > max_bytes:
        raise _too_big(max_bytes)
    digest = hashlib.sha256()
    head = b""
    received = 0
    shown_total = total or size_hint or 0
    reported_at: float | None = None
    with open(part, "wb") as out:
        try:
            for chunk in resp.iter_content(_CHUNK):
                if not chunk:
                    continue
                transport.raise_if_cancelled()
                received += len(chunk)
                if received > max_bytes:
                    raise _too_big(max_bytes)
                if len(head) < SNIFF_BYTES:
                    head += chunk[: SNIFF_BYTES - len(head)]
                    if len(head) >= SNIFF_BYTES:
                        _check_signature(head)
                digest.update(chunk)
                out.write(chunk)
                now = transport.clock()
                if reported_at is None or now - reported_at >= _PROGRESS_EVERY:
                    report(received, shown_total)
                    reported_at = now
        except (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError,
                requests.exceptions.Timeout) as exc:
            raise _Truncated(f"{received} bytes received, then {type(exc).__name__}") from exc
        if total is not None and received < total:
            raise _Truncated(f"{received} of {total} bytes received")
        report(received, shown_total)
        mime = _check_signature(head)
        out.flush()
        os.fsync(out.fileno())
    return _Written(size=received, sha256=digest.hexdigest(), mime_type=mime)


def _check_signature(head: bytes) -> str:
    mime = sniff_image_type(head)
    if mime is None:
        raise DownloadError(
            f"The downloaded file is not an image Scenario produces (it looks like "
            f"{describe_unsupported(head)}); it was not saved. Try again."
        )
    return mime


def _place(part: str, dest: str) -> None:
    """Move the finished file into place without ever replacing an existing file."""
    try:
        os.link(part, dest)  # fails if dest exists, unlike os.replace
    except FileExistsError:
        raise DestinationExistsError(
            f"{dest} appeared while downloading; it was left untouched. Choose another file name.",
            path=dest,
        ) from None
    except (OSError, NotImplementedError):
        # No hard links here (e.g. FAT/exFAT): claim the name exclusively, then move over our claim.
        try:
            fd = os.open(dest, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            raise DestinationExistsError(
                f"{dest} appeared while downloading; it was left untouched.", path=dest
            ) from None
        os.close(fd)
        os.replace(part, dest)
    else:
        os.unlink(part)
    _fsync_folder(os.path.dirname(dest))


def _fsync_folder(folder: str) -> None:
    # Makes the new name durable on POSIX; Windows cannot open folders, which is fine.
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
