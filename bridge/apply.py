"""Main thread: turn a downloaded result into an image and switch the nodes in scope to it."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Literal

import bpy

from ..api.prices import credits_text
from ..api.wording import counted, verb
from ..core import job_text, spend_policy
from ..core.imagefile import ImageHeaderError, read_image_header
from ..core.journal import JobRecord
from ..core.states import JobState, Stage, ViewStatus
from . import lookup, rna, runtime, scope, udim_result
from .undo_step import UndoStep

PROVENANCE_SOURCE = "scenario_source_image"
PROVENANCE_JOB = "scenario_job_id"
PROVENANCE_ASSET = "scenario_asset_id"
PROVENANCE_PARAMS = "scenario_params"
PROVENANCE_DIFFERENCE = "scenario_difference_of"  # on a difference view: its result


@dataclass(frozen=True)
class Applied:
    image_name: str
    nodes_switched: int
    path: str
    width: int
    height: int


def apply_result(record: JobRecord, scope_name: str, materials: list[str]) -> Applied:
    """Loads ``record.result_path`` as an image carrying the source's colour settings and
    provenance (or takes the one already loaded from it), and switches the Image Texture nodes
    of ``scope_name`` to it."""
    path = record.result_path
    image = _loaded_result(record)
    if image is None:
        image = bpy.data.images.load(_blend_relative(path), check_existing=False)
        image.name = os.path.splitext(os.path.basename(path))[0]
        if record.is_set:
            udim_result.make_tiled(image, record)
        else:
            image[PROVENANCE_JOB] = record.job_id
            image[PROVENANCE_ASSET] = (record.result_asset_ids[0] if record.result_asset_ids
                                       else "")
        if record.source_colorspace:
            rna.set_colorspace(image, record.source_colorspace)
        if record.source_alpha_mode:
            image.alpha_mode = record.source_alpha_mode  # type: ignore[assignment]
        image[PROVENANCE_SOURCE] = record.source_image
        image[PROVENANCE_PARAMS] = json.dumps(record.params, sort_keys=True)
    source = find_source(record)
    nodes = scope.nodes_using(source.name, scope_name, materials) if source else []
    switched = scope.swap_image(nodes, image)
    width, height = _size_on_disk(record)
    return Applied(image.name, switched, path, width, height)


def _size_on_disk(record: JobRecord) -> tuple[int, int]:
    """The result's size as its file says (a set's: its largest tile), never worked out from
    what was asked: the report tells what Blender now shows."""
    sizes = []
    for path in record.result_files:
        try:
            info = read_image_header(path)
        except (ImageHeaderError, OSError):
            continue
        sizes.append((info.width, info.height))
    return max(sizes, key=lambda size: size[0] * size[1], default=(0, 0))


def _loaded_result(record: JobRecord) -> bpy.types.Image | None:
    """The image already made from this job's result file, so applying twice makes one image."""
    wanted = os.path.normcase(os.path.abspath(record.result_path))
    for image in bpy.data.images:
        if (image.get(PROVENANCE_JOB, "") == record.job_id and image.filepath
                and os.path.normcase(bpy.path.abspath(image.filepath)) == wanted):
            return image
    return None


def find_source(record: JobRecord) -> bpy.types.Image | None:
    """The source image, even if renamed since the job started (same Blender session)."""
    if record.session == runtime.SESSION and record.source_session_uid:
        return lookup.find_image(record.source_image, record.source_session_uid)
    return bpy.data.images.get(record.source_image)


def pair(image: bpy.types.Image) -> tuple[bpy.types.Image, bpy.types.Image] | None:
    """(original, result) for a result, an original that has one (the newest), or their
    difference view."""
    if lookup.has_property(image, PROVENANCE_DIFFERENCE):
        result = bpy.data.images.get(str(image[PROVENANCE_DIFFERENCE]))
        return pair(result) if result is not None and PROVENANCE_SOURCE in result else None
    if lookup.has_property(image, PROVENANCE_SOURCE):
        original = _original_of(image)
        return (original, image) if original else None
    results = _results_of(image)
    return (image, results[-1]) if results else None


def _original_of(result: bpy.types.Image) -> bpy.types.Image | None:
    return bpy.data.images.get(str(result[PROVENANCE_SOURCE]))


def _results_of(original: bpy.types.Image) -> list[bpy.types.Image]:
    """Its upscaled results in the file, oldest first."""
    return [i for i in bpy.data.images if i.get(PROVENANCE_SOURCE) == original.name]


def revert(image_name: str, scope_name: str, materials: list[str]) -> tuple[str, int]:
    """Puts the original back wherever a result of it (or this result) is used.
    Returns the original's name and how many nodes were switched back."""
    image = bpy.data.images.get(image_name)
    if image is None:
        raise LookupError(f"There is no image named '{image_name}'.")
    if lookup.has_property(image, PROVENANCE_SOURCE):
        original, results = _original_of(image), [image]
    else:
        original, results = image, _results_of(image)
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


# The report types an outcome is told with (Operator.report).
ReportLevel = Literal["INFO", "WARNING", "ERROR"]


@dataclass(frozen=True)
class Outcome:
    level: ReportLevel
    message: str
    applied: Applied | None = None


# What scenario.apply_result found, for the operator that ran the job to report.
APPLIED: UndoStep[Outcome] = UndoStep()


def is_waiting(rt: runtime.Runtime, local_id: str) -> bool:
    """True while a downloaded result waits for its first application."""
    view = rt.view(local_id)
    return view is not None and view.status == ViewStatus.READY


def apply_job(rt: runtime.Runtime, context: bpy.types.Context, local_id: str,
              scope_name: str, waiting: bool) -> Outcome:
    """scenario.apply_result's work: the first application of a downloaded result
    (``waiting``, see is_waiting), or a redo or repeat of it, which loads the same file again
    and never asks Scenario for anything."""
    view = rt.view(local_id)
    record = view.record if view is not None else None
    record = record or next((r for r in rt.recent if r.local_id == local_id), None)
    if record is None or not record.result_path:
        return Outcome("ERROR", "That upscale's result is no longer known; use Recent Jobs.")
    materials = (record.target_materials if scope_name == record.scope
                 else scope.scope_materials(context, scope_name))
    try:
        done = apply_result(record, scope_name, materials)
    except (OSError, RuntimeError) as exc:
        message = (f"The result was saved to {record.result_path} but could not be loaded "
                   f"into Blender: {exc}")
        outcome = _failed(view, message) if waiting else Outcome("ERROR", message)
    else:
        if view is not None:
            view.result = done
        if waiting:
            assert view is not None
            # Main thread: no fsync. Losing this write only shows the job as downloaded, and
            # re-applying it is free; every state that guards money stays durable.
            rt.journal.transition(record, JobState.APPLIED, durable=False)
            view.status = ViewStatus.DONE
            outcome = _first_outcome(record, view, done, scope_name)
        else:
            outcome = Outcome("INFO", f"{_where(record, done, scope_name)}.", done)
    if waiting:
        APPLIED.hand_back(local_id, outcome)
    return outcome


def _failed(view: runtime.JobView | None, message: str) -> Outcome:
    if view is not None:
        view.status, view.message = ViewStatus.FAILED, message
    return Outcome("ERROR", message)


def _where(record: JobRecord, done: Applied, scope_name: str) -> str:
    if scope_name == "NONE":
        return f"created '{done.image_name}'"
    if done.nodes_switched == 0:
        gone = "was removed" if find_source(record) is None else "is used by no node in scope"
        return (f"created '{done.image_name}'; the source '{record.source_image}' {gone}, "
                "so no node was switched")
    nodes = done.nodes_switched
    return f"{counted(nodes, 'node')} now {verb(nodes, 'uses', 'use')} '{done.image_name}'"


def _first_outcome(record: JobRecord, view: runtime.JobView, done: Applied,
                   scope_name: str) -> Outcome:
    if record.is_set:
        factor = record.factor
        what = f"the {len(record.tiles)} UDIM tiles of '{record.source_image}' ×{factor}"
    else:
        what = f"'{record.source_image}' to {done.width}×{done.height} px"
    paid = (f"for {credits_text(record.cost)}" if record.cost is not None
            else "(its cost is unknown)")
    message = (f"Upscaled {what} in {view.elapsed:.0f} s {paid}: "
               f"{_where(record, done, scope_name)}; saved to {done.path}.")
    if record.is_set:
        extra, warns = udim_result.fidelity_text(record)
        return Outcome("WARNING" if warns else "INFO", f"{message} {extra}".strip(), done)
    fidelity = record.fidelity
    if fidelity.get("result_seam") is not None:
        before = fidelity.get("source_seam")
        message += (f" Seam ratio {before:.2f} → {fidelity['result_seam']:.2f}."
                    if before is not None else f" Seam ratio {fidelity['result_seam']:.2f}.")
    extra = " ".join(fidelity.get("notes", []) + fidelity.get("warnings", []))
    level: ReportLevel = "WARNING" if fidelity.get("warnings") else "INFO"
    return Outcome(level, f"{message} {extra}".strip(), done)


def conclude(rt: runtime.Runtime, view: runtime.JobView) -> Outcome:
    """Applies a downloaded job (main thread) or explains why there is nothing to apply."""
    record = view.record
    assert record is not None
    if view.status == ViewStatus.READY:
        view.stage = Stage.APPLYING
        # Through the operator, so the swap is an undo step of its own (see apply_result.py):
        # called from Python an operator pushes one only when asked to (the True).
        # bpy.ops.scenario exists once the add-on registered its operators.
        return APPLIED.run(
            view.local_id,
            lambda: bpy.ops.scenario.apply_result(  # type: ignore[attr-defined]
                "EXEC_DEFAULT", True, local_id=view.local_id, scope=record.scope),
            lambda reason: _failed(view, reason), missing="the operator did not run")
    if view.status == ViewStatus.CANCELLED:
        level: ReportLevel = "INFO" if record.state == JobState.CANCELLED else "WARNING"
        return Outcome(level, job_text.cancel_report(record))
    if isinstance(view.error, spend_policy.NotSpentError) and view.error.by_choice:
        return Outcome("INFO", view.message)  # Don't Pay, or a rehearsal: the artist's choice
    return Outcome("ERROR", view.failure_report)
