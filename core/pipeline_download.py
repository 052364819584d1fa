"""The pipeline's last step: the result downloaded, checked before anything opens it, made
faithful to the source (alpha, normals, padding) and moved to its reserved name."""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import replace
from pathlib import Path

from ..api import errors
from ..api.client import ScenarioClient
from . import offload, png, upscale_job
from .fidelity import FidelityPlan, finish_result, pixel_count, result_needs_pixels
from .imagefile import FILE_EXTENSIONS, sniff_format
from .job_text import paid_and_kept
from .journal import JobRecord, Journal
from .naming import reserve_unique_path, upscaled_file_name
from .result_check import check_result
from .scheduler import JobCancelled, JobContext
from .states import JobState, Stage
from .upscale_job import UpscaleJob


def download(job: UpscaleJob, ctx: JobContext, journal: Journal, client: ScenarioClient) -> None:
    """Downloads the result and checks it before anything opens it: whole (the client), its
    header readable, within the limits and of the size that was asked for. A result that fails
    is removed and the job stays *succeeded*: paid, and collected again by Recover."""
    record = job.record
    job.work_dir.mkdir(parents=True, exist_ok=True)
    temp = job.work_dir / f"{record.local_id}-result"
    if temp.exists():
        temp.unlink()
    factor = int(record.params.get("upscaleFactor") or job.params.upscale_factor or 2)
    plan = _plan_for(job)
    try:
        analysis = upscale_job.analysis(job, ctx)  # read while Scenario worked, unless recovered
        needs_pixels = result_needs_pixels(plan, analysis)
        # PNG when the name was reserved as one, or when the add-on must read the pixels (its
        # codec reads PNG only); else the result is taken in whatever format Scenario made it.
        wanted = _reserved_format(record) or ("png" if needs_pixels else None)
        ctx.progress(Stage.DOWNLOADING, 0.0)
        download = client.download_asset(
            record.result_asset_ids[0],
            temp,
            max_bytes=job.max_download_bytes,
            progress=lambda got, total: ctx.progress(Stage.DOWNLOADING, got / total if total else None),
            seconds=job.timeout_s,
            as_format=wanted,
        )
        check_result(temp, _expected_size(record, factor), job.limits, wanted)
        ctx.progress(Stage.PROCESSING)
        report = upscale_job.heavy(job, ctx, finish_result, temp, plan, analysis, factor,
                                   pixels=pixel_count(temp) if needs_pixels else 0)
    except BaseException as exc:
        temp.unlink(missing_ok=True)
        refusal = _not_usable(exc)
        if refusal is None:
            raise
        journal.transition(record, JobState.SUCCEEDED, error=f"{refusal} {paid_and_kept(record)}")
        raise errors.ScenarioError(record.error) from exc
    record.fidelity = report.to_json()
    changed = report.alpha_rebuilt or report.normals_renormalized or report.cropped
    with open(temp, "rb") as handle:
        fmt = sniff_format(handle.read(64)) or "png"
    ext = FILE_EXTENSIONS[fmt]
    try:
        if record.output_name:  # a UDIM tile: the name its set reserved for it
            final = _move_into_place(temp, Path(record.output_dir) / record.output_name)
        else:
            name = upscaled_file_name(record.output_stem, _factor_label(factor), ext)
            final = _move_into_place(temp, reserve_unique_path(Path(record.output_dir), name))
    except OSError as exc:
        # The result is paid for and still collectable: the record stays 'succeeded'.
        raise errors.ScenarioError(
            f"Could not save the result in {record.output_dir} ({exc.strerror or exc}). Free some "
            "disk space or choose another output folder, then use Recover in Recent Jobs: the "
            "result is kept and will not be paid again."
        ) from exc
    size = os.path.getsize(final)
    journal.transition(
        record, JobState.DOWNLOADED, result_path=str(final), result_size=size,
        result_sha256=file_sha256(final) if changed else download.sha256, error="",
    )


def _not_usable(exc: BaseException) -> str | None:
    """Why a download's outcome cannot be used, for the report; None for what is not about
    the result (a cancel, a helper process that died: those say it themselves)."""
    if isinstance(exc, (errors.CancelledError, JobCancelled)):
        return None
    if isinstance(exc, png.PNGError):  # complete, in size, and still not a PNG one can decode
        return f"Scenario's result is damaged ({exc})."
    if isinstance(exc, errors.ScenarioError) and not isinstance(exc.__cause__,
                                                                offload.OffloadError):
        return str(exc)
    return None


def _reserved_format(record: JobRecord) -> str | None:
    """The format a result must be in when its name was reserved before it was paid (a UDIM
    tile: every tile of a set has the set's extension); None when any format will do."""
    if not record.output_name:
        return None
    suffix = Path(record.output_name).suffix.lstrip(".").lower()
    return next((fmt for fmt, ext in FILE_EXTENSIONS.items() if ext == suffix), None)


def _plan_for(job: UpscaleJob) -> FidelityPlan:
    """The job's fidelity plan; a job resumed from the journal (Recover) has none, but its
    Seam-Safe padding shows in what was sent, and must still be cropped away."""
    record, plan = job.record, job.fidelity
    if plan.seam_pad or len(record.sent_size) != 2 or len(record.source_size) != 2:
        return plan
    pads = {(sent - source) for sent, source in zip(record.sent_size, record.source_size,
                                                    strict=True)}
    (pad,) = pads if len(pads) == 1 else (0,)
    return replace(plan, seam_pad=pad // 2) if pad > 0 and pad % 2 == 0 else plan


def _expected_size(record: JobRecord, factor: int) -> tuple[int, int] | None:
    """The result's size as Scenario must send it: what went up times the factor (unknown for
    a job journaled before the upload's size was)."""
    if len(record.sent_size) != 2 or min(record.sent_size) <= 0:
        return None
    width, height = record.sent_size
    return width * factor, height * factor


def _move_into_place(temp: Path, final: Path) -> Path:
    """Moves ``temp`` over ``final``, a placeholder reserved for it."""
    final.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(temp, final)
    except OSError:
        # Work folder and output folder on different disks: copy, then swap in atomically.
        try:
            shutil.copyfile(temp, f"{final}.part")
            os.replace(f"{final}.part", final)
        except OSError:
            for leftover in (Path(f"{final}.part"), final):
                leftover.unlink(missing_ok=True)
            raise
        temp.unlink()
    return final


def _factor_label(factor: float) -> int | float:
    return int(factor) if float(factor).is_integer() else factor


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
