"""Which prices Scenario states are usable, and how credits read."""

from __future__ import annotations

import pytest
from scenario_texture_upscale.api.models import Job, Quote
from scenario_texture_upscale.api.prices import (
    MAX_CREDITS,
    MISSING,
    credits_text,
    price_problem,
    usable_credits,
)


@pytest.mark.parametrize("value", [0, 0.5, 1, 9, 12.25, MAX_CREDITS])
def test_usable_prices(value) -> None:
    assert price_problem(value) is None and usable_credits(value) == value


@pytest.mark.parametrize(("value", "problem"), [
    (-500, "-500, below zero"),
    (-0.01, "-0.01, below zero"),
    (float("nan"), "NaN"),
    (float("inf"), "Infinity"),
    (float("-inf"), "-Infinity"),
    (MAX_CREDITS + 1, "1e+06, more than any upscale costs"),
    (10**400, "a number too large for any price"),
    ("9", 'the text "9"'),
    ("\x1b[31m-1\n", 'the text "-1"'),
    (True, "true"),
    (False, "false"),
    (None, "null"),
    ([1], "a list"),
    ({"cu": 1}, "an object"),
    (MISSING, "no price at all"),
])
def test_unusable_prices_are_named(value, problem) -> None:
    assert price_problem(value) == problem and usable_credits(value) is None


@pytest.mark.parametrize(("amount", "text"), [
    (0, "0 credits"), (1, "1 credit"), (1.0, "1 credit"), (2, "2 credits"), (2.5, "2.5 credits"),
    (0.5, "0.5 credits"), (144, "144 credits"),
])
def test_credits_read_with_the_right_plural(amount, text) -> None:
    assert credits_text(amount) == text


def test_a_quote_needs_a_usable_price() -> None:
    assert Quote.from_api({"creativeUnitsCost": -500}) is None
    assert Quote.problem({"creativeUnitsCost": -500}) == "-500, below zero"
    assert Quote.problem({}) == "no price at all"
    assert Quote.problem({"creativeUnitsCost": 3}) is None
    assert Quote.from_api({"creativeUnitsCost": 3, "creativeUnitsDiscount": "x"}).discount is None


@pytest.mark.parametrize(("run_cost", "billing", "cost", "problem"), [
    (MISSING, MISSING, None, None),  # not stated: unknown, no problem (the quote stands in)
    (None, None, None, None),
    (3, 1, 3.0, None),  # the run answer's own figure wins
    (MISSING, 4, 4.0, None),
    (-500, 4, 4.0, None),  # a garbage figure beside a good one: the good one
    (-500, MISSING, None, "-500, below zero"),  # garbage alone: unknown, never 0
    ("12", float("nan"), None, 'the text "12"'),
    (True, None, None, "true"),
])
def test_a_jobs_cost_is_the_first_usable_one_it_states(run_cost, billing, cost, problem) -> None:
    job = {"jobId": "j", "status": "queued"}
    if billing is not MISSING:
        job["billing"] = {"cuCost": billing}
    parsed = Job.from_api({"job": job}, cost=run_cost)
    assert (parsed.cost, parsed.cost_problem) == (cost, problem)
