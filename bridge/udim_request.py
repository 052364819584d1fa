"""Main thread: one upscale of a UDIM set made into a set job — a record for the set and one
job per tile, every tile checked before anything is uploaded."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import bpy

from ..api.wording import counted
from ..core.estimate import MEMORY_BYTES_PER_PIXEL, megabytes
from ..core.journal import JobRecord, new_job_id
from ..core.memory import MEMORY_SHARE, physical_bytes
from ..core.naming import tile_set_stem
from ..core.refusal import Refusal
from ..core.udim_set import SetJob
from ..core.upscale_job import UpscaleJob
from . import udim_tiles
from .snapshot import ImageFacts


def check_memory(facts: ImageFacts, factor: int) -> None:
    """Refuses a set whose results would not fit in memory together."""
    pixels = sum(t.width * t.height for t in facts.tiles) * factor * factor
    needed = pixels * MEMORY_BYTES_PER_PIXEL
    budget = physical_bytes() * MEMORY_SHARE
    if budget and needed > budget:
        raise Refusal(
            f"×{factor} would make the {counted(len(facts.tiles), 'tile')} of '{facts.name}' "
            f"{megabytes(needed)} in memory, more than half of this computer's "
            f"{megabytes(physical_bytes())}. Use a smaller factor, or upscale fewer tiles "
            "(split the set), then try again."
        )


def largest(facts: ImageFacts) -> ImageFacts:
    """The set's largest tile as image facts: the output limit is checked on it."""
    tile = max(facts.tiles, key=lambda t: max(t.width, t.height))
    return replace(facts, width=tile.width, height=tile.height)


def build(image: bpy.types.Image, facts: ImageFacts, template: UpscaleJob, work_dir: Path
          ) -> SetJob:
    """The set job: ``template`` is the job an ordinary image would have had, without a source;
    its record becomes the set's, and each tile gets a copy with its own id, source and size."""
    record = template.record
    record.output_stem = tile_set_stem(image.name)  # the factor is added as the names are chosen
    sources = udim_tiles.take_sources(image, facts.tiles, work_dir / record.local_id)
    jobs = []
    for tile in facts.tiles:
        tile_record = JobRecord.from_json(record.to_json())
        tile_record.local_id = new_job_id()
        tile_record.tile_set, tile_record.tile = record.local_id, tile.number
        tile_record.source_size = [tile.width, tile.height]
        jobs.append(replace(template, record=tile_record, source=sources[tile.number],
                            work_dir=work_dir / tile_record.local_id))
    record.tiles = [{"tile": t.number, "label": t.label, "local_id": j.record.local_id}
                    for t, j in zip(facts.tiles, jobs, strict=True)]
    record.source_size = [facts.tiles[0].width, facts.tiles[0].height]
    return SetJob(record=record, tiles=jobs, spend=template.spend)
