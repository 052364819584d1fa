"""Price checks: what an upscale of the open image costs, asked before the click.

A price check is the first half of an upscale, paid for by nobody: the image is uploaded and
Scenario's dry run prices it (both free). What it priced is kept for this session, by the
image and the settings; the panel shows the price while they stay the same, and the upscale
that follows hands the check's uploads to its job, which sends no bytes Scenario already has
(matched by their sha256 in the worker, so an image changed since is uploaded again).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import bpy

from ..core.refusal import Refusal
from ..core.spend_policy import SpendPolicy
from ..core.udim_set import SetJob
from ..core.upscale_job import UpscaleJob
from . import connection, request, runtime, snapshot

if TYPE_CHECKING:
    from .settings import ScenarioUpscaleSettings

# An asset uploaded for a price check is reused for this long; the price is shown as long.
KEEP_SECONDS = 3600.0


@dataclass(frozen=True)
class Quote:
    cost: float | None
    uploads: dict[str, str]  # sha256 of the bytes sent → Scenario's asset id
    account: str  # the service and key the uploads belong to
    made: float  # time.monotonic()

    @property
    def fresh(self) -> bool:
        return time.monotonic() - self.made < KEEP_SECONDS


def key_of(image: bpy.types.Image, settings: ScenarioUpscaleSettings) -> str:
    """What a price depends on: the image (and its size) and every setting that is sent."""
    try:
        facts = snapshot.describe_cached(image)
        size = [facts.width, facts.height, len(facts.tiles)]
    except Refusal:  # it cannot be upscaled either: no price will be found for it
        size = []
    styles = [item.image.name for item in settings.image_prompts if item.image is not None]
    body = request.params_from_settings(settings).to_body()
    return json.dumps([image.name, image.session_uid, size, body, styles,
                       bool(settings.seam_safe)], sort_keys=True, default=str)


def account_of(conn: connection.Connection) -> str:
    key = hashlib.sha256(conn.credentials.api_key.encode("utf-8")).hexdigest()[:16]
    return f"{conn.base_url} {key}"


def current(rt: runtime.Runtime | None, image: bpy.types.Image | None,
            settings: ScenarioUpscaleSettings) -> Quote | None:
    """The price check of ``image`` with these settings, if one is fresh (drawing: no disk)."""
    if rt is None or image is None or not rt.quotes:
        return None
    quote = rt.quotes.get(key_of(image, settings))
    return quote if isinstance(quote, Quote) and quote.fresh else None


def check_only(job: UpscaleJob | SetJob) -> None:
    """Makes ``job`` a price check: it always asks the price, and keeps what it uploads."""
    job.spend = SpendPolicy(quote=True)
    for one in _jobs(job):
        one.keep_uploads = True


def remember(rt: runtime.Runtime, key: str, job: UpscaleJob | SetJob, cost: float | None,
             conn: connection.Connection) -> Quote:
    uploads: dict[str, str] = {}
    for one in _jobs(job):
        uploads.update(one.uploads)
    quote = Quote(cost, uploads, account_of(conn), time.monotonic())
    rt.quotes[key] = quote
    return quote


def reuse(rt: runtime.Runtime, key: str, job: UpscaleJob | SetJob,
          conn: connection.Connection) -> bool:
    """Hands a fresh price check's uploads to ``job`` (same image, settings and account)."""
    quote = rt.quotes.get(key)
    if not isinstance(quote, Quote) or not quote.fresh or quote.account != account_of(conn):
        return False
    for one in _jobs(job):
        one.reuse = dict(quote.uploads)
    return bool(quote.uploads)


def _jobs(job: UpscaleJob | SetJob) -> list[UpscaleJob]:
    return list(job.tiles) if isinstance(job, SetJob) else [job]
