"""A batch: one upscale per distinct texture of some materials, grouped under one id.

Plain data kept by the runtime and read by the panel and the command line: what each image is
doing, why it was skipped or failed, and the summary at the end. No bpy.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from ..api.prices import credits_text
from ..api.wording import counted
from . import spending
from .job_text import STAGE_TEXT
from .roles import ROLE_LABELS
from .spend_policy import PriceQuestion, SpendPolicy
from .spending import NotSpent, Total
from .states import ItemStatus, Stage

ENDED = frozenset({ItemStatus.DONE, ItemStatus.FAILED, ItemStatus.CANCELLED, ItemStatus.SKIPPED,
                   ItemStatus.DECLINED})

# A batch job has the stage WAITING until a worker picks it up (see ``live_text``).
_STAGE_TEXT: dict[str, str] = {Stage.WAITING: "Queued", **STAGE_TEXT}


@dataclass
class BatchItem:
    image: str
    role: str
    status: ItemStatus = ItemStatus.QUEUED
    local_id: str = ""
    reason: str = ""
    preset: str = ""
    result_image: str = ""
    result_path: str = ""
    job_id: str = ""
    # What Scenario charged for it (spending.Charge): the credits when known; refunded and
    # never-started jobs cost 0, a charge of unknown size is None.
    cost: float | None = None
    charge: str = ""
    quote: float | None = None  # its price, once priced
    materials: list[str] = field(default_factory=list)  # the materials that use the image
    seconds: float | None = None

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.image, "role": self.role, "status": self.status,
            "preset": self.preset or None, "result_image": self.result_image or None,
            "result_file": self.result_path or None, "job_id": self.job_id or None,
            "local_id": self.local_id or None, "error": self.reason or None,
            "seconds": None if self.seconds is None else round(self.seconds, 1),
            "cost": self.cost, "charge": self.charge or None,
        }

    @property
    def paid(self) -> Total:
        """What it was charged, for the totals: an unknown charge is counted as such."""
        if self.charge in (spending.Charge.PAID, spending.Charge.MAYBE) and self.cost is None:
            return Total(unknown=1)
        return Total(credits=self.cost or 0.0) if self.charge == spending.Charge.PAID else Total()


def new_batch_id() -> str:
    return uuid.uuid4().hex[:12]


@dataclass
class Batch:
    scope: str
    items: list[BatchItem] = field(default_factory=list)
    batch_id: str = field(default_factory=new_batch_id)
    started: float = field(default_factory=time.monotonic)
    started_at: float = field(default_factory=time.time)
    ended: float | None = None
    # Priced whole before anything is paid (see bridge/batch_gate.py): the rules its total
    # is judged by, the question while the artist decides, and each priced image's job.
    spend: SpendPolicy | None = None
    question: PriceQuestion | None = None
    parked: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def item_for(self, local_id: str) -> BatchItem | None:
        return next((i for i in self.items if i.local_id and i.local_id == local_id), None)

    @property
    def job_ids(self) -> list[str]:
        return [i.local_id for i in self.items if i.local_id and i.status != ItemStatus.SKIPPED]

    @property
    def pending(self) -> list[BatchItem]:
        return [i for i in self.items if i.local_id and i.status not in ENDED]

    @property
    def skipped(self) -> list[BatchItem]:
        return [i for i in self.items if i.status == ItemStatus.SKIPPED]

    @property
    def elapsed(self) -> float:
        return (self.ended or time.monotonic()) - self.started

    def finish_if_done(self) -> bool:
        if self.ended is None and not self.pending:
            self.ended = time.monotonic()
        return self.ended is not None

    def counts(self) -> dict[ItemStatus, int]:
        counts = dict.fromkeys(ItemStatus, 0)
        for item in self.items:
            counts[item.status] += 1
        return counts

    @property
    def paid(self) -> Total:
        total = Total()
        for item in self.items:
            total += item.paid
        return total

    @property
    def priced(self) -> list[BatchItem]:
        return [i for i in self.items if i.status == ItemStatus.PRICED]

    def summary_text(self) -> str:
        """'4 upscaled, 1 failed in 12 s; spent 16 credits' (a failed job is refunded)."""
        c = self.counts()
        if self.question is not None:
            return (f"{counted(len(self.priced), 'image')} priced at "
                    f"{credits_text(self.question.cost)} in all: pay, or not?")
        parts = [f"{c[ItemStatus.DONE]} upscaled"]
        unhappy = (ItemStatus.FAILED, ItemStatus.CANCELLED, ItemStatus.SKIPPED, ItemStatus.DECLINED)
        parts += [f"{c[key]} {key}" for key in unhappy if c[key]]
        if c[ItemStatus.PRICED]:
            parts.append(f"{c[ItemStatus.PRICED]} priced")
        running = c[ItemStatus.QUEUED] + c[ItemStatus.RUNNING]
        if running:
            parts.append(f"{running} running")
        text = f"{', '.join(parts)} in {self.elapsed:.0f} s"
        if not self.ended:
            return text  # its paid jobs' costs are known once they end
        paid = self.paid
        return f"{text}; {'nothing spent' if paid == Total() else f'spent {paid.text}'}"

    def summary(self, blend_file: str = "") -> dict[str, Any]:
        """The machine-readable account of the batch (printed as JSON by the command line)."""
        c = self.counts()
        paid = self.paid
        return {
            "batch": self.batch_id,
            "scope": self.scope,
            "blend_file": blend_file or None,
            "images": [item.to_json() for item in self.items],
            "totals": {
                "images": len(self.items), "done": c[ItemStatus.DONE], "failed": c[ItemStatus.FAILED],
                "cancelled": c[ItemStatus.CANCELLED], "skipped": c[ItemStatus.SKIPPED],
                "declined": c[ItemStatus.DECLINED],
                "unfinished": c[ItemStatus.QUEUED] + c[ItemStatus.RUNNING],
                "seconds": round(self.elapsed, 1),
                # Credits charged, as far as known; cost_unknown: charged jobs of unknown cost.
                "cost": round(paid.credits, 4), "cost_unknown": paid.unknown,
            },
        }


def exit_code(summary: dict[str, Any]) -> int:
    """0 when nothing failed (skipped images are listed, not failures), 1 otherwise."""
    totals = summary.get("totals") or {}
    if summary.get("error"):
        return 2
    bad = totals.get("failed", 0) + totals.get("cancelled", 0) + totals.get("unfinished", 0)
    return 1 if bad else 0


def refused_summary(scope: str, message: str, blend_file: str = "") -> dict[str, Any]:
    """The summary of a batch that could not start at all."""
    summary = Batch(scope).summary(blend_file)
    summary["error"] = message
    return summary


def live_text(stage: str, label: str = "", fraction: float | None = None, step: int = 1) -> str:
    """What a running job is doing, e.g. "Generating 40 %": the one text the panel's job box,
    the batch list and the command line show. ``step`` rounds the percentage (the command
    line prints a line per change and wants fewer of them)."""
    text = label or _STAGE_TEXT.get(stage, stage.title())
    if fraction is not None:
        percent = int(round(fraction * 100) // step * step)
        text = f"{text} {percent} %"
    return text


def item_text(item: BatchItem, live: str = "") -> str:
    """The status column of the batch list."""
    if item.status == ItemStatus.SKIPPED:
        return f"Skipped: {item.reason}"
    if item.status == ItemStatus.FAILED:
        return f"Failed: {item.reason}" if item.reason else "Failed"
    if item.status == ItemStatus.CANCELLED:
        return "Cancelled"
    if item.status == ItemStatus.DECLINED:
        return "Declined: nothing was spent"
    if item.status == ItemStatus.PRICED:
        price = "price unknown" if item.quote is None else credits_text(item.quote)
        return f"Priced: {price}, nothing paid yet"
    if item.status == ItemStatus.DONE:
        return "Done"
    return live or "Queued"


def progress_line(index: int, total: int, item: BatchItem, text: str) -> str:
    return f"[{index}/{total}] {item.image} ({item.role_label}): {text}"


def short_text(stage: str, label: str = "", fraction: float | None = None) -> str:
    """``live_text`` in a word or two, for the list's status column; the same facts."""
    if fraction is not None:
        return f"{round(fraction * 100)} %"
    return _SHORT.get(stage) or live_text(stage, label)


_SHORT: dict[str, str] = {Stage.WAITING_SLOT: "Waiting", Stage.CONFIRM: "Confirm",
                          Stage.CANCELLING: "Cancelling",
                          Stage.PRICING: "Pricing", Stage.TILES: "Tiles"}


def decide(policy: SpendPolicy, costs: list[float | None]) -> NotSpent | PriceQuestion | None:
    """What a batch priced whole does with its total: None to pay, a question for the artist,
    or why nothing is paid (a rehearsal; above the limit with nobody to confirm)."""
    images = len(costs)
    total = sum(cost for cost in costs if cost is not None)
    what = f"the batch's {counted(images, 'image')}"
    if policy.never_spend:
        return spending.rehearsal(what, total)
    limit = policy.confirm_above
    if limit is None or total <= limit:
        return None
    if not policy.can_ask:
        return spending.over_limit(total, limit, what=f"The batch of {counted(images, 'image')}")
    return PriceQuestion(cost=total, limit=limit, batch_total=total, images=images)
