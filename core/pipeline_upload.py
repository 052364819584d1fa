"""The pipeline's first step: checks that cost nothing, then the source (and style images) sent
to Scenario as assets, reusing what a price check of the same bytes already sent."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from ..api import errors
from ..api.client import ScenarioClient
from . import pipeline_download, upscale_job
from .fidelity import pad_source, pixel_count, prepare_pixels
from .imagefile import ImageHeaderError, read_image_header
from .journal import Journal
from .scheduler import JobContext
from .source import PixelSource, Source, SourceUnavailable, check_intact, prepare_upload
from .states import JobState, Stage
from .upscale_job import UpscaleJob

log = logging.getLogger(__name__)


def upload(job: UpscaleJob, ctx: JobContext, journal: Journal, client: ScenarioClient) -> None:
    record = job.record
    if record.input_asset_id:
        journal.transition(record, JobState.SUBMITTING)
        return
    if job.source is None:
        raise errors.ScenarioError("The source texture is no longer available; start again.")
    source = job.source
    ctx.progress(Stage.PREPARING)
    _refuse_before_upload(job, ctx, journal, client, [source, *job.style_sources])
    if isinstance(source, PixelSource):
        # Converted here, where numpy lets go of the GIL: a quarter of the bytes cross to a
        # child. Encoded once, and analysed from the same conversion.
        source.rgba8  # noqa: B018
        source, job.analysis = upscale_job.heavy(job, ctx, prepare_pixels, source, job.fidelity, job.work_dir,
                                                 pixels=pixel_count(source))
    elif job.fidelity.seam_pad:
        source = upscale_job.heavy(job, ctx, pad_source, source, job.fidelity.seam_pad, job.work_dir,
                                   pixels=pixel_count(source))
    upload, name = prepare_upload(source, job.work_dir)
    ctx.check_cancelled()
    ctx.progress(Stage.UPLOADING, 0.0)
    asset_id = _send(job, ctx, client, upload, name, shown=True)
    style_ids = []
    for style in job.style_sources:
        ctx.check_cancelled()
        style_upload, style_name = upscale_job.heavy(job, ctx, prepare_upload, style, job.work_dir,
                                                     pixels=_encoded_pixels(style))
        style_ids.append(_send(job, ctx, client, style_upload, style_name))
    ctx.check_cancelled()
    # A UDIM tile redone by Recover reuses its set's style images, already at Scenario.
    journal.transition(record, JobState.SUBMITTING, input_asset_id=asset_id,
                       style_asset_ids=style_ids or record.style_asset_ids,
                       sent_size=_image_size(upload))


def _send(job: UpscaleJob, ctx: JobContext, client: ScenarioClient,
          upload: str | bytes | memoryview, name: str, shown: bool = False) -> str:
    """Uploads ``upload`` and returns its asset id; bytes a price check of this image already
    sent (``job.reuse``, matched by their sha256) are not sent again. ``shown``: its progress
    is the job's."""
    digest = _digest(upload) if job.reuse or job.keep_uploads else ""
    asset_id = job.reuse.get(digest, "") if digest else ""
    if asset_id:
        log.info("Job %s sends no upload: asset %s holds the same bytes (its price check's)",
                 job.record.local_id, asset_id)
        if shown:
            ctx.progress(Stage.UPLOADING, 1.0)
    else:
        progress = ((lambda sent, total: ctx.progress(Stage.UPLOADING, sent / max(total, 1)))
                    if shown else None)
        asset_id = client.upload_image(upload, name=name, progress=progress).id
    if job.keep_uploads:
        job.uploads[digest] = asset_id
    return asset_id


def _digest(upload: str | bytes | memoryview) -> str:
    if isinstance(upload, str):
        return pipeline_download.file_sha256(Path(upload))
    return hashlib.sha256(upload).hexdigest()


def _image_size(upload: str | bytes | memoryview) -> list[int]:
    """Width and height of what went up, from its header; empty when it cannot be read."""
    try:
        info = read_image_header(upload)
    except (ImageHeaderError, OSError):
        return []
    return [info.width, info.height]


def _refuse_before_upload(job: UpscaleJob, ctx: JobContext, journal: Journal,
                          client: ScenarioClient, sources: list[Source]) -> None:
    """What can be found wrong for free is, before the first byte goes up: damaged files, a
    model Scenario no longer has or that would refuse these settings, then LoRA ids Scenario
    does not know (a lookup, unlike the generate, costs nothing)."""
    try:
        for source in sources:
            check_intact(source)
        job.model.check(client, job.params)
        job.loras.check(client, job.params.loras or (), ctx.wait_for)
    except errors.CancelledError:
        raise  # recorded as a cancel by run()
    except (SourceUnavailable, errors.ScenarioError) as exc:
        journal.transition(job.record, JobState.FAILED, error=str(exc))
        if isinstance(exc, errors.ScenarioError):
            raise
        raise errors.ScenarioError(str(exc), not_sent=True) from exc


def _encoded_pixels(source: Source) -> int:
    """Pixels ``prepare_upload`` would encode: only Blender's buffers are encoded."""
    return pixel_count(source) if isinstance(source, PixelSource) else 0
