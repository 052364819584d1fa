"""Previews: a small crop of a texture upscaled with the panel's settings, or with up to four
values of one setting, priced and confirmed once, before the whole texture is paid for.

A preview set runs on a worker thread like a UDIM set: it takes no place itself, its variants do.
1. The crop is cut from the source (``core/crop.py``): Blender's main thread never reads the
   image.
2. The crop is uploaded once, and every variant is priced with a dry run (free); so is an upscale
   of the whole texture, with a stand-in of its size (``crop.stand_in``), for the artist to see
   what the real thing will cost.
3. The total is confirmed once, under the same rules as an upscale (Confirm Above, Stop Before Paying).
4. Each variant is then an ordinary pipeline job (journaled, recoverable, cancellable), queued
   by the scheduler for a place and a team slot; its result goes to the previews folder.

Each variant has its own journal record; the set's record lists them. Recover collects what was
paid for; a variant never sent is never sent later.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from ..api import errors
from ..api.client import ScenarioClient
from ..api.params import UpscaleParams
from ..api.prices import credits_text
from ..api.wording import counted
from . import crop, job_text, offload, pipeline, sent_marks, spend_policy, upscale_job
from .batch import live_text
from .imagefile import FILE_EXTENSIONS, sniff_format
from .journal import JobRecord, Journal
from .naming import reserve_unique_path, sanitize_stem
from .png import PNGError
from .scheduler import Event, JobCancelled, JobContext
from .source import FileSource, PixelSource, Source, SourceUnavailable
from .states import EventKind, JobState, Stage

log = logging.getLogger(__name__)

MAX_VARIANTS = 4
SEED_MAX = 2147483647


def variant_label(field_name: str, value: Any) -> str:
    """What differs, as a thumbnail says it: "Creative", "0.6", "Seed 42", "FLUX.1-Krea-dev"."""
    if field_name == "PRESET":
        return str(value).title()
    if field_name == "STRENGTH":
        return f"Strength {float(value):g}"
    if field_name == "SEED":
        return f"Seed {int(value)}"
    if field_name == "PROMPT":
        text = str(value).strip()
        return f"“{text}”" if text else "No prompt"
    return str(value)


def variant_params(base: UpscaleParams, field_name: str, values: list[Any], seed: int
                   ) -> list[tuple[str, UpscaleParams]]:
    """(label, params) per value of ``field_name`` ("NONE": one, the panel's), every one with an
    explicit seed: ``seed`` unless the seed is what varies."""
    base = replace(base, seed=base.seed if base.seed is not None else seed)
    if field_name == "NONE" or not values:
        return [("Panel settings", base)]
    if len(values) > MAX_VARIANTS:
        raise ValueError(f"{len(values)} values are set, but a preview compares at most "
                         f"{MAX_VARIANTS}: remove {len(values) - MAX_VARIANTS}.")
    attribute = {"PRESET": "preset", "STRENGTH": "strength", "BASE_MODEL": "base_model",
                 "SEED": "seed", "PROMPT": "prompt"}[field_name]
    out = []
    for value in values:
        if field_name == "STRENGTH":
            value = round(float(value), 4)
        elif field_name == "SEED":
            value = int(value)
        elif field_name == "PROMPT":
            value = str(value) or None
        out.append((variant_label(field_name, value), replace(base, **{attribute: value})))
    return out


@dataclass
class PreviewJob:
    """What the main thread hands to a worker for a preview set: plain data, no bpy."""

    record: JobRecord  # the set's; ``record.preview["variants"]`` lists the variants' records
    variants: list[upscale_job.UpscaleJob]  # each with ``record.preview["set"]`` set
    region: crop.Region
    image_size: tuple[int, int]  # of the image (or UDIM tile) the region is in
    work_dir: Path
    source: Source | None = None  # what the crop is cut from; None when recovering
    # What the whole upscale would send: one size per image, or per tile of a UDIM set.
    whole_sizes: list[tuple[int, int]] = field(default_factory=list)
    whole_note: str = ""  # why the whole texture has no price (e.g. above the size limit)
    blender: list[str] = field(default_factory=list)  # starts a helper Blender (other formats)
    is_data: bool = False
    keep_alpha: bool = True
    spend: spend_policy.SpendPolicy = field(default_factory=lambda: spend_policy.SpendPolicy())
    recovering: bool = False  # only collect what was paid for


@dataclass(frozen=True)
class Preview:
    local_id: str
    label: str
    path: str
    cost: float | None
    job_id: str
    params: dict[str, Any]


@dataclass(frozen=True)
class PreviewResult:
    local_id: str
    previews: list[Preview]
    failed: list[str]  # "<label>: <reason>" of variants without a result
    cost: float | None
    seconds: float


@dataclass(frozen=True)
class VariantProgress:
    """One variant as the panel shows it (drawn like a UDIM tile's line)."""

    tile: str
    text: str
    done: bool = False


class PreviewFailed(errors.ScenarioError):
    """No variant of the set gave a result; the message names why."""


def run(job: PreviewJob, ctx: JobContext, journal: Journal, connect: upscale_job.ClientFactory
        ) -> PreviewResult:
    started = time.monotonic()
    record = job.record
    journal.save_new(record)
    board = _Board(ctx, job)
    try:
        if job.recovering:
            _end_unsent(job.variants, journal, "Never sent: Recover only collects previews "
                        "that were paid for; nothing was charged.")
            wanted = [v for v in job.variants
                      if v.record.recoverable and not sent_marks.has_result(v.record)]
        else:
            _cut_crop(job, ctx, journal)
            _price_and_approve(job, ctx, journal, connect)
            _reserve_names(job, journal)
            wanted = [v for v in job.variants if v.record.state not in _ENDED
                      and not sent_marks.has_result(v.record)]
        # The A/B reference is made while Scenario works: it costs no wait.
        reference = _Reference(job, ctx)
        outcomes = _each(ctx, board, wanted,
                         lambda variant, vctx: pipeline.run(variant, vctx, journal, connect))
        reference.join(record, journal)
    except JobCancelled:
        _end_unsent(job.variants, journal, job_text.CANCELLED_UNPAID)
        _end_set(job, journal, cancelled=True)
        raise
    if ctx.cancelled:
        _end_set(job, journal, cancelled=True)
        raise JobCancelled()
    failed = [f"{_label(v)}: {outcomes[v.record.local_id]}" for v in job.variants
              if isinstance(outcomes.get(v.record.local_id), BaseException)]
    _drop_placeholders([v for v in job.variants if v.record.state in _ENDED])
    previews = [Preview(v.record.local_id, _label(v), v.record.result_path, v.record.cost,
                        v.record.job_id, dict(v.record.params))
                for v in job.variants if sent_marks.has_result(v.record)]
    if not previews:
        message = (f"No preview of '{record.source_image}' was made ({'; '.join(failed)})."
                   if failed else f"No preview of '{record.source_image}' was made.")
        _end_set(job, journal, error=message)
        raise PreviewFailed(message)
    costs = [p.cost for p in previews]
    cost = None if any(c is None for c in costs) else sum(c for c in costs if c is not None)
    kept = _paid_without_result(job)
    journal.transition(record, JobState.SUBMITTED if kept else JobState.DOWNLOADED, cost=cost,
                       error="; ".join(failed))
    return PreviewResult(record.local_id, previews, failed, cost, time.monotonic() - started)


_ENDED = frozenset({JobState.FAILED, JobState.UNCERTAIN, JobState.CANCELLED})


# --- 1. the crop ------------------------------------------------------------------------------
def _cut_crop(job: PreviewJob, ctx: JobContext, journal: Journal) -> None:
    """Cuts the crop once (a resumed set keeps its file) and makes it every variant's source."""
    record = job.record
    target = job.work_dir / "crop.png"
    if not (record.preview.get("crop") and target.is_file()):
        if job.source is None:
            raise errors.ScenarioError("The source texture is no longer available; start again.")
        ctx.progress(Stage.PREPARING, message="Cutting the crop")
        job.work_dir.mkdir(parents=True, exist_ok=True)
        try:
            source = job.source
            result = _cut(job, ctx, source, str(target))
        except JobCancelled:
            raise
        except (SourceUnavailable, PNGError, crop.CropHelperError, offload.OffloadError,
                ValueError, OSError) as exc:
            message = _unreadable(record.source_image, exc)
            journal.transition(record, JobState.FAILED, error=message)
            for variant in job.variants:
                journal.transition(variant.record, JobState.FAILED, error=message)
            raise errors.ScenarioError(message, not_sent=True) from exc
        finally:
            job.source = None  # its pixels or bytes are not needed any more
        record.preview["crop"] = str(target)
        if result.is_float and not job.is_data:  # sent as sRGB, like an upscale of float pixels
            for changed in [record, *(v.record for v in job.variants)]:
                changed.source_colorspace = "sRGB"
                journal.save(changed)
        journal.save(record)
    name = f"{sanitize_stem(record.source_image)}_preview.png"
    for variant in job.variants:
        variant.source = FileSource(str(target), name)


def _cut(job: PreviewJob, ctx: JobContext, source: Any, target: str) -> crop.CropResult:
    region = job.region
    if isinstance(source, PixelSource):
        return crop.crop_pixels(source, region, target)
    if crop.needs_blender(source):
        if isinstance(source, FileSource):
            path = source.path
        else:  # packed bytes of a format only Blender reads: a file for the helper Blender
            ext = FILE_EXTENSIONS.get(sniff_format(bytes(source.data[:64])) or "", "img")
            path = str(job.work_dir / f"packed.{ext}")
            Path(path).write_bytes(source.data)
        if not job.blender:
            raise crop.CropHelperError("No helper Blender is known to read this format.")
        return crop.crop_with_blender(job.blender, path, region, job.work_dir, target,
                                      is_data=job.is_data, keep_alpha=job.keep_alpha,
                                      ctx=ctx)
    width, height = job.image_size
    return offload.call(crop.crop_source, source, region, target,
                        pixels=crop.pixels_to_decode(region, width, height), ctx=ctx)


def _unreadable(name: str, exc: BaseException) -> str:
    if isinstance(exc, PNGError):
        reason = f"the file is damaged ({exc})"
    else:
        reason = str(exc).rstrip(".") or type(exc).__name__
    return (f"The preview crop of '{name}' could not be cut: {reason}. Nothing was uploaded or "
            "spent.")


# --- 2 and 3. prices, and the artist's yes --------------------------------------------------------
def _price_and_approve(job: PreviewJob, ctx: JobContext, journal: Journal,
                       connect: upscale_job.ClientFactory) -> None:
    """Uploads the crop once, prices every variant and the whole texture (dry runs), then asks
    once for the total, under the rules of any upscale; the variants then run on an approved
    policy."""
    unpaid = [v for v in job.variants if sent_marks.unsent(v.record)]
    if not unpaid:
        return
    asking = replace(job.spend, quote=True)  # a preview's price is always shown
    first, *others = unpaid
    first.spend = asking
    costs = [_price(job, first, ctx, journal, connect)]
    for variant in others:  # the crop and the style images are at Scenario already
        variant.record.input_asset_id = first.record.input_asset_id
        variant.record.style_asset_ids = list(first.record.style_asset_ids)
        variant.spend = asking
        costs.append(_price(job, variant, ctx, journal, connect))
    total = sum(costs)
    whole = _whole_costs(job, ctx, connect, first)
    note = _price_note(job, len(unpaid), total, whole)
    job.record.preview["whole_cost"] = whole
    job.record.preview["note"] = note
    job.record.quote = total
    journal.save(job.record)
    ctx.progress(Stage.PRICING, message=f"{counted(len(unpaid), 'preview')}, {credits_text(total)}",
                 detail=note)
    refusal = spend_policy.spend_refusal(job.spend, ctx, total, job.record.source_image,
                                         previews=len(unpaid), note=note)
    if refusal is not None:
        _end_unsent(unpaid, journal, refusal.message, declined=refusal.declined)
        journal.transition(job.record, JobState.FAILED, error=refusal.message,
                           declined=refusal.declined)
        raise spend_policy.NotSpentError.of(refusal)
    approved = spend_policy.SpendPolicy(quote=False)
    for variant in job.variants:
        variant.spend = approved


def _price(job: PreviewJob, variant: upscale_job.UpscaleJob, ctx: JobContext, journal: Journal,
           connect: upscale_job.ClientFactory) -> float:
    try:
        cost = pipeline.price(variant, ctx, journal, connect)
        if cost is None:  # shown, not needed by the rules: pipeline went on without it
            raise spend_policy.NotSpentError("Scenario gave no price for the preview, so nothing "
                                             "was spent. Try again in a moment.")
    except errors.ScenarioError as exc:
        reason = str(exc)
        _end_unsent(job.variants, journal, reason)
        journal.transition(job.record, JobState.FAILED, error=reason)
        raise
    return cost


def _whole_costs(job: PreviewJob, ctx: JobContext, connect: upscale_job.ClientFactory,
                 priced: upscale_job.UpscaleJob) -> list[float]:
    """What an upscale of the whole texture costs with each variant's settings: a dry run of
    a stand-in of the size the upscale would send (per tile of a UDIM set, summed). Empty when
    it could not be had: the previews go on without it."""
    if job.whole_note or not job.whole_sizes:
        return []
    client = connect(ctx)
    try:
        totals = []
        for variant in job.variants:
            params = replace(variant.params, image_prompt=priced.record.style_asset_ids or None)
            totals.append(sum(_quote_size(client, job, params, size) for size in job.whole_sizes))
        return totals
    except errors.CancelledError as exc:
        raise JobCancelled() from exc
    except (errors.ScenarioError, OSError) as exc:
        log.info("the whole texture could not be priced: %s", exc)
        job.whole_note = f"the whole texture could not be priced ({exc})"
        return []
    finally:
        client.close()


# Stand-ins already at Scenario, per service, account and size: uploaded once per session.
_stand_ins: dict[tuple[str, str, int, int], str] = {}
_stand_ins_lock = threading.Lock()


def _quote_size(client: ScenarioClient, job: PreviewJob, params: UpscaleParams,
                size: tuple[int, int]) -> float:
    key = (client.transport.base_url, client.transport.account, *size)
    with _stand_ins_lock:
        cached = _stand_ins.get(key)
    if cached is not None:
        try:
            return client.quote(replace(params, image=cached)).cost
        except (errors.NotFoundError, errors.InvalidRequestError):
            with _stand_ins_lock:  # removed at Scenario since: uploaded again
                _stand_ins.pop(key, None)
    job.work_dir.mkdir(parents=True, exist_ok=True)
    path = job.work_dir / f"stand-in-{size[0]}x{size[1]}.png"
    try:
        crop.stand_in(size[0], size[1], str(path))
        asset = client.upload_image(str(path), name=path.name).id
    finally:
        path.unlink(missing_ok=True)
    with _stand_ins_lock:
        _stand_ins[key] = asset
    return client.quote(replace(params, image=asset)).cost


def _price_note(job: PreviewJob, count: int, total: float, whole: list[float]) -> str:
    region = job.region
    factor = job.record.factor
    what = (f"{counted(count, 'preview')} of {region.width}×{region.height} → "
            f"{region.width * factor}×{region.height * factor}, {credits_text(total)}")
    if whole:
        low, high = min(whole), max(whole)
        each = credits_text(low) if low == high else f"{low:g}–{high:g} credits"
        return f"{what} (the whole texture: {each})"
    if job.whole_note:
        return f"{what} ({job.whole_note})"
    return what


class _Reference:
    """The crop resampled to a preview's size, for A/B, made beside the previews as a part of
    this job: the scheduler gives it a place like the variants, and the job's cancel stops it."""

    def __init__(self, job: PreviewJob, ctx: JobContext) -> None:
        self.path = ""
        record = job.record
        crop_path = str(record.preview.get("crop", ""))
        original = str(record.preview.get("original", ""))
        self._ended: queue.Queue[Event] | None = None
        if (original and Path(original).is_file()) or not Path(crop_path).is_file():
            return
        factor = record.factor
        size = (job.region.width * factor, job.region.height * factor)
        name = f"{record.output_stem}_preview_original_x{factor}.png"
        target = reserve_unique_path(record.output_dir, name)
        self._ended = queue.Queue()
        child = ctx.spawn(f"{record.local_id}-reference", partial(self._make, crop_path, size, target),
                          threading.Event(), self._ended)
        ctx.on_cancel(child.cancel)
        if ctx.cancelled:
            child.cancel()

    def _make(self, crop_path: str, size: tuple[int, int], target: Path, ctx: JobContext
              ) -> None:
        try:
            offload.call(crop.original_like, crop_path, size[0], size[1], str(target),
                         pixels=size[0] * size[1], ctx=ctx)
            self.path = str(target)
        except Exception as exc:  # noqa: BLE001 - A/B is a convenience: the previews go on
            log.warning("no A/B reference for %s: %s", target.name, exc)
            target.unlink(missing_ok=True)

    def join(self, record: JobRecord, journal: Journal) -> None:
        if self._ended is None:
            return
        while self._ended.get().kind == EventKind.PROGRESS:  # it ends with one event of its own
            continue
        if self.path:
            record.preview["original"] = self.path
            journal.save(record)


# --- 4. the variants --------------------------------------------------------------------------
def _reserve_names(job: PreviewJob, journal: Journal) -> None:
    """A file per variant in the previews folder, reserved before any is paid: never an
    existing file, never another preview's."""
    record = job.record
    for variant in job.variants:
        vrecord = variant.record
        if vrecord.output_name or not sent_marks.unsent(vrecord):
            continue
        factor = vrecord.factor
        label = sanitize_stem(_label(variant), max_bytes=40)
        name = f"{record.output_stem}_preview_{label}_x{factor}.png"
        path = reserve_unique_path(vrecord.output_dir, name)
        vrecord.output_name = path.name
        journal.save(vrecord)
    journal.transition(record, JobState.SUBMITTED)


def _each(ctx: JobContext, board: _Board, variants: list[upscale_job.UpscaleJob],
          step: Callable[[upscale_job.UpscaleJob, JobContext], Any]) -> dict[str, Any]:
    """Runs ``step`` for each variant as a job of the scheduler's (a place and a team slot like
    any job); returns each one's result or the exception it raised. Every paid variant goes on
    when another fails."""
    return ctx.run_parts(variants, step, lambda variant: variant.record.local_id,
                         board.progress, board.ended)


# --- the journal ------------------------------------------------------------------------------
def _label(variant: upscale_job.UpscaleJob) -> str:
    return str(variant.record.preview.get("label", ""))


def _paid_without_result(job: PreviewJob) -> list[upscale_job.UpscaleJob]:
    return [v for v in job.variants if v.record.recoverable and not sent_marks.has_result(v.record)]


def _end_unsent(variants: list[upscale_job.UpscaleJob], journal: Journal, reason: str,
                declined: bool = False) -> None:
    for variant in variants:
        if sent_marks.unsent(variant.record):
            _drop_placeholders([variant])
            journal.transition(variant.record, JobState.FAILED, error=reason, declined=declined)


def _drop_placeholders(variants: list[upscale_job.UpscaleJob]) -> None:
    """Removes the reserved, still empty files of variants that will never have a result."""
    for variant in variants:
        if variant.record.output_name:
            path = Path(variant.record.output_dir) / variant.record.output_name
            if path.is_file() and not path.stat().st_size:
                path.unlink()


def _end_set(job: PreviewJob, journal: Journal, cancelled: bool = False, error: str = "") -> None:
    """The set ended without all its previews: recoverable while a paid variant's result may
    still come (abandoned when the artist stopped waiting), else failed or cancelled."""
    record = job.record
    if record.state in (JobState.FAILED, JobState.CANCELLED):
        return
    kept = _paid_without_result(job)
    if kept:
        journal.transition(record, JobState.ABANDONED if cancelled else JobState.SUBMITTED,
                           error=error)
    elif cancelled and any(v.record.state == JobState.CANCELLED for v in job.variants):
        ids = ", ".join(v.record.job_id for v in job.variants if v.record.job_id)
        journal.transition(record, JobState.CANCELLED, error=job_text.cancelled_at_service(ids))
    else:
        journal.transition(record, JobState.FAILED,
                           error=error or job_text.CANCELLED_UNPAID)


class _Board:
    """Each variant's stage, reported to the set's view as one progress event."""

    def __init__(self, ctx: JobContext, job: PreviewJob) -> None:
        self.ctx = ctx
        self.order = [v.record.local_id for v in job.variants]
        self.labels = {v.record.local_id: _label(v) for v in job.variants}
        self.text = {v.record.local_id: "Done" if sent_marks.has_result(v.record) else "Queued"
                     for v in job.variants}
        self.done = {v.record.local_id for v in job.variants if sent_marks.has_result(v.record)}

    def progress(self, variant: upscale_job.UpscaleJob, event: Event) -> None:
        self.text[variant.record.local_id] = live_text(event.stage, event.message, event.fraction)
        self.report()

    def ended(self, variant: upscale_job.UpscaleJob, exc: BaseException | None) -> None:
        local_id = variant.record.local_id
        if exc is None:
            self.text[local_id] = "Done"
            self.done.add(local_id)
        else:
            self.text[local_id] = "Stopped" if isinstance(exc, JobCancelled) else "Failed"
        self.report()

    def report(self) -> None:
        total = len(self.order)
        lines = tuple(VariantProgress(self.labels[i], self.text[i], i in self.done)
                      for i in self.order)
        self.ctx.progress(Stage.TILES, len(self.done) / total if total else None,
                          f"{len(self.done)} of {counted(total, 'preview')} done", detail=lines)
