"""Main thread: the end of each job of a batch — applied and recorded in its line —, the
batch's total once every image is priced (paid, asked once, or refused), and cancels."""

from __future__ import annotations

from ..core import job_view, spending, udim_set
from ..core.batch import Batch, BatchItem, decide
from ..core.job_text import CANCELLED_UNPAID
from ..core.journal import JobRecord
from ..core.spend_policy import NotSpentError, PriceQuestion
from ..core.states import ItemStatus, ViewStatus
from . import apply, runtime


def conclude(rt: runtime.Runtime, batch: Batch, view: job_view.JobView) -> apply.Outcome:
    """Applies one ended job of ``batch`` (main thread) and records how it went. A job that
    was only priced waits for the batch's total (``settle``)."""
    item = batch.item_for(view.local_id)
    if view.status == ViewStatus.PRICED:
        if item is not None and item.status == ItemStatus.RUNNING:
            item.status, item.quote = ItemStatus.PRICED, view.result
        return settle(rt, batch) or apply.Outcome("INFO", "")
    if view.record is None:  # ended before its job started: skipped or cancelled
        if item is not None and item.status != ItemStatus.SKIPPED:
            item.status, item.reason = ItemStatus.CANCELLED, runtime.NOT_STARTED
        settle(rt, batch)
        batch.finish_if_done()
        reason = item.reason if item is not None else view.message
        skipped = item is not None and item.status == ItemStatus.SKIPPED
        return apply.Outcome("WARNING", f"Skipped: {reason}" if skipped else runtime.NOT_STARTED)
    outcome = apply.conclude(rt, view)
    if item is not None:
        record = view.record
        item.seconds = view.elapsed
        item.job_id = record.job_id
        _charged(rt, item, record)
        if outcome.applied is not None:
            item.status = ItemStatus.DONE
            item.result_image, item.result_path = outcome.applied.image_name, outcome.applied.path
        elif view.status == ViewStatus.CANCELLED:
            item.status, item.reason = ItemStatus.CANCELLED, outcome.message
        elif isinstance(view.error, NotSpentError) and view.error.declined:
            item.status, item.reason = ItemStatus.DECLINED, view.message
        else:
            item.status, item.reason = ItemStatus.FAILED, view.message or outcome.message
    settle(rt, batch)  # a failed price leaves the others to be judged without it
    batch.finish_if_done()
    return outcome


def _charged(rt: runtime.Runtime, item: BatchItem, record: JobRecord) -> None:
    """What Scenario charged for the image, as far as this computer knows."""
    if record.is_set:
        total = spending.set_total(record, [*rt.recent, *_tile_records(rt, record)])
        charge = spending.Charge.PAID if total != spending.Total() else spending.Charge.NONE
        item.cost = None if total.unknown else total.credits
    else:
        charge = spending.charge_of(record)
        item.cost = (record.cost if charge == spending.Charge.PAID
                     else None if charge == spending.Charge.MAYBE else 0.0)
    item.charge = charge


def _tile_records(rt: runtime.Runtime, record: JobRecord) -> list[JobRecord]:
    """A set's tiles as this session holds them (their records may not be in Recent Jobs)."""
    found = []
    for view in rt.jobs.values():
        if view.record is not None and view.record.tile_set == record.local_id:
            found.append(view.record)
    return found


def settle(rt: runtime.Runtime, batch: Batch) -> apply.Outcome | None:
    """Once every image of a batch priced whole has its price (or ended without one), pays for
    them, asks the artist once, or ends them unpaid. None while some are still on their way,
    or when there is nothing to say."""
    if batch.spend is None or batch.question is not None or not batch.priced:
        return None
    if any(i.status in (ItemStatus.QUEUED, ItemStatus.RUNNING) for i in batch.items):
        return None
    decision = decide(batch.spend, [item.quote for item in batch.priced])
    if decision is None:
        _pay_all(rt, batch)
        return None
    if isinstance(decision, PriceQuestion):
        batch.question = decision
        return None
    # A rehearsal is the artist's choice: its images are listed as skipped, with the price.
    _end_all(rt, batch, decision, ItemStatus.SKIPPED if decision.by_choice else ItemStatus.FAILED)
    return apply.Outcome("INFO" if decision.by_choice else "WARNING", decision.message)


def answer(rt: runtime.Runtime, batch: Batch, pay: bool) -> bool:
    """The artist's answer to the batch's total: pay for every priced image, or none."""
    question = batch.question
    if question is None:
        return False
    batch.question = None
    if pay:
        _pay_all(rt, batch)
    else:
        _end_all(rt, batch, spending.declined(question.cost, batch=True), ItemStatus.DECLINED)
    return True


def _pay_all(rt: runtime.Runtime, batch: Batch) -> None:
    for item in batch.priced:
        job, connect = batch.parked.pop(item.local_id)
        rt.pay(rt.jobs[item.local_id], job, connect)
        item.status = ItemStatus.RUNNING


def _end_all(rt: runtime.Runtime, batch: Batch, refusal: spending.NotSpent,
             status: ItemStatus) -> None:
    for item in batch.priced:
        job, _ = batch.parked.pop(item.local_id)
        # Nothing was paid, nothing can be lost: no need to wait for the disk here.
        udim_set.end_unpaid(job, rt.journal, refusal, durable=False)
        rt.remember(job.record)
        view = rt.jobs[item.local_id]
        view.status, view.message = ViewStatus.FAILED, refusal.message
        item.status, item.reason, item.charge = status, refusal.message, spending.Charge.NONE
        item.cost = 0.0
    batch.finish_if_done()


def cancel(rt: runtime.Runtime, batch: Batch, by_user: bool = False) -> int:
    """Stops every job of the batch that has not ended; returns how many were stopped. The
    priced ones paid nothing and are ended at once."""
    stopped = sum(1 for item in batch.pending
                  if item.status != ItemStatus.PRICED and rt.cancel(item.local_id, by_user))
    priced = len(batch.priced)
    if priced:
        batch.question = None
        _end_all(rt, batch, spending.NotSpent(CANCELLED_UNPAID), ItemStatus.CANCELLED)
    return stopped + priced


def cancel_one(rt: runtime.Runtime, local_id: str) -> bool:
    """Cancels a priced image of a batch (one waiting for the batch's total): nothing was
    paid. False when ``local_id`` is no such image."""
    for batch in rt.batches.values():
        item = batch.item_for(local_id)
        if item is not None and item.status == ItemStatus.PRICED:
            job, _ = batch.parked.pop(local_id)
            udim_set.end_unpaid(job, rt.journal, spending.NotSpent(CANCELLED_UNPAID),
                                durable=False)
            rt.remember(job.record)
            rt.jobs[local_id].status = ViewStatus.CANCELLED
            item.status, item.reason = ItemStatus.CANCELLED, CANCELLED_UNPAID
            item.charge, item.cost = spending.Charge.NONE, 0.0
            batch.question = None  # its total counted this one: judged again without it
            settle(rt, batch)  # the others may have waited for this one only
            batch.finish_if_done()
            return True
    return False
