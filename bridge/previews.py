"""Main thread: a finished preview set made into images, and what the panel does with them:
list them, show one (or the crop of the original, for A/B) in place of the crop, copy its
settings into the panel, and clear them. Previews are never put into a material.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import bpy

from ..api.params import UpscaleParams
from ..api.prices import credits_text
from ..api.wording import counted
from ..core import job_view
from ..core.journal import JobRecord
from ..core.preview import Preview, PreviewResult
from ..core.states import JobState, Stage, ViewStatus
from . import apply, lookup, rna, runtime
from .preview_request import PREVIEW_OF
from .undo_step import UndoStep

if TYPE_CHECKING:
    from .settings import ScenarioUpscaleSettings

PREVIEW_SET = "scenario_preview_set"  # the set's local id
PREVIEW_ROLE = "scenario_preview_role"  # "preview", or "original" (the crop, for A/B)
PREVIEW_LABEL = "scenario_preview_label"  # what differs
PREVIEW_PARAMS = "scenario_preview_params"  # the exact inputs sent, seed included (JSON)
PREVIEW_REGION = "scenario_preview_region"  # [x, y, width, height] in the texture
PREVIEW_TILE = "scenario_preview_tile"  # the UDIM tile, 0 for an ordinary image
PREVIEW_ORDER = "scenario_preview_order"  # the set's time and the variant's index
PREVIEW_SCALE = "scenario_preview_scale"  # its pixels per texture pixel (the factor)
PREVIEW_ORIGINAL = "scenario_preview_original"  # a preview's A/B reference file


@dataclass(frozen=True)
class Outcome:
    level: apply.ReportLevel
    message: str
    added: list[str]


# What scenario.add_previews added, for the operator that ran the set to report.
ADDED: UndoStep[Outcome] = UndoStep()


# --- a finished set ------------------------------------------------------------------------------
def conclude(rt: runtime.Runtime, view: job_view.JobView) -> apply.Outcome:
    """Makes the previews of a downloaded set into images (one undo step, scenario.add_previews)
    or explains why there are none."""
    record = view.record
    assert record is not None
    if view.status == ViewStatus.READY:
        view.stage = Stage.APPLYING
        # bpy.ops.scenario exists once the add-on registered its operators.
        found = ADDED.run(
            view.local_id,
            lambda: bpy.ops.scenario.add_previews(  # type: ignore[attr-defined]
                "EXEC_DEFAULT", True, local_id=view.local_id),
            lambda reason: Outcome("ERROR", reason, []), missing="No preview was added.")
        if not found.added:
            view.status, view.message = ViewStatus.FAILED, found.message
        return apply.Outcome(found.level, found.message, None)
    if view.status == ViewStatus.CANCELLED:
        if record.state == JobState.ABANDONED:
            return apply.Outcome("WARNING", (
                f"Stopped waiting for the previews of '{record.source_image}'. Scenario did not "
                "cancel the paid ones, so they may still finish and be charged: collect them "
                "later with Recover in Recent Jobs."))
        return apply.Outcome("INFO" if record.state == JobState.CANCELLED else "WARNING",
                             record.error or "Cancelled; nothing was charged.")
    return apply.Outcome("ERROR", view.failure_report)


def add(rt: runtime.Runtime, local_id: str) -> Outcome:
    """scenario.add_previews' work: the set's result files as images (or the ones already
    loaded from them), marked as previews of their texture. The A/B reference is loaded only
    when A/B asks for it."""
    view = rt.view(local_id)
    record = view.record if view is not None else None
    record = record or next((r for r in rt.recent if r.local_id == local_id), None)
    if record is None:
        return Outcome("ERROR", "Those previews are no longer known; see Recent Jobs.", [])
    result = view.result if view is not None else None
    made = (result.previews if isinstance(result, PreviewResult)  # no disk read: this session
            else [Preview(v.local_id, str(v.preview.get("label", "")), v.result_path, v.cost,
                          v.job_id, v.params) for v in _variant_records(rt, record)])
    added, paid = [], []
    original = str(record.preview.get("original", ""))
    for index, preview in enumerate(made):
        if not preview.path or not os.path.isfile(preview.path):
            continue
        image = _image_for(preview.path, record)
        image[PREVIEW_ROLE] = "preview"
        image[PREVIEW_LABEL] = preview.label
        image[PREVIEW_PARAMS] = json.dumps(preview.params, sort_keys=True)
        image[PREVIEW_ORDER] = [int(record.created_at), index]
        image[PREVIEW_ORIGINAL] = original
        added.append(image.name)
        paid.append(preview.cost or 0.0)
    if not added:
        return Outcome("ERROR", f"The previews of '{record.source_image}' are no longer on "
                                f"disk ({record.output_dir}).", [])
    if view is not None and view.status == ViewStatus.READY:
        rt.journal.transition(record, JobState.APPLIED, durable=False)
        view.status = ViewStatus.DONE
    return Outcome(*_report(record, view, sum(paid), added))


def _report(record: JobRecord, view: job_view.JobView | None, paid: float, added: list[str]
            ) -> tuple[apply.ReportLevel, str, list[str]]:
    region = record.preview.get("region", [0, 0, 0, 0])
    factor = record.factor
    took = f" in {view.elapsed:.0f} s" if view is not None else ""
    message = (f"{counted(len(added), 'preview')} of '{record.source_image}' ({region[2]}×"
               f"{region[3]} at {region[0]}, {region[1]} → {region[2] * factor}×"
               f"{region[3] * factor}){took}: {credits_text(paid)}")
    whole = record.preview.get("whole_cost") or []
    if whole:
        low, high = min(whole), max(whole)
        message += (f"; the whole texture: {credits_text(low)}" if low == high
                    else f"; the whole texture: {low:g}–{high:g} credits")
    message += ". Click a thumbnail in the Preview panel to see one."
    result = view.result if view is not None else None
    failed = result.failed if isinstance(result, PreviewResult) else []
    if failed:
        return "WARNING", f"{message} Not made: {'; '.join(failed)}.", added
    return "INFO", message, added


def _variant_records(rt: runtime.Runtime, record: JobRecord) -> list[JobRecord]:
    found = []
    for entry in record.preview.get("variants", []):
        variant = rt.journal.load(str(entry["local_id"]))
        if variant is not None:
            found.append(variant)
    return found


def _image_for(path: str, record: JobRecord) -> bpy.types.Image:
    wanted = os.path.normcase(os.path.abspath(path))
    for image in bpy.data.images:
        if (lookup.has_property(image, PREVIEW_OF) and image.filepath
                and os.path.normcase(bpy.path.abspath(image.filepath)) == wanted):
            return image
    image = bpy.data.images.load(path, check_existing=False)
    image.name = Path(path).stem
    if record.source_colorspace:
        rna.set_colorspace(image, record.source_colorspace)
    if record.source_alpha_mode:
        image.alpha_mode = record.source_alpha_mode  # type: ignore[assignment]
    image[PREVIEW_OF] = record.source_image
    image[PREVIEW_SET] = record.local_id
    image[PREVIEW_REGION] = list(record.preview.get("region", []))
    image[PREVIEW_TILE] = int(record.preview.get("tile", 0))
    image[PREVIEW_SCALE] = record.factor
    return image


# --- what the panel shows ------------------------------------------------------------------
def texture_of(image: bpy.types.Image) -> bpy.types.Image | None:
    """The texture an image previews, or the image itself when it is not a preview."""
    if lookup.has_property(image, PREVIEW_OF):
        return bpy.data.images.get(str(image[PREVIEW_OF]))
    return image


def of_texture(name: str, role: str = "preview") -> list[bpy.types.Image]:
    """The previews (or A/B references) of the texture ``name``, oldest set first."""
    found = [i for i in bpy.data.images
             if i.get(PREVIEW_OF) == name and i.get(PREVIEW_ROLE) == role]
    return sorted(found, key=lambda i: tuple(i.get(PREVIEW_ORDER) or [0, 0]))


def reference_of(image: bpy.types.Image) -> bpy.types.Image | None:
    """The crop of the original, at a preview's size, for A/B: loaded the first time it is
    asked for."""
    set_id = image.get(PREVIEW_SET)
    found = next((i for i in bpy.data.images if i.get(PREVIEW_SET) == set_id
                  and i.get(PREVIEW_ROLE) == "original"), None)
    path = str(image.get(PREVIEW_ORIGINAL, ""))
    if found is not None or not path or not os.path.isfile(path):
        return found
    reference = bpy.data.images.load(path, check_existing=False)
    reference.name = Path(path).stem
    for key in (PREVIEW_OF, PREVIEW_SET, PREVIEW_REGION, PREVIEW_TILE, PREVIEW_SCALE):
        reference[key] = image[key]
    rna.set_colorspace(reference, rna.colorspace(image).name)
    reference.alpha_mode = image.alpha_mode
    reference[PREVIEW_ROLE] = "original"
    reference[PREVIEW_LABEL] = "Original"
    reference[PREVIEW_ORDER] = [int(list(image.get(PREVIEW_ORDER) or [0])[0]), -1]
    return reference


def params_of(image: bpy.types.Image) -> dict[str, Any]:
    return dict(json.loads(str(image.get(PREVIEW_PARAMS, "{}"))))


# --- showing one where the crop was ---------------------------------------------------------
@dataclass
class _Place:
    texture: str
    zoom: float  # the texture's zoom when the crop was shown
    center: tuple[float, float]  # the view's centre in the texture's pixels


_places: dict[int, _Place] = {}  # by area pointer: the view to return to


def forget_places() -> None:
    """A new file has new editors."""
    _places.clear()


def show(context: bpy.types.Context, area: bpy.types.Area, image: bpy.types.Image) -> None:
    """Shows a preview (or its A/B reference) in the Image Editor ``area`` where its crop lies:
    the crop's pixels are replaced in place, at the same place on screen and the same size."""
    space = rna.image_space(area)
    region = next(r for r in area.regions if r.type == "WINDOW")
    shown = space.image
    texture = texture_of(image)
    if shown is not None and not lookup.has_property(shown, PREVIEW_OF) and shown == texture:
        # From the texture: remember its view, to go back to it.
        _places[area.as_pointer()] = _Place(texture.name, rna.pair(space.zoom)[0],
                                            _view_center(region, shown))
    place = _places.get(area.as_pointer())
    if texture is None or place is None or place.texture != texture.name:
        space.image = image
        return
    x, y, width, height = (list(image.get(PREVIEW_REGION) or []) + [0, 0, 1, 1])[:4]
    scale = float(image.get(PREVIEW_SCALE) or 1)  # preview pixels per texture pixel
    tile_x, tile_y = _tile_offset(texture, int(image.get(PREVIEW_TILE) or 0))
    center = ((place.center[0] - tile_x - x) * scale, (place.center[1] - tile_y - y) * scale)
    _set_view(context, area, region, image, (width * scale, height * scale),
              place.zoom / scale, center)


def back_to_texture(context: bpy.types.Context, area: bpy.types.Area) -> bool:
    """Shows the texture again with the view it had; False when there is nothing to go back
    to."""
    space = rna.image_space(area)
    shown = space.image
    texture = texture_of(shown) if shown is not None else None
    if shown is None or texture is None or texture == shown:
        return False
    place = _places.get(area.as_pointer())
    if place is None or place.texture != texture.name:
        space.image = texture
        return True
    region = next(r for r in area.regions if r.type == "WINDOW")
    _set_view(context, area, region, texture, _unit(texture), place.zoom, place.center)
    return True


def _view_center(region: bpy.types.Region, image: bpy.types.Image) -> tuple[float, float]:
    """The view's centre in the image's pixels (a UDIM set: in its first tile's pixels, counting
    whole tiles)."""
    u, v = rna.pair(region.view2d.region_to_view(region.width / 2, region.height / 2))
    width, height = _unit(image)
    return u * width, v * height


def _unit(image: bpy.types.Image) -> tuple[int, int]:
    """The pixels one unit of the editor's view spans: the image's (its first tile's). Only for
    an image on screen already (asking a file's size loads it)."""
    if image.source == "TILED" and len(image.tiles):
        width, height = rna.size(image.tiles[0])
    else:
        width, height = rna.size(image)
    return width or 1, height or 1


def _tile_offset(image: bpy.types.Image, tile: int) -> tuple[float, float]:
    if not tile:
        return 0.0, 0.0
    width, height = _unit(image)
    return ((tile - 1001) % 10) * width, ((tile - 1001) // 10) * height


def _set_view(context: bpy.types.Context, area: bpy.types.Area, region: bpy.types.Region,
              image: bpy.types.Image, size: tuple[float, float], zoom: float,
              center: tuple[float, float]) -> None:
    """Shows ``image`` (``size`` pixels) at ``zoom`` with ``center`` (its pixels) in the middle
    of the view."""
    space = rna.image_space(area)
    space.image = image
    # The 5.2 stubs leave out that the override is a context manager.
    with context.temp_override(  # type: ignore[attr-defined]
            area=area, region=region, space_data=space):
        # The view's centre is the image's centre plus an offset in its pixels: View All puts
        # the offset back to 0, then the pan sets it.
        bpy.ops.image.view_all(fit_view=False)
        bpy.ops.image.view_zoom_ratio(ratio=zoom)
        bpy.ops.image.view_pan(offset=(center[0] - size[0] / 2, center[1] - size[1] / 2))


# --- the panel's other actions -----------------------------------------------------------------
SETTINGS_FROM_PARAMS = {
    "upscaleFactor": "upscale_factor", "preset": "preset", "baseModel": "base_model",
    "strength": "strength", "controlnetConditioningScale": "controlnet_conditioning_scale",
    "numInferenceSteps": "num_inference_steps", "detailsEnable": "details_enable",
    "imagePromptStrength": "image_prompt_strength",
}


def use_settings(settings: ScenarioUpscaleSettings, image: bpy.types.Image) -> list[str]:
    """Copies the preview's inputs into the panel, its seed included; returns what changed."""
    params = UpscaleParams.from_body(params_of(image))
    body = params.to_body()
    changed = []
    for api_name, attribute in SETTINGS_FROM_PARAMS.items():
        if api_name in body and getattr(settings, attribute) != body[api_name]:
            setattr(settings, attribute, body[api_name])
            changed.append(attribute)
    prompt = body.get("prompt") or ""
    if settings.prompt != prompt:
        settings.prompt = prompt
        changed.append("prompt")
    if "seed" in body:
        if settings.random_seed or settings.seed != body["seed"]:
            changed.append("seed")
        settings.random_seed = False
        settings.seed = int(body["seed"])
    return changed


def clear(texture_name: str) -> tuple[int, int]:
    """Removes the previews of ``texture_name`` (and their A/B references): their images, their
    files and their work files. Returns (images, files) removed."""
    rt = runtime.peek()
    images = [i for i in bpy.data.images if i.get(PREVIEW_OF) == texture_name]
    paths = {bpy.path.abspath(i.filepath) for i in images if i.filepath}
    paths |= {str(i.get(PREVIEW_ORIGINAL, "")) for i in images}
    sets = {str(i.get(PREVIEW_SET, "")) for i in images} - {""}
    if rt is not None:
        for record in rt.recent:
            if record.local_id in sets or (record.is_preview_set
                                           and record.source_image == texture_name):
                sets.add(record.local_id)
                paths.add(str(record.preview.get("original", "")))
                for variant in _variant_records(rt, record):
                    paths.add(variant.result_path)
    for image in images:
        bpy.data.images.remove(image)
    removed = 0
    for path in sorted(p for p in paths if p):
        try:
            os.remove(path)
            removed += 1
        except FileNotFoundError:
            pass
    if rt is not None:
        for set_id in sets:
            shutil.rmtree(rt.work_dir / set_id, ignore_errors=True)
            found = next((r for r in rt.recent if r.local_id == set_id), None)
            for entry in found.preview.get("variants", []) if found else []:
                shutil.rmtree(rt.work_dir / str(entry["local_id"]), ignore_errors=True)
    for folder in {os.path.dirname(p) for p in paths if p}:
        try:
            os.rmdir(folder)  # the previews folder, once empty
        except OSError:
            pass
    return len(images), removed
