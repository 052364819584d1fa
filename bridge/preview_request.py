"""Main thread: gather everything a preview set needs into plain data for the worker.

The same refusals as an upscale (online access, keys, settings, style images, output folder),
checked before anything is sent. The image is never read here: the crop is cut in the worker
from the file, the packed bytes or (for generated and painted images) Blender's pixels.
"""

from __future__ import annotations

import os
import random
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import bpy

from ..api.errors import InvalidRequestError
from ..api.params import UpscaleParams
from ..core import crop, job_view, preview
from ..core.fidelity import FidelityPlan, seam_pad_for
from ..core.journal import JobRecord, new_job_id
from ..core.naming import sanitize_stem, tile_set_stem
from ..core.refusal import Refusal
from ..core.source import BytesSource, FileSource, Source
from ..core.upscale_job import UpscaleJob
from . import addon_data, connection, lookup, packed_bytes, request, runtime, snapshot, udim_tiles
from .settings import VARIANT_ATTRIBUTES

if TYPE_CHECKING:
    from .settings import ScenarioUpscaleSettings

PREVIEW_OF = snapshot.PREVIEW_OF  # on a preview's images: the texture it previews
HELPER_SCRIPT = str(Path(__file__).with_name("crop_helper.py"))


@dataclass
class PreparedPreview:
    job: preview.PreviewJob
    connection: connection.Connection
    facts: snapshot.ImageFacts
    tile: int  # the UDIM tile previewed, 0 for an ordinary image


def is_preview(image: bpy.types.Image) -> bool:
    return lookup.has_property(image, PREVIEW_OF)


def prepare(context: bpy.types.Context, image: bpy.types.Image | None,
            region: crop.Region | None, user_dir: Path, work_dir: Path, *,
            tile: int = 0, center: tuple[float, float] | None = None) -> PreparedPreview:
    """A preview set of ``region`` (source pixels from the bottom left; None: ``center``, else
    the middle, with the Preview Size), of UDIM ``tile`` for a tiled image."""
    if image is None:
        raise Refusal("No image to preview: open a texture in the Image Editor first.")
    if is_preview(image):
        raise Refusal(f"'{image.name}' is a preview of '{image[PREVIEW_OF]}'. Open the texture "
                      "itself (Back to Texture) to preview or upscale it.")
    settings = addon_data.upscale_settings(context.scene)
    prefs = addon_data.preferences()
    base = request.params_from_settings(settings)
    replace(base, image="pending-upload").validate()
    style_images = request._style_images(settings)
    request.check_style_count(len(style_images))
    facts = snapshot.describe(image)
    seed = random.randint(0, preview.SEED_MAX)  # one for every variant: like for like
    attribute = VARIANT_ATTRIBUTES.get(settings.variant_field, "")
    values = [getattr(item, attribute) for item in settings.variants] if attribute else []
    try:
        variants = preview.variant_params(base, settings.variant_field, values, seed)
        for _, params in variants:
            replace(params, image="pending-upload").validate()
    except (ValueError, InvalidRequestError) as exc:
        raise Refusal(f"{exc} (Compare, in the Preview panel)") from exc
    tile_facts = _tile(facts, tile) if facts.tiles else None
    width, height = ((tile_facts.width, tile_facts.height) if tile_facts
                     else (facts.width, facts.height))
    region = _region(region, center, int(settings.preview_size), width, height)
    factor = int(base.upscale_factor or 2)
    max_side = request.max_result_side(prefs)
    snapshot.check_output_size(replace(facts, width=region.width, height=region.height),
                               factor, max_side)
    whole_sizes, whole_note = _whole(facts, settings, factor, max_side)
    conn = connection.connection()
    folder = request.output_folder(prefs, user_dir) / "previews"
    request.ensure_writable(folder)
    plan = request.fidelity_plan(image, facts, settings)
    plan = FidelityPlan(keep_alpha=plan.keep_alpha, normal_map=plan.normal_map,
                        check_tiling=False, seam_pad=0)  # a crop has no wrap seam
    source = _source(image, facts, tile_facts, plan.keep_alpha)
    style_sources = [snapshot.take_source(i, snapshot.describe(i)) for i in style_images]
    stem = tile_set_stem(image.name) if facts.tiles else sanitize_stem(image.name)
    record = JobRecord(
        local_id=new_job_id(), source_image=image.name, source_session_uid=image.session_uid,
        session=runtime.SESSION, blend_file=bpy.data.filepath, scope="NONE",
        source_colorspace=facts.colorspace, source_alpha_mode=facts.alpha_mode,
        source_size=[region.width, region.height], base_url=conn.base_url,
        params=variants[0][1].to_body(), output_dir=str(folder),
        output_stem=f"{stem}.{tile_facts.number}" if tile_facts else stem,
    )
    timeout = request.timeout_seconds(prefs)
    jobs = []
    for index, (label, params) in enumerate(variants):
        vrecord = JobRecord.from_json(record.to_json())
        vrecord.local_id, vrecord.params = new_job_id(), params.to_body()
        vrecord.preview = {"set": record.local_id, "label": label, "index": index}
        jobs.append(UpscaleJob(record=vrecord, params=params,
                               work_dir=work_dir / vrecord.local_id,
                               style_sources=style_sources if index == 0 else [],
                               timeout_s=timeout, fidelity=plan))
    record.preview = {
        "region": region.as_list(), "tile": tile_facts.number if tile_facts else 0,
        "image_size": [width, height], "field": settings.variant_field, "seed": seed,
        "variants": [{"local_id": j.record.local_id, "label": j.record.preview["label"]}
                     for j in jobs],
    }
    job = preview.PreviewJob(
        record=record, variants=jobs, region=region, image_size=(width, height),
        work_dir=work_dir / record.local_id, source=source, whole_sizes=whole_sizes,
        whole_note=whole_note, blender=helper_blender(), is_data=facts.is_data,
        keep_alpha=plan.keep_alpha, spend=request.spend_policy(prefs),
    )
    return PreparedPreview(job, conn, facts, tile_facts.number if tile_facts else 0)


def helper_blender() -> list[str]:
    """How to start a helper Blender that runs ``crop_helper.py``: this Blender's own program
    in the background, or (Blender as a Python module) this Python."""
    binary = bpy.app.binary_path
    if binary and os.path.isfile(binary):
        return [binary, "--background", "--factory-startup", "-noaudio", "--python",
                HELPER_SCRIPT, "--"]
    return [sys.executable, HELPER_SCRIPT]


def _tile(facts: snapshot.ImageFacts, number: int) -> udim_tiles.Tile:
    if not number:
        return facts.tiles[0]
    found = next((t for t in facts.tiles if t.number == number), None)
    if found is None:
        have = ", ".join(str(t.number) for t in facts.tiles)
        raise Refusal(f"'{facts.name}' has no UDIM tile {number} (it has {have}).")
    return found


def _region(region: crop.Region | None, center: tuple[float, float] | None, size: int,
            width: int, height: int) -> crop.Region:
    if region is None:
        x, y = center if center is not None else (width / 2, height / 2)
        return crop.around(x, y, size, width, height)
    try:
        crop.check_inside(region, width, height)
    except ValueError as exc:
        raise Refusal(str(exc)) from exc
    return region


def _whole(facts: snapshot.ImageFacts, settings: ScenarioUpscaleSettings, factor: int,
           max_side: int) -> tuple[list[tuple[int, int]], str]:
    """What an upscale of the whole texture would send (per tile of a set), or why it could
    not be upscaled at all."""
    if facts.tiles:
        sizes = [(t.width, t.height) for t in facts.tiles]
    else:
        pad = seam_pad_for(facts.width, facts.height) if settings.seam_safe else 0
        sizes = [(facts.width + 2 * pad, facts.height + 2 * pad)]
    largest = max(max(size) for size in sizes)
    if largest * factor > max_side:
        return [], (f"the whole texture is above the {max_side} px limit at ×{factor}, so it "
                    "was not priced")
    return sizes, ""


def _source(image: bpy.types.Image, facts: snapshot.ImageFacts, tile: udim_tiles.Tile | None,
            keep_alpha: bool) -> Source:
    """What the crop is cut from, without reading a file-backed image's pixels here: the file
    or the packed bytes, in whatever format; Blender's pixels only for images without bytes."""
    name = f"{sanitize_stem(image.name)}.png"
    if tile is not None:
        how = udim_tiles.kind(image)
        if how == "file":
            return FileSource(tile.path, name)
        if how == "packed":
            packed = next(p for p in image.packed_files if int(p.tile_number) == tile.number)
            return BytesSource(packed_bytes.data(packed.packed_file), name)
        runtime_dir = runtime.get().work_dir / f"tiles-{new_job_id()}"
        return udim_tiles.take_sources(image, [tile], runtime_dir)[tile.number]
    if facts.kind == "file":
        return FileSource(lookup.file_path(image), name)
    if facts.kind == "packed":
        return packed_bytes.take(image, name, facts.packed_data)
    return snapshot.read_pixels(image, facts, keep_alpha)


def start(rt: runtime.Runtime, prepared: PreparedPreview, title: str) -> job_view.JobView:
    """Queues the set: it takes no place of its own, its variants do."""
    job = prepared.job
    rt.remember(job.record)
    view = job_view.JobView(job.record.local_id, title)
    view.record = job.record
    factor = job.record.factor
    view.output_pixels = job.region.width * job.region.height * factor * factor
    connect = prepared.connection.connect
    return rt.start(view, lambda ctx: preview.run(job, ctx, rt.journal, connect), counted=False)


def resume(rt: runtime.Runtime, record: JobRecord) -> job_view.JobView:
    """Recover: collects the previews that were paid for; none is sent again."""
    timeout = request.timeout_seconds(addon_data.preferences())
    variants = []
    for entry in record.preview.get("variants", []):
        found = rt.journal.load(str(entry["local_id"]))
        if found is not None:
            variants.append(UpscaleJob(record=found, params=UpscaleParams(),
                                       work_dir=rt.work_dir / found.local_id, timeout_s=timeout))
    region = crop.Region(*record.preview.get("region", [0, 0, 0, 0]))
    size = record.preview.get("image_size", [0, 0])
    job = preview.PreviewJob(record=record, variants=variants, region=region,
                             image_size=(int(size[0]), int(size[1])),
                             work_dir=rt.work_dir / record.local_id, recovering=True)
    conn = connection.connection()
    rt.remember(record)
    view = job_view.JobView(record.local_id, f"{record.source_image} (previews)", record=record)
    return rt.start(view, lambda ctx: preview.run(job, ctx, rt.journal, conn.connect),
                    counted=False)
