"""A batch's confirmation limit applies to its total, and one answer holds for the batch."""

from __future__ import annotations

import threading

import pytest
from scenario_texture_upscale.core.spend_ledger import SpendLedger


def never_cancelled(condition: threading.Condition, predicate) -> None:
    """A wait that no cancel interrupts."""
    condition.wait_for(predicate)


def refuse_to_ask(cost: float, total: float) -> bool:
    raise AssertionError(f"asked at {total} although the total stays under the limit")


def test_under_the_limit_nobody_is_asked() -> None:
    ledger = SpendLedger(20)
    assert ledger.commit(9, refuse_to_ask, never_cancelled)
    assert ledger.commit(9, refuse_to_ask, never_cancelled)
    assert ledger.committed == 18


def test_the_job_passing_the_limit_asks_with_the_total_and_yes_covers_the_rest() -> None:
    ledger = SpendLedger(20)
    questions = []

    def ask(cost: float, total: float) -> bool:
        questions.append((cost, total))
        return True

    results = [ledger.commit(9, ask, never_cancelled) for _ in range(4)]
    assert results == [True] * 4
    assert questions == [(9, 27)], "asked once, when the total would pass 20"
    assert ledger.committed == 36


def test_no_stops_every_later_job_of_the_batch() -> None:
    ledger = SpendLedger(20)
    assert ledger.commit(15, refuse_to_ask, never_cancelled)
    assert not ledger.commit(9, lambda cost, total: False, never_cancelled)
    assert ledger.declined
    assert not ledger.commit(1, refuse_to_ask, never_cancelled), "even one that would fit"
    assert ledger.committed == 15


def test_jobs_reaching_the_limit_meanwhile_wait_for_the_one_answer() -> None:
    ledger = SpendLedger(10)
    asking, answer = threading.Event(), threading.Event()
    questions = []

    def ask(cost: float, total: float) -> bool:
        questions.append(total)
        asking.set()
        assert answer.wait(5)
        return True

    results: list[bool] = []
    first = threading.Thread(target=lambda: results.append(ledger.commit(8, ask, never_cancelled)))
    ledger.commit(5, refuse_to_ask, never_cancelled)
    first.start()
    assert asking.wait(5)
    others = [threading.Thread(target=lambda: results.append(ledger.commit(4, ask, never_cancelled)))
              for _ in range(3)]
    for thread in others:
        thread.start()
    answer.set()
    for thread in [first, *others]:
        thread.join(5)
    assert results == [True] * 4 and questions == [13]
    assert ledger.committed == 5 + 8 + 3 * 4


def test_a_cancelled_asker_leaves_the_question_to_the_next_job() -> None:
    class Cancelled(Exception):
        pass

    ledger = SpendLedger(10)

    def cancelled_while_asking(cost: float, total: float) -> bool:
        raise Cancelled()

    with pytest.raises(Cancelled):
        ledger.commit(12, cancelled_while_asking, never_cancelled)
    assert not ledger.declined and ledger.committed == 0
    assert ledger.commit(12, lambda cost, total: True, never_cancelled)
    assert ledger.committed == 12


def test_a_job_waiting_for_the_answer_is_cancelled_at_once() -> None:
    import queue
    import time

    from scenario_texture_upscale.core.scheduler import JobCancelled, JobContext

    ledger = SpendLedger(10)
    asking, answer = threading.Event(), threading.Event()

    def ask(cost: float, total: float) -> bool:
        asking.set()
        assert answer.wait(5)
        return True

    first = threading.Thread(target=lambda: ledger.commit(12, ask, never_cancelled))
    first.start()
    assert asking.wait(5)
    waiting = JobContext("b", threading.Event(), queue.Queue())
    outcome: list = []

    def second() -> None:
        try:
            ledger.commit(11, ask, waiting.wait_for)  # past the limit: waits for the answer
        except JobCancelled:
            outcome.append(time.monotonic())

    thread = threading.Thread(target=second)
    thread.start()
    time.sleep(0.2)
    asked = time.monotonic()
    waiting.cancel()
    thread.join(5)
    assert outcome and outcome[0] - asked < 0.1, "woken by the cancel itself"
    answer.set()
    first.join(5)
