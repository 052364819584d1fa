"""Main thread: a result file made into an image that keeps its source's colour settings and
provenance, swapped into the nodes in scope; and, from that provenance, a result's original (to
compare, or to put back)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import bpy

from ..core.imagefile import ImageHeaderError, read_image_header
from ..core.journal import JobRecord
from . import lookup, rna, runtime, scope, udim_result

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
