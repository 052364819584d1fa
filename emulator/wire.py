"""JSON shapes of resources as the real API (and the official SDK's models) expect them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .ids import iso
from .store import AUTHOR, Asset, Upload

if TYPE_CHECKING:
    from .scheduler import Job

_IMAGE_EDIT_CAPABILITIES = [
    "DETECTION", "GENERATIVE_FILL", "PIXELATE", "PROMPT_EDITING", "REFINE", "REFRAME",
    "REMOVE_BACKGROUND", "SEGMENTATION", "UPSCALE", "VECTORIZATION",
]


def asset_json(asset: Asset, url: str) -> dict[str, Any]:
    stamp = iso(asset.created_at)
    metadata: dict[str, Any] = {
        "kind": "image",
        "type": asset.source,
        "name": asset.name,
        "width": asset.width,
        "height": asset.height,
    }
    if asset.parent_id:
        metadata["parentId"] = asset.parent_id
    if asset.job_id:
        metadata["jobId"] = asset.job_id
        metadata["modelId"] = "model_sc-upscale-flux-texture"
    return {
        "id": asset.id,
        "url": url,
        "mimeType": asset.mime_type,
        "kind": "image",
        "status": "success",
        "source": asset.source,
        "privacy": "private",
        "authorId": AUTHOR,
        "ownerId": asset.owner_id,
        "collectionIds": [],
        "tags": [],
        "editCapabilities": list(_IMAGE_EDIT_CAPABILITIES),
        "properties": {
            "size": len(asset.data),
            "width": asset.width,
            "height": asset.height,
            "format": asset.mime_type.rpartition("/")[2],
        },
        "metadata": metadata,
        "createdAt": stamp,
        "updatedAt": stamp,
    }


def upload_json(upload: Upload) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": upload.id,
        "status": upload.status,
        "kind": upload.kind,
        "source": "multipart",
        "fileName": upload.file_name,
        "originalFileName": upload.file_name,
        "contentType": upload.content_type,
        "fileSize": upload.file_size,
        "partsCount": upload.parts_count,
        "authorId": AUTHOR,
        "ownerId": upload.owner_id,
        "createdAt": iso(upload.created_at),
        "updatedAt": iso(upload.updated_at),
    }
    if upload.status == "pending":
        body["parts"] = [dict(part) for part in upload.part_urls]
    if upload.entity_id:
        body["entityId"] = upload.entity_id
    if upload.error_message:
        body["errorMessage"] = upload.error_message
    return body


def job_json(job: Job) -> dict[str, Any]:
    metadata: dict[str, Any] = {"input": dict(job.input)}
    if job.status == "success":
        metadata["assetIds"] = [job.result_asset_id]
    if job.status == "failure":
        metadata["error"] = job.error
        if job.hint:
            metadata["hint"] = job.hint
    return {
        "jobId": job.id,
        "jobType": "custom",
        "status": job.status,
        "progress": job.progress,
        "metadata": metadata,
        "statusHistory": [{"status": s, "date": iso(t)} for s, t in job.history],
        "authorId": AUTHOR,
        "ownerId": job.owner_id,
        "createdAt": iso(job.created_at),
        "updatedAt": iso(job.updated_at),
        "billing": {"cuCost": job.cost, "cuDiscount": 0},
    }
