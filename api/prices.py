"""Credits: which prices Scenario states are usable, and how an amount of credits reads.

Scenario states a price in three places: the dry run's quote, the generate answer's
``creativeUnitsCost`` and a job's ``billing.cuCost``. A broken or hostile answer may put anything
there (-500, NaN, "9", true, null, 1e308). A price decides whether to ask before paying, so none
is compared, summed, shown or journaled unless ``usable_credits`` accepts it.
"""

from __future__ import annotations

import math
from typing import Any

from .service_text import clean_text, json_kind
from .wording import counted

# No upscale costs this much (an 8K texture at ×8 is a few thousand): a larger figure is a fault.
MAX_CREDITS = 1_000_000.0


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()  # the key was not in the answer at all


def price_problem(value: Any) -> str | None:
    """None when ``value`` is a usable price, else what it was, for a message: "-500, below
    zero", "NaN", 'the text "9"', "null", "no price at all"."""
    if value is MISSING:
        return "no price at all"
    if isinstance(value, str):
        return f'the text "{clean_text(value, 40) or ""}"'
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return json_kind(value)
    try:
        number = float(value)
    except OverflowError:
        return "a number too large for any price"
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if number < 0:
        return f"{number:g}, below zero"
    if number > MAX_CREDITS:
        return f"{number:g}, more than any upscale costs"
    return None


def unusable_price_message(problem: str) -> str:
    """What the artist reads when a price is refused: what came, and that nothing was paid."""
    return f"Scenario's price answer was not a usable number ({problem}); nothing was spent."


def usable_credits(value: Any) -> float | None:
    """``value`` as a number of credits when it is a usable price, else None."""
    return float(value) if price_problem(value) is None else None


def credits_text(amount: float) -> str:
    """'1 credit', '0 credits', '2.5 credits', '12 credits': the one unit every text uses."""
    return counted(amount, "credit")
