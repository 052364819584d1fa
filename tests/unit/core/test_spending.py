"""What a job cost and what this computer spent, from journal records: a refunded, declined or
never-started job adds nothing, an unknown cost is said and never counted as 0."""

from __future__ import annotations

import time

import pytest
from scenario_texture_upscale.core.journal import JobRecord, new_job_id
from scenario_texture_upscale.core.spending import (
    Charge,
    Total,
    charge_of,
    cost_text,
    set_total,
    spent,
    total_of,
)
from scenario_texture_upscale.core.states import JobState

NOW = time.mktime((2025, 3, 15, 12, 0, 0, 0, 0, -1))
DAY = 24 * 3600


def job(state: JobState, cost: float | None = None, job_id: str = "job_1", when: float = NOW,
        **more) -> JobRecord:
    record = JobRecord(local_id=new_job_id(), source_image="wall", state=state, cost=cost,
                       job_id=job_id, created_at=when - 60, **more)
    record.history = [["submitting", when - 30], ["submitted", when]]
    return record


@pytest.mark.parametrize(("record", "charge", "text"), [
    (job(JobState.APPLIED, 4), Charge.PAID, "Paid 4 credits."),
    (job(JobState.APPLIED, 1), Charge.PAID, "Paid 1 credit."),
    (job(JobState.ABANDONED, 2.5), Charge.PAID, "Paid 2.5 credits."),
    (job(JobState.DOWNLOADED), Charge.PAID, "Paid; its cost is unknown."),
    (job(JobState.FAILED, 1), Charge.REFUNDED,
     "Refunded: Scenario does not charge for a job that fails."),
    (job(JobState.FAILED, job_id="", declined=True), Charge.NONE, "Declined: nothing was spent."),
    (job(JobState.FAILED, job_id=""), Charge.NONE, "Nothing was spent."),
    (job(JobState.UNCERTAIN, job_id=""), Charge.MAYBE,
     "It may have been charged: check your jobs on app.scenario.com."),
    (job(JobState.CANCELLED, 1), Charge.MAYBE,
     "Cancelled at Scenario: whether it charged for it is not known."),
])
def test_what_a_job_was_charged(record, charge, text) -> None:
    assert charge_of(record) == charge and cost_text(record) == text


def test_totals_leave_out_refunds_and_declines_and_count_unknown_costs() -> None:
    records = [job(JobState.APPLIED, 4), job(JobState.APPLIED, 1), job(JobState.FAILED, 9),
               job(JobState.FAILED, job_id="", declined=True), job(JobState.DOWNLOADED),
               job(JobState.UNCERTAIN, job_id="")]
    total = total_of(records)
    assert total == Total(5, 2)
    assert total.text == "5 credits and 2 jobs of unknown cost"
    assert Total().text == "nothing" and Total(1).text == "1 credit"
    assert Total(0, 1).text == "1 job of unknown cost"


def test_spent_today_and_this_month_by_when_scenario_started_each_job() -> None:
    records = [job(JobState.APPLIED, 4), job(JobState.APPLIED, 3, when=NOW - 2 * DAY),
               job(JobState.APPLIED, 100, when=NOW - 40 * DAY), job(JobState.ABANDONED),
               job(JobState.FAILED, 7)]
    found = spent(records, now=NOW)
    assert found.today == Total(4, 1) and found.month == Total(7, 1)
    assert found.text == ("Spent today: 4 credits and 1 job of unknown cost; this month: "
                          "7 credits and 1 job of unknown cost.")
    assert spent([], now=NOW).text == "Spent today: nothing; this month: nothing."


def test_a_udim_set_is_counted_once_through_its_tiles() -> None:
    tiles = [job(JobState.DOWNLOADED, 2, tile=1001), job(JobState.DOWNLOADED, 2, tile=1002),
             job(JobState.FAILED, 2, tile=1011)]
    whole = JobRecord(local_id=new_job_id(), source_image="skin", state=JobState.APPLIED,
                      cost=4.0, tiles=[{"tile": t.tile, "local_id": t.local_id} for t in tiles])
    for tile in tiles:
        tile.tile_set = whole.local_id
    assert set_total(whole, tiles) == Total(4)
    assert cost_text(whole, [whole, *tiles]) == "Paid 4 credits."
    assert total_of([whole, *tiles]) == Total(4), "the set's own record is not counted again"
