"""Multipart upload lifecycle: assemble parts on "complete", then reveal the verdict over time.

Statuses after "complete": ``complete`` -> ``validating`` (25 % of upload_seconds) ->
``validated`` (60 %) -> ``imported`` (100 %), or ``failed`` with ``errorMessage`` where
``validated`` would have come.
"""

from __future__ import annotations

import time

from . import imaging
from .ids import new_id
from .store import Asset, Store, Upload

VALIDATING_AT = 0.25
VALIDATED_AT = 0.60


def assemble(upload: Upload, min_part_bytes: int) -> None:
    """Decide the upload's outcome from its parts (sets outcome_error or pending_asset)."""
    missing = [n for n in range(1, upload.parts_count + 1) if n not in upload.parts]
    if missing:
        upload.outcome_error = f"Part {missing[0]} of {upload.parts_count} was never uploaded"
        return
    for number in range(1, upload.parts_count):
        size = len(upload.parts[number])
        if size < min_part_bytes:
            upload.outcome_error = (
                f"Part {number} is {size} bytes; every part but the last must be at least "
                f"{min_part_bytes} bytes"
            )
            return
    data = b"".join(upload.parts[n] for n in range(1, upload.parts_count + 1))
    if len(data) != upload.file_size:
        upload.outcome_error = (
            f"Uploaded {len(data)} bytes but fileSize announced {upload.file_size} bytes"
        )
        return
    try:
        info = imaging.inspect(data)
    except imaging.InvalidImage as exc:
        upload.outcome_error = f"The uploaded file is not a valid image: {exc}"
        return
    upload.pending_asset = Asset(
        id=new_id("asset"),
        name=upload.file_name,
        mime_type=info.mime_type,
        data=data,
        width=info.width,
        height=info.height,
        owner_id=upload.owner_id,
    )
    upload.parts.clear()


def advance(upload: Upload, store: Store, upload_seconds: float, now: float | None = None) -> None:
    """Bring ``upload.status`` up to date; registers the asset once imported."""
    if upload.completed_at is None or upload.status in ("imported", "failed"):
        return
    now = time.time() if now is None else now
    elapsed = now - upload.completed_at
    if elapsed >= VALIDATED_AT * upload_seconds and upload.outcome_error is not None:
        upload.status, upload.error_message = "failed", upload.outcome_error
        upload.updated_at = upload.completed_at + VALIDATED_AT * upload_seconds
    elif elapsed >= upload_seconds and upload.pending_asset is not None:
        asset = store.add_asset(upload.pending_asset)
        upload.status, upload.entity_id = "imported", asset.id
        upload.updated_at = upload.completed_at + upload_seconds
    elif elapsed >= VALIDATED_AT * upload_seconds:
        upload.status = "validated"
        upload.updated_at = upload.completed_at + VALIDATED_AT * upload_seconds
    elif elapsed >= VALIDATING_AT * upload_seconds:
        upload.status = "validating"
        upload.updated_at = upload.completed_at + VALIDATING_AT * upload_seconds
