"""Multipart uploads: records, pre-signed part URLs, parts, and the verdict revealed over time.

Statuses after "complete": ``complete`` -> ``validating`` (25 % of upload_seconds) ->
``validated`` (60 %) -> ``imported`` (100 %), or ``failed`` with ``errorMessage`` where
``validated`` would have come. The parts are checked and decoded outside the lock; until that
verdict is in, the upload stays ``validating``.

Callers get copies of the records, so they can read them without the lock.
"""

from __future__ import annotations

import copy
import time

from . import imaging
from .ids import iso, new_id
from .signing import UrlSigner
from .store import Asset, Store, Upload

VALIDATING_AT = 0.25
VALIDATED_AT = 0.60
PART_URL_TTL = 3600


class NotPending(Exception):
    """The upload was already completed."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


class UploadFlow:
    def __init__(self, store: Store, signer: UrlSigner, upload_seconds: float,
                 min_part_bytes: int) -> None:
        self._store = store
        self._lock = store.lock
        self._signer = signer
        self._seconds = upload_seconds
        self._min_part_bytes = min_part_bytes
        self._uploads: dict[str, Upload] = {}

    def create(self, file_name: str, content_type: str, file_size: int, parts: int,
               owner_id: str) -> Upload:
        upload = Upload(id=new_id("upload"), file_name=file_name, content_type=content_type,
                        file_size=file_size, parts_count=parts, kind="image", owner_id=owner_id)
        for number in range(1, parts + 1):
            url, expires = self._signer.part_url(f"/_parts/{upload.id}/{number}", PART_URL_TTL)
            upload.part_urls.append({"number": number, "url": url, "expires": iso(expires)})
        with self._lock:
            self._uploads[upload.id] = upload
            return copy.copy(upload)

    def get(self, upload_id: str) -> Upload | None:
        with self._lock:
            upload = self._advanced(upload_id)
            return copy.copy(upload) if upload is not None else None

    def uploads(self) -> list[Upload]:
        with self._lock:
            for upload in self._uploads.values():
                self._advance(upload)
            return [copy.copy(upload) for upload in self._uploads.values()]

    def check_part_url(self, path: str, query: dict[str, str]) -> str:
        """``"ok"``, ``"expired"`` or ``"invalid"`` for a part PUT URL."""
        return self._signer.check_part(path, query)

    def put_part(self, upload_id: str, number: int, data: bytes) -> str:
        """``"ok"``, ``"no-such-upload"`` (unknown or no longer pending) or ``"bad-number"``."""
        with self._lock:
            upload = self._uploads.get(upload_id)
            if upload is None or upload.status != "pending":
                return "no-such-upload"
            if not 1 <= number <= upload.parts_count:
                return "bad-number"
            upload.parts[number] = data
            upload.updated_at = time.time()
            return "ok"

    def complete(self, upload_id: str) -> Upload | None:
        """Starts the verdict; None when the upload is unknown, NotPending when already done."""
        with self._lock:
            upload = self._advanced(upload_id)
            if upload is None:
                return None
            if upload.status != "pending":
                raise NotPending(upload.status)
            upload.status = "complete"
            upload.completed_at = upload.updated_at = time.time()
            parts, upload.parts = upload.parts, {}
            answer = copy.copy(upload)
        # Decoding a large image takes a while: other requests, the job ticker and shutdown
        # must not wait for it.
        error, asset = self._verdict(upload, parts)
        with self._lock:
            upload.outcome_error, upload.pending_asset = error, asset
        return answer

    def clear(self) -> None:
        with self._lock:
            self._uploads.clear()

    def _verdict(self, upload: Upload, parts: dict[int, bytes]) -> tuple[str | None, Asset | None]:
        """(error message, None) or (None, the asset to import)."""
        count = upload.parts_count
        missing = [n for n in range(1, count + 1) if n not in parts]
        if missing:
            return f"Part {missing[0]} of {count} was never uploaded", None
        for number in range(1, count):
            size = len(parts[number])
            if size < self._min_part_bytes:
                return (f"Part {number} is {size} bytes; every part but the last must be at "
                        f"least {self._min_part_bytes} bytes"), None
        data = b"".join(parts[n] for n in range(1, count + 1))
        if len(data) != upload.file_size:
            return (f"Uploaded {len(data)} bytes but fileSize announced {upload.file_size} "
                    "bytes"), None
        try:
            info = imaging.inspect(data)
        except imaging.InvalidImage as exc:
            return f"The uploaded file is not a valid image: {exc}", None
        return None, Asset(id=new_id("asset"), name=upload.file_name, mime_type=info.mime_type,
                           data=data, width=info.width, height=info.height,
                           owner_id=upload.owner_id)

    def _advanced(self, upload_id: str) -> Upload | None:
        """The upload, brought up to date (under the lock), or None when unknown."""
        upload = self._uploads.get(upload_id)
        if upload is not None:
            self._advance(upload)
        return upload

    def _advance(self, upload: Upload, now: float | None = None) -> None:
        """Brings ``upload.status`` up to date; registers the asset once imported."""
        if upload.completed_at is None or upload.status in ("imported", "failed"):
            return
        now = time.time() if now is None else now
        elapsed, seconds = now - upload.completed_at, self._seconds
        decided = upload.outcome_error is not None or upload.pending_asset is not None
        if elapsed >= VALIDATED_AT * seconds and upload.outcome_error is not None:
            upload.status, upload.error_message = "failed", upload.outcome_error
            upload.updated_at = upload.completed_at + VALIDATED_AT * seconds
        elif elapsed >= seconds and upload.pending_asset is not None:
            asset = self._store.add_asset(upload.pending_asset)
            upload.status, upload.entity_id = "imported", asset.id
            upload.updated_at = upload.completed_at + seconds
        elif elapsed >= VALIDATED_AT * seconds and decided:
            upload.status = "validated"
            upload.updated_at = upload.completed_at + VALIDATED_AT * seconds
        elif elapsed >= VALIDATING_AT * seconds:
            upload.status = "validating"
            upload.updated_at = upload.completed_at + VALIDATING_AT * seconds
