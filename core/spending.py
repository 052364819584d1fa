"""Money in words, from the journal: what a job was charged, what this computer spent today and
this month, and why a price was not paid. No bpy.

Scenario charges a job when its paid generate starts it, and refunds a job that fails. The
journal keeps each job's cost as Scenario stated it, or none when it stated none that can be
used: such a cost is unknown, never 0, and every total says how many it leaves out.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from ..api.prices import credits_text
from ..api.wording import counted
from .journal import JobRecord
from .states import JobState

# What the preference that stops every job before it pays is called in the preferences.
STOP_BEFORE_PAYING = "Stop Before Paying"


@dataclass(frozen=True)
class NotSpent:
    """Why a price was not paid. ``by_choice``: the artist's own decision (Don't Pay, or a
    rehearsal), not a failure; ``declined``: the artist answered no."""

    message: str
    by_choice: bool = False
    declined: bool = False

    def __str__(self) -> str:
        return self.message


def rehearsal(what: str, cost: float) -> NotSpent:
    return NotSpent(f"Rehearsal: {what} would cost {credits_text(cost)}. Nothing was spent; turn "
                    f"off {STOP_BEFORE_PAYING} in the preferences (Spending) to run it.",
                    by_choice=True)


def declined(at: float, batch: bool = False) -> NotSpent:
    return NotSpent(f"Declined at {credits_text(at)}{' for the batch' if batch else ''}; "
                    "nothing was spent.", by_choice=True, declined=True)


def over_limit(cost: float, limit: float, what: str = "This upscale",
               verb: str = "costs") -> NotSpent:
    """Above the confirmation limit with nobody there to confirm (the command line)."""
    return NotSpent(f"{what} {verb} {credits_text(cost)}, above your confirmation limit of "
                    f"{credits_text(limit)}. Run it from Blender's interface to confirm, or raise "
                    "the limit in the preferences. Nothing was spent.")


class Charge(StrEnum):
    """What a job cost the artist, as far as this computer knows."""

    NONE = "none"  # never started at Scenario: nothing to pay
    PAID = "paid"  # started at Scenario: charged (its cost may be unknown)
    REFUNDED = "refunded"  # started, then failed at Scenario: Scenario refunds it
    MAYBE = "maybe"  # unknown whether Scenario started or charged it


# A job Scenario started and that still holds, or gave, its result.
_CHARGED = frozenset({JobState.SUBMITTED, JobState.SUCCEEDED, JobState.DOWNLOADED,
                      JobState.APPLIED, JobState.ABANDONED, JobState.TIMED_OUT})


def charge_of(record: JobRecord) -> Charge:
    """Of one job's record (a UDIM set's tiles are jobs of their own: see ``set_charge``)."""
    if record.state == JobState.UNCERTAIN:
        return Charge.MAYBE  # its generate may have started a job
    if not record.job_id:
        return Charge.NONE
    if record.state == JobState.FAILED:
        return Charge.REFUNDED
    if record.state == JobState.CANCELLED:
        return Charge.MAYBE  # Scenario stopped it; whether it charges for that is not known
    return Charge.PAID if record.state in _CHARGED else Charge.NONE


@dataclass(frozen=True)
class Total:
    """Credits of the jobs whose cost is known, and how many charged jobs have an unknown one."""

    credits: float = 0.0
    unknown: int = 0

    def __add__(self, other: Total) -> Total:
        return Total(self.credits + other.credits, self.unknown + other.unknown)

    @property
    def text(self) -> str:
        """'12 credits', '12 credits and 1 job of unknown cost', 'nothing'."""
        if not self.credits and not self.unknown:
            return "nothing"
        shown = credits_text(round(self.credits, 4))
        if not self.unknown:
            return shown
        unknown = f"{counted(self.unknown, 'job')} of unknown cost"
        return f"{shown} and {unknown}" if self.credits else unknown


def total_of(records: Iterable[JobRecord]) -> Total:
    """What these jobs were charged: refunded, declined and never-started ones add nothing."""
    total = Total()
    for record in records:
        if record.is_set or record.is_preview_set:
            continue  # counted through its tiles or variants
        charge = charge_of(record)
        if charge == Charge.MAYBE or (charge == Charge.PAID and record.cost is None):
            total += Total(unknown=1)
        elif charge == Charge.PAID:
            total += Total(credits=float(record.cost or 0.0))
    return total


def set_total(record: JobRecord, records: Iterable[JobRecord]) -> Total:
    """What a UDIM set's tiles, or a preview set's variants, were charged, from their own
    records."""
    return total_of(r for r in records
                    if record.local_id in (r.tile_set, r.preview_set))


def paid_at(record: JobRecord) -> float:
    """When Scenario started the job (its record's first 'submitted'), else when it was made."""
    return next((float(when) for step, when in record.history if step == JobState.SUBMITTED),
                record.created_at)


@dataclass(frozen=True)
class Spent:
    today: Total
    month: Total

    @property
    def text(self) -> str:
        return f"Spent today: {self.today.text}; this month: {self.month.text}."


def spent(records: Iterable[JobRecord], now: float | None = None) -> Spent:
    """What this computer's journal says was spent today and this calendar month (local time).
    Forgotten jobs are gone from the journal, so they are not counted."""
    now_tm = time.localtime(time.time() if now is None else now)
    today: list[JobRecord] = []
    month: list[JobRecord] = []
    for record in records:
        when = time.localtime(paid_at(record))
        if (when.tm_year, when.tm_mon) == (now_tm.tm_year, now_tm.tm_mon):
            month.append(record)
            if when.tm_mday == now_tm.tm_mday:
                today.append(record)
    return Spent(total_of(today), total_of(month))


def cost_text(record: JobRecord, records: Iterable[JobRecord] = ()) -> str:
    """One line on what the job cost, for Recent Jobs."""
    if record.declined:
        return "Declined: nothing was spent."
    if record.is_set or record.is_preview_set:
        total = set_total(record, records)
        return "Nothing was spent." if total == Total() else f"Paid {total.text}."
    charge = charge_of(record)
    if charge == Charge.REFUNDED:
        return "Refunded: Scenario does not charge for a job that fails."
    if charge == Charge.MAYBE:
        if record.state == JobState.CANCELLED:
            return "Cancelled at Scenario: whether it charged for it is not known."
        return "It may have been charged: check your jobs on app.scenario.com."
    if charge == Charge.NONE:
        return "Nothing was spent."
    return "Paid; its cost is unknown." if record.cost is None else \
        f"Paid {credits_text(record.cost)}."
