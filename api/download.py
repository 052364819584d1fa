"""Fetch an asset's signed URL to disk: streamed, verified, placed atomically, never overwriting.

Verified means whole: as many bytes as Content-Length says, and the format's own end where it
should be (``image_complete``), since a server can state a length shorter than the file. A file
cut short is fetched again. The link, and any redirect it answers with, is checked before a
request goes to it (``links``).

The download as a whole runs under the watchdog (``abort``): stopped when it passes its deadline,
or when it makes less than ``MIN_BYTES_PER_SECOND`` of progress over the read timeout (a server
dripping a byte every few seconds never trips a read timeout), and at once on Cancel.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import requests

from .abort import Limit, Stall, StopKind
from .errors import CancelledError, DestinationExistsError, DownloadError
from .image_complete import file_end_problem
from .image_types import SNIFF_BYTES, describe_unsupported, sniff_image_type
from .models import Asset, Download, as_int
from .transport import Transport
from .wording import counted

DEFAULT_MAX_DOWNLOAD_BYTES = 1024 * 1024 * 1024
# Whole-body attempts when the body arrives cut short (transport retries cover failed connects).
DOWNLOAD_ATTEMPTS = 3
# Signed URLs expire: how many times a 403 may send us back to GET /assets/{id} for a fresh one.
URL_REFRESHES = 2
_CHUNK = 256 * 1024
# Without read1 (older urllib3) each read waits for its whole chunk: small ones, so a slow
# but honest connection still shows progress to the stall check.
_SMALL_CHUNK = 8 * 1024
# Less than this over the read timeout counts as a stall (a drip), like no byte at all.
MIN_BYTES_PER_SECOND = 1024
# The whole download, every attempt included, unless the caller gives its own limit.
DEFAULT_DOWNLOAD_SECONDS = 30 * 60.0
# Progress goes to the UI thread as events: a few a second is plenty, one per chunk (1,600 for a
# 400 MB result) keeps the main thread contending with this one for the GIL.
_PROGRESS_EVERY = 0.1

Progress = Callable[[int, int], None]


class _Truncated(Exception):
    pass


class _Stalled(_Truncated):
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
    seconds: float = DEFAULT_DOWNLOAD_SECONDS,
) -> Download:
    """Download to ``dest_path``; raise ``DestinationExistsError`` rather than replace a file.

    ``fetch_asset`` (re)reads the asset, for its URL at first and again when the URL has expired.
    ``progress(received_bytes, total_bytes)``; total is 0 when unknown. ``seconds`` bounds the
    whole download.
    """
    dest = os.path.abspath(os.fspath(dest_path))
    _check_destination(dest)
    part = dest + ".part"
    report = progress or (lambda done, total: None)
    window = transport.timeout[1]
    stall = Stall(window, int(window * MIN_BYTES_PER_SECOND))
    try:
        with transport.watching(seconds, stall) as limit:
            written = _attempts(transport, fetch_asset, part, limit, max_bytes, report, attempts)
        _place(part, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(part)
        raise
    return Download(
        path=dest, size=written.size, sha256=written.sha256, mime_type=written.mime_type
    )


def _attempts(transport: Transport, fetch_asset: Callable[[], Asset], part: str, limit: Limit,
              max_bytes: int, report: Progress, attempts: int) -> _Written:
    asset: Asset | None = None
    refreshes = failures = 0
    while True:
        transport.raise_if_cancelled()
        transport.restart(limit)
        try:
            if asset is None:
                asset = _fetch(transport, fetch_asset, limit)
            url = _usable_url(transport, asset)
            written = _attempt(transport, url, part, limit, max_bytes, report, asset.size)
        except _UrlRefused as refused:
            if refreshes >= URL_REFRESHES:
                _check_response(refused.status)
            refreshes += 1
            transport.log(logging.INFO, "download link refused (HTTP %s); fetching a fresh one",
                          refused.status)
            asset = None
            continue
        except _Truncated as exc:
            failures += 1
            if failures >= attempts:
                what = "kept stalling" if isinstance(exc, _Stalled) else "kept breaking off"
                raise DownloadError(
                    f"The download {what} ({exc}) after {counted(attempts, 'attempt')}. Check your "
                    "connection and try again; the result stays available on Scenario."
                ) from None
            transport.pause(transport.backoff(failures - 1))
            continue
        return written


def _fetch(transport: Transport, fetch_asset: Callable[[], Asset], limit: Limit) -> Asset:
    """The asset, for its link; the download's watch may stop this request too."""
    try:
        return fetch_asset()
    except requests.exceptions.RequestException as exc:
        raise _stopped(transport, limit, 0, exc) from exc


class _UrlRefused(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def _attempt(transport: Transport, url: str, part: str, limit: Limit, max_bytes: int,
             report: Progress, size_hint: int | None) -> _Written:
    # identity: Content-Length must count the bytes we write.
    headers = {"Accept": "image/*", "Accept-Encoding": "identity"}
    try:
        resp = transport.send_external("GET", url, stream=True, headers=headers,
                                       what="download link")
    except requests.exceptions.RequestException as exc:
        # Only a stop of this download's own watch gets here (see Transport._watched).
        raise _stopped(transport, limit, 0, exc) from exc
    try:
        if resp.status_code in (401, 403):
            raise _UrlRefused(int(resp.status_code))
        _check_response(int(resp.status_code))
        total = _content_length(resp)
        written = _stream_to(part, resp, total, max_bytes, transport, limit, report, size_hint)
    finally:
        resp.close()
    problem = file_end_problem(part)
    if problem is not None:
        raise _Truncated(f"{written.size} bytes arrived, and {problem}")
    return written


def _check_destination(dest: str) -> None:
    if os.path.lexists(dest):
        raise DestinationExistsError(
            f"{dest} already exists; it was left untouched. Choose another file name.", path=dest
        )
    folder = os.path.dirname(dest)
    if not os.path.isdir(folder):
        raise DownloadError(f"The folder {folder} does not exist; create it or pick another one.")


def _usable_url(transport: Transport, asset: Asset) -> str:
    if not asset.url:
        raise DownloadError(
            f"Scenario has no download link for asset {asset.id} yet. Try again in a moment."
        )
    return transport.links.check(asset.url, f"Scenario sent a download link for asset {asset.id}")


def _check_response(status: int) -> None:
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
    limit: Limit,
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
            for chunk in _chunks(resp):
                transport.raise_if_cancelled()
                transport.progressed(len(chunk))
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
        except Exception as exc:
            if not _is_network_error(exc):
                raise
            raise _stopped(transport, limit, received, exc) from exc
        # A stop that ended the body cleanly (no Content-Length to miss) is still a stop.
        if transport.stop() is not None:
            raise _stopped(transport, limit, received, None)
        if total is not None and received < total:
            raise _Truncated(f"{received} of {total} bytes received")
        report(received, shown_total)
        mime = _check_signature(head)
        out.flush()
        os.fsync(out.fileno())
    return _Written(size=received, sha256=digest.hexdigest(), mime_type=mime)


def _chunks(resp: Any) -> Iterator[bytes]:
    """The body as it arrives: ``read1`` hands over whatever came (a drip shows as a drip),
    where plain reads wait for a whole chunk."""
    read1 = getattr(resp.raw, "read1", None)
    if not callable(read1):
        yield from (chunk for chunk in resp.iter_content(_SMALL_CHUNK) if chunk)
        return
    while chunk := read1(_CHUNK):
        yield chunk


def _is_network_error(exc: BaseException) -> bool:
    """The body broke off: requests', urllib3's (raised raw by ``read1``) or the socket's."""
    if isinstance(exc, (requests.exceptions.RequestException, OSError, http.client.HTTPException)):
        return True
    return any(cls.__module__.startswith("urllib3.") for cls in type(exc).__mro__)


def _stopped(transport: Transport, limit: Limit, received: int,
             exc: BaseException | None) -> BaseException:
    """What a body that broke off means: the watchdog may have stopped it (Cancel, the
    download's deadline, a stall), or the connection simply broke."""
    stop = transport.stop()
    if stop is not None and stop.kind == StopKind.CANCELLED:
        return CancelledError("Cancelled.")
    if stop is not None and stop.kind == StopKind.DEADLINE and stop.limit is limit:
        return DownloadError(
            f"The download was not finished after {limit.seconds or 0:.0f} s ({received} bytes "
            "received) and was stopped. Check your connection and try again; the result "
            "stays available on Scenario."
        )
    if stop is not None and stop.kind == StopKind.STALLED:
        rule = limit.stall
        assert rule is not None
        return _Stalled(f"less than {rule.min_bytes} bytes in {rule.seconds:g} s, "
                        f"{received} bytes received")
    name = type(exc).__name__ if exc is not None else "the end of the answer"
    return _Truncated(f"{received} bytes received, then {name}")


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
