"""Main thread: turn a downloaded result into an image and switch the nodes in scope to it."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import bpy

from ..core import journal as J
from ..core.journal import JobRecord
from . import lookup, runtime, scope

PROVENANCE_SOURCE = "scenario_source_image"
PROVENANCE_JOB = "scenario_job_id"
PROVENANCE_ASSET = "scenario_asset_id"
PROVENANCE_PARAMS = "scenario_params"


@dataclass(frozen=True)
class Applied:
    image_name: str
    nodes_switched: int
    path: str
    width: int
    height: int


def apply_result(record: JobRecord) -> Applied:
    """Loads ``record.result_path`` as a new image carrying the source's colour settings and
    provenance, and switches the Image Texture nodes in the record's scope to it."""
    path = record.result_path
    image = bpy.data.images.load(_blend_relative(path), check_existing=False)
    image.name = os.path.splitext(os.path.basename(path))[0]
    if record.source_colorspace:
        image.colorspace_settings.name = record.source_colorspace
    if record.source_alpha_mode:
        image.alpha_mode = record.source_alpha_mode  # type: ignore[assignment]
    image[PROVENANCE_SOURCE] = record.source_image
    image[PROVENANCE_JOB] = record.job_id
    image[PROVENANCE_ASSET] = record.result_asset_ids[0] if record.result_asset_ids else ""
    image[PROVENANCE_PARAMS] = json.dumps(record.params, sort_keys=True)
    source = find_source(record)
    nodes = scope.nodes_using(source.name, record.scope, record.target_materials) if source else []
    switched = scope.swap_image(nodes, image)
    factor = int(record.params.get("upscaleFactor", 2))
    width, height = (record.source_size + [0, 0])[:2]
    return Applied(image.name, switched, path, width * factor, height * factor)


def find_source(record: JobRecord) -> bpy.types.Image | None:
    """The source image, even if renamed since the job started (same Blender session)."""
    if record.session == runtime.SESSION and record.source_session_uid:
        return lookup.find_image(record.source_image, record.source_session_uid)
    return bpy.data.images.get(record.source_image)


def revert(image_name: str, scope_name: str, materials: list[str]) -> tuple[str, int]:
    """Puts the original back wherever a result of it (or this result) is used.
    Returns the original's name and how many nodes were switched back."""
    image = bpy.data.images.get(image_name)
    if image is None:
        raise LookupError(f"There is no image named '{image_name}'.")
    if PROVENANCE_SOURCE in image:
        original = bpy.data.images.get(str(image[PROVENANCE_SOURCE]))
        results = [image]
    else:
        original = image
        results = [i for i in bpy.data.images if i.get(PROVENANCE_SOURCE) == image.name]
    if original is None:
        raise LookupError(
            f"The original of '{image_name}' ({image[PROVENANCE_SOURCE]}) is no longer in this file."
        )
    if not results:
        raise LookupError(f"'{image_name}' has no upscaled result to revert.")
    switched = 0
    for result in results:
        switched += scope.swap_image(scope.nodes_using(result.name, scope_name, materials), original)
    return original.name, switched


def _blend_relative(path: str) -> str:
    if not bpy.data.filepath:
        return path
    try:
        return bpy.path.relpath(path)
    except ValueError:  # another drive on Windows
        return path


@dataclass(frozen=True)
class Outcome:
    level: str  # a report type: INFO, WARNING or ERROR
    message: str
    applied: Applied | None = None


def conclude(rt: runtime.Runtime, view: runtime.JobView) -> Outcome:
    """Applies a downloaded job (main thread) or explains why there is nothing to apply."""
    record = view.record
    assert record is not None
    if view.status == runtime.READY:
        view.stage = "applying"
        try:
            done = apply_result(record)
        except (OSError, RuntimeError) as exc:
            view.status, view.message = runtime.FAILED, str(exc)
            return Outcome("ERROR", f"The result was saved to {record.result_path} but could not "
                                    f"be loaded into Blender: {exc}")
        # Main thread: no fsync. Losing this write only shows the job as downloaded, and
        # re-applying it is free; every state that guards money stays durable.
        rt.journal.transition(record, J.APPLIED, durable=False)
        view.status, view.result = runtime.DONE, done
        where = (f"{done.nodes_switched} node(s) now use '{done.image_name}'"
                 if record.scope != "NONE" else f"created '{done.image_name}'")
        if record.scope != "NONE" and done.nodes_switched == 0:
            gone = "was removed" if find_source(record) is None else "is used by no node in scope"
            where = (f"created '{done.image_name}'; the source '{record.source_image}' {gone}, "
                     "so no node was switched")
        message = (f"Upscaled '{record.source_image}' to {done.width}×{done.height} px in "
                   f"{view.elapsed:.0f} s: {where}; saved to {done.path}.")
        fidelity = record.fidelity
        if fidelity.get("result_seam") is not None:
            before = fidelity.get("source_seam")
            message += (f" Seam ratio {before:.2f} → {fidelity['result_seam']:.2f}."
                        if before is not None else f" Seam ratio {fidelity['result_seam']:.2f}.")
        extra = " ".join(fidelity.get("notes", []) + fidelity.get("warnings", []))
        level = "WARNING" if fidelity.get("warnings") else "INFO"
        return Outcome(level, f"{message} {extra}".strip(), done)
    if view.status == runtime.CANCELLED:
        if record.state == J.ABANDONED:
            return Outcome("WARNING", (
                f"Stopped waiting for Scenario job {record.job_id}. Scenario cannot cancel it, so "
                "it may still finish and be charged: collect the result later with Recover in "
                "Recent Jobs."
            ))
        return Outcome("WARNING", record.error or "Cancelled; nothing was charged.")
    return Outcome("ERROR", view.message or "The upscale failed.")
