"""What the main thread hands a worker for one upscale (plain data, no bpy), what it gets back,
and the pixel work a job runs in a helper process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ..api import errors, lora_check, model_check
from ..api.client import ScenarioClient
from ..api.params import UpscaleParams
from . import offload
from .fidelity import FidelityPlan, SourceAnalysis, analyse_source, pixel_count
from .journal import JobRecord
from .result_check import ResultLimits
from .scheduler import JobContext
from .source import Source
from .spend_policy import SpendPolicy
from .states import JobState
from .team_slots import Slot

DEFAULT_TIMEOUT_S = 30 * 60.0
DEFAULT_MAX_DOWNLOAD_BYTES = 512 * 1024 * 1024

ClientFactory = Callable[[JobContext], ScenarioClient]
T = TypeVar("T")


@dataclass
class UpscaleJob:
    """What the main thread hands to a worker: plain data, no bpy."""

    record: JobRecord
    params: UpscaleParams
    work_dir: Path
    source: Source | None = None
    style_sources: list[Source] = field(default_factory=list)
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_download_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES
    fidelity: FidelityPlan = field(default_factory=FidelityPlan)
    limits: ResultLimits = field(default_factory=ResultLimits)
    spend: SpendPolicy = field(default_factory=lambda: SpendPolicy())
    # Filled in the worker while Scenario works; not journaled (pixels), recomputed if needed.
    analysis: SourceAnalysis | None = None
    # The session's LoRA answers: shared by every job, so an id is looked up once.
    loras: lora_check.LoraCheck = field(default_factory=lambda: lora_check.SESSION,
                                        compare=False, repr=False)
    # The session's look at the upscale model: shared the same way.
    model: model_check.ModelCheck = field(default_factory=lambda: model_check.SESSION,
                                          compare=False, repr=False)
    # The team slot this job holds from its paid generate until Scenario ends it.
    slot: Slot | None = field(default=None, compare=False, repr=False)
    # Uploads a price check of the same image already made: the sha256 of the bytes sent →
    # Scenario's asset id. Bytes found here are not sent again (see ``_send``).
    reuse: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    # A price check keeps what it sent (``uploads``), for the upscale that follows.
    keep_uploads: bool = False
    uploads: dict[str, str] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class UpscaleResult:
    local_id: str
    path: str
    size: int
    sha256: str
    job_id: str
    asset_id: str
    cost: float | None
    seconds: float


def analysis(job: UpscaleJob, ctx: JobContext) -> SourceAnalysis:
    """What the result checks need from the source, read once."""
    if job.analysis is None:
        source = job.source
        job.analysis = heavy(job, ctx, analyse_source, source, job.fidelity,
                             pixels=pixel_count(source) if source is not None else 0)
    return job.analysis


def heavy(job: UpscaleJob, ctx: JobContext, fn: Callable[..., T], *args: Any, pixels: int) -> T:
    """Pixel work: for a big image in a child process (no GIL shared with Blender's UI)."""
    try:
        return offload.call(fn, *args, pixels=pixels, ctx=ctx)
    except offload.OffloadError as exc:
        if job.record.state in (JobState.PREPARED, JobState.SUBMITTING):
            raise errors.ScenarioError(f"{exc} Nothing was spent.") from exc
        raise errors.ScenarioError(
            f"{exc} The result is paid for and kept: close other programs, then use Recover in "
            "Recent Jobs to finish it without paying again.") from exc
