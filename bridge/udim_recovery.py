"""Finishing a UDIM set later: its paid tiles are collected, the tiles without a result (failed,
or never sent) are made again from the set's source image, and only those are paid for."""

from __future__ import annotations

import os

import bpy

from ..api.params import UpscaleParams
from ..api.wording import plural, verb
from ..core import job_view
from ..core.journal import JobRecord, JournalError
from ..core.refusal import Refusal
from ..core.states import JobState
from ..core.udim_set import SetJob
from ..core.upscale_job import UpscaleJob
from . import addon_data, connection, request, result_image, runtime


def resume(rt: runtime.Runtime, record: JobRecord) -> job_view.JobView:
    timeout = request.timeout_seconds(addon_data.preferences())
    limits = request.result_limits(addon_data.preferences())
    kept: list[UpscaleJob] = []
    redo: list[int] = []
    for entry in record.tiles:
        try:
            tile = rt.journal.load(str(entry["local_id"]))
        except JournalError as exc:
            # Its job may be paid for: making the tile again could pay twice.
            raise Refusal(f"Tile {entry['tile']} of '{record.source_image}' cannot be recovered: "
                          f"{exc}. Nothing was sent.") from exc
        if tile is not None and _collectable(tile):
            kept.append(UpscaleJob(record=tile, params=UpscaleParams(),
                                   work_dir=rt.work_dir / tile.local_id, timeout_s=timeout,
                                   limits=limits))
        elif tile is not None and tile.state == JobState.UNCERTAIN:
            raise Refusal(
                f"Tile {tile.tile} of '{record.source_image}' was sent, but Scenario's answer was "
                "lost: it may have run and been charged, so it is never sent again by itself. "
                "Check your jobs on app.scenario.com, then upscale the set again."
            )
        else:
            redo.append(int(entry["tile"]))
    jobs = kept + (_redone(rt, record, redo, kept) if redo else [])
    jobs.sort(key=lambda job: job.record.tile)
    record.tiles = [{**entry, "local_id": job.record.local_id}
                    for entry, job in zip(sorted(record.tiles, key=lambda e: int(e["tile"])),
                                          jobs, strict=True)]
    spend = request.spend_policy(addon_data.preferences())
    set_job = SetJob(record=record, tiles=jobs, spend=spend)
    return rt.start_upscale(set_job, connection.connection().connect, record.source_image)


def _collectable(tile: JobRecord) -> bool:
    """Paid for, and its result still to come or on disk."""
    if tile.state == JobState.APPLIED:
        return os.path.isfile(tile.result_path)
    return tile.recoverable


def _redone(rt: runtime.Runtime, record: JobRecord, numbers: list[int],
            kept: list[UpscaleJob]) -> list[UpscaleJob]:
    """New jobs for the tiles ``numbers``, from the source image as it is now."""
    listed = ", ".join(str(n) for n in numbers)
    image = result_image.find_source(record)
    if image is None:
        raise Refusal(
            f"Tiles {listed} of '{record.source_image}' have no result, and the UDIM image is no "
            "longer in this file, so they cannot be made again. Open the file it came from."
        )
    params = UpscaleParams.from_body(record.params)
    params.image = params.image_prompt = None
    prepared = request.prepare(bpy.context, image, record.scope, rt.user_dir, rt.work_dir,
                               params=params, materials=record.target_materials, styles=False)
    assert isinstance(prepared.job, SetJob)
    fresh = {job.record.tile: job for job in prepared.job.tiles}
    gone = [n for n in numbers if n not in fresh]
    if gone:
        raise Refusal(f"{plural(len(gone), 'Tile')} {', '.join(map(str, gone))} of "
                      f"'{record.source_image}' {verb(len(gone), 'is', 'are')} no longer in the "
                      "image, so the set cannot be finished as it was started.")
    styles = next((job.record.style_asset_ids for job in kept if job.record.style_asset_ids), [])
    for number in numbers:
        tile = fresh[number].record
        tile.tile_set, tile.style_asset_ids = record.local_id, list(styles)
    return [fresh[n] for n in numbers]
