"""Whether a price may be spent: the artist's rules (a rehearsal, a limit to confirm above, a
batch's shared total), the question the worker asks, and why nothing was spent."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..api import errors
from ..api.prices import credits_text, price_problem, unusable_price_message
from ..api.wording import counted
from . import spending
from .scheduler import JobContext
from .spend_ledger import SpendLedger
from .spending import NotSpent
from .states import Stage


@dataclass(frozen=True)
class SpendPolicy:
    """When to ask Scenario for the price before paying, and what to do with it."""

    quote: bool = True
    never_spend: bool = False  # rehearsal: stop before the paid call
    confirm_above: float | None = None  # credits; above this the user must say yes
    can_ask: bool = True  # False in background mode: nobody is there to confirm
    # Shared by a batch's jobs: the limit then applies to the batch's total.
    ledger: SpendLedger | None = field(default=None, compare=False)

    @property
    def must_know(self) -> bool:
        """Whether the price decides anything (not only shown)."""
        return self.never_spend or self.confirm_above is not None


@dataclass(frozen=True)
class PriceQuestion:
    """What the worker asks the main thread before spending above the limit."""

    cost: float
    limit: float
    batch_total: float | None = None  # the batch's credits with this image, for a batch
    tiles: int = 0  # for a UDIM set: how many tiles ``cost`` pays for
    images: int = 0  # for a batch priced whole: how many images ``cost`` pays for
    previews: int = 0  # for previews (core/preview.py): how many ``cost`` pays for
    note: str = ""  # for previews: the crop, and what the whole texture would cost


class NotSpentError(errors.ScenarioError):
    """The job stopped before the paid call, by the user's rules; nothing was charged.
    ``by_choice`` when it is the artist's own decision (Don't Pay, a rehearsal): no failure."""

    def __init__(self, message: str, *, by_choice: bool = False, declined: bool = False) -> None:
        super().__init__(message)
        self.by_choice, self.declined = by_choice, declined

    @classmethod
    def of(cls, refusal: NotSpent) -> NotSpentError:
        return cls(refusal.message, by_choice=refusal.by_choice, declined=refusal.declined)


def usable_price(cost: Any) -> float:
    """``cost`` when it is a price that may be shown and journaled."""
    problem = price_problem(cost)
    if problem is not None:
        raise errors.UnusablePriceError(unusable_price_message(problem))
    return float(cost)


def spend_refusal(policy: SpendPolicy, ctx: JobContext, cost: float, name: str,
                  tiles: int = 0, previews: int = 0, note: str = "") -> NotSpent | None:
    """None when ``cost`` may be spent under ``policy`` (asking the user if it passes the
    limit), else why it is not: a price that is not a usable number, a rehearsal, a decline,
    or nobody there to confirm."""
    problem = price_problem(cost)
    if problem is not None:  # -500 must never pass a limit, nor lower a batch's total
        return NotSpent(unusable_price_message(problem))
    if policy.never_spend:
        what = (f"the {counted(tiles, 'tile')} of '{name}'" if tiles else
                f"the {counted(previews, 'preview')} of '{name}'" if previews
                else "this upscale")
        return spending.rehearsal(what, cost)
    limit = policy.confirm_above
    if limit is None:
        return None
    batch = policy.ledger is not None
    ledger = policy.ledger or SpendLedger(limit)  # one job alone is a batch of one
    asked = []

    def ask(cost: float, total: float) -> bool:
        if not policy.can_ask:
            return False
        asked.append(total)
        ctx.progress(Stage.CONFIRM, message=f"Waiting for your confirmation ({credits_text(total)})")
        yes = ctx.ask(PriceQuestion(cost, limit, total if batch else None, tiles=tiles,
                                    previews=previews, note=note))
        ctx.check_cancelled()  # a cancelled job has not answered for the batch
        return yes

    if ledger.commit(cost, ask, ctx.wait_for):
        return None
    return _not_paid_message(name, policy, limit, cost, asked[0] if asked else None, batch,
                             previews)


def _not_paid_message(name: str, policy: SpendPolicy, limit: float, cost: float,
                      declined_at: float | None, batch: bool, previews: int = 0) -> NotSpent:
    if declined_at is not None:
        return spending.declined(declined_at, batch)
    if policy.can_ask:  # another job of the batch asked, and the answer was no
        return NotSpent(f"The batch was declined at its price check; nothing was spent on "
                        f"'{name}'.", by_choice=True, declined=True)
    if batch:
        return NotSpent(f"The batch would pass {credits_text(limit)}. Run it from Blender's "
                        "interface to confirm, or raise the limit in the preferences. Nothing "
                        "was spent.")
    if previews:
        return spending.over_limit(cost, limit, f"The {counted(previews, 'preview')} of '{name}'",
                                   verb="costs" if previews == 1 else "cost")
    return spending.over_limit(cost, limit)
