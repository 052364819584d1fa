"""Scenario's team limit: jobs wait for a slot instead of failing, learn the limit from the 429,
share the slots with other processes through the user folder, and can be cancelled for free while
they wait. Pipeline cases run against the emulator over real sockets, with its team limit on."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import requests
from scenario_texture_upscale.api.params import UpscaleParams
from scenario_texture_upscale.core import (
    job_text,
    pipeline,
    png,
    sent_marks,
    spend_policy,
    team_slots,
    upscale_job,
)
from scenario_texture_upscale.core.journal import JobRecord, Journal, new_job_id
from scenario_texture_upscale.core.scheduler import JobCancelled, JobContext, Scheduler
from scenario_texture_upscale.core.source import FileSource
from scenario_texture_upscale.core.states import EventKind, JobState, Stage
from scenario_texture_upscale.core.team_slots import SlotWaitExpired, TeamSlots

from emulator.options import EmulatorOptions
from emulator.server import EmulatorServer
from tests.unit.core.emulated import connect_to

ACCOUNT = "acct"
REPO = Path(__file__).resolve().parents[3]


def a_context(slots: TeamSlots) -> tuple[JobContext, queue.Queue]:
    events: queue.Queue = queue.Queue()
    return JobContext("job", threading.Event(), events, slots), events


def soon() -> float:
    return time.monotonic() + 10


# --- the slots themselves ---------------------------------------------------------------------

def test_before_the_limit_is_known_a_slot_is_free_at_once(tmp_path) -> None:
    slots = TeamSlots(tmp_path)
    ctx, events = a_context(slots)
    taken = [slots.acquire(ACCOUNT, ctx, soon()) for _ in range(5)]
    assert [s.index for s in taken] == [0, 1, 2, 3, 4]
    assert events.empty(), "nothing waited, nothing reported"
    assert list((tmp_path / ACCOUNT / "queue").iterdir()) == [], "no ticket when uncontended"


def test_a_learned_limit_makes_the_next_job_wait_until_a_release(tmp_path) -> None:
    slots = TeamSlots(tmp_path)
    slots.learn(ACCOUNT, 2)
    ctx, events = a_context(slots)
    first, second = (slots.acquire(ACCOUNT, ctx, soon()) for _ in range(2))
    got: list = []
    waiter = threading.Thread(target=lambda: got.append(slots.acquire(ACCOUNT, ctx, soon())))
    waiter.start()
    event = events.get(timeout=5)
    assert (event.stage, event.message) == (
        Stage.WAITING_SLOT, "Waiting for a free slot at Scenario (2 of 2 in use)")
    time.sleep(0.3)
    assert got == []
    slots.release(second)
    waiter.join(5)
    assert [s.index for s in got] == [1]
    slots.release(first)


@pytest.mark.parametrize("nonsense", [None, 0, -3, True, "2", 2.5, 10**9])
def test_a_limit_that_is_not_sane_is_not_learned(tmp_path, nonsense) -> None:
    slots = TeamSlots(tmp_path)
    slots.learn(ACCOUNT, nonsense)
    assert slots.limit(ACCOUNT) is None


def test_a_learned_limit_reaches_other_processes_and_fades(tmp_path, monkeypatch) -> None:
    TeamSlots(tmp_path).learn(ACCOUNT, 3)
    other = TeamSlots(tmp_path)  # another Blender of the same user folder
    assert other.limit(ACCOUNT) == 3
    assert TeamSlots(None).limit(ACCOUNT) is None
    later = time.time() + team_slots.LIMIT_TTL_SECONDS + 1
    monkeypatch.setattr(team_slots.time, "time", lambda: later)
    assert other.limit(ACCOUNT) is None, "a plan may have grown since"


def test_cancel_while_waiting_is_immediate(tmp_path) -> None:
    slots = TeamSlots(tmp_path)
    slots.learn(ACCOUNT, 1)
    ctx, _ = a_context(slots)
    held = slots.acquire(ACCOUNT, ctx, soon())
    waiting, _ = a_context(slots)
    outcome: list = []

    def wait() -> None:
        try:
            slots.acquire(ACCOUNT, waiting, soon())
        except JobCancelled as exc:
            outcome.append((exc, time.monotonic()))

    thread = threading.Thread(target=wait)
    thread.start()
    time.sleep(0.3)
    asked = time.monotonic()
    waiting.cancel(by_user=True)
    thread.join(5)
    assert outcome and outcome[0][1] - asked < 0.1, "woken by the cancel, not by a poll"
    assert list((tmp_path / ACCOUNT / "queue").iterdir()) == [], "its ticket is gone"
    slots.release(held)


def test_the_wait_ends_at_the_deadline_with_nothing_spent(tmp_path) -> None:
    slots = TeamSlots(tmp_path)
    slots.learn(ACCOUNT, 1)
    ctx, _ = a_context(slots)
    slots.acquire(ACCOUNT, ctx, soon())
    with pytest.raises(SlotWaitExpired, match="Nothing was sent or spent") as info:
        slots.acquire(ACCOUNT, ctx, time.monotonic() + 0.3)
    assert info.value.not_sent


def test_waiters_are_served_in_the_order_they_came(tmp_path) -> None:
    slots = TeamSlots(tmp_path)
    slots.learn(ACCOUNT, 1)
    ctx, _ = a_context(slots)
    held = slots.acquire(ACCOUNT, ctx, soon())
    order: list[int] = []

    def wait(n: int) -> None:
        slot = slots.acquire(ACCOUNT, a_context(slots)[0], soon())
        order.append(n)
        time.sleep(0.02)
        slots.release(slot)

    threads = []
    for n in range(4):
        threads.append(threading.Thread(target=wait, args=(n,)))
        threads[-1].start()
        time.sleep(0.05)
    slots.release(held)
    for thread in threads:
        thread.join(5)
    assert order == [0, 1, 2, 3]


def slot_user(*args: str, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(Path(__file__).parent / "slot_user.py"),
                             *args], **popen)


def test_a_slot_held_by_a_process_that_died_is_free_again(tmp_path) -> None:
    holder = slot_user(str(tmp_path), "hold", stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        slots = TeamSlots(tmp_path)
        assert slots.limit(ACCOUNT) == 1
        with pytest.raises(SlotWaitExpired):
            slots.acquire(ACCOUNT, a_context(slots)[0], time.monotonic() + 0.5)
        holder.kill()
        holder.wait()
        assert slots.acquire(ACCOUNT, a_context(slots)[0], soon()).index == 0
    finally:
        holder.kill()
        holder.wait()


def test_two_processes_share_the_slots_in_turn(tmp_path) -> None:
    """Two processes with two jobs each, every job taking a slot three times for 0.15 s,
    against a limit of 2: never more than 2 held at once on the computer, and neither process
    starves the other."""
    log = tmp_path / "spans.jsonl"
    procs = [slot_user(str(tmp_path), "turns", name, str(log)) for name in ("A", "B")]
    for proc in procs:
        assert proc.wait(60) == 0
    spans = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(spans) == 12
    edges = sorted([(start, 1) for _, start, _ in spans] + [(end, -1) for _, _, end in spans],
                   key=lambda e: (e[0], e[1]))
    running = peak = 0
    for _, step in edges:
        running += step
        peak = max(peak, running)
    assert peak <= 2
    by_start = [name for name, _, _ in sorted(spans, key=lambda s: s[1])]
    # In turn: each process has work done in both halves of the run.
    assert {"A", "B"} <= set(by_start[:6]) and {"A", "B"} <= set(by_start[6:]), by_start


# --- the pipeline under the emulator's team limit ---------------------------------------------

@pytest.fixture
def limited() -> EmulatorServer:
    with EmulatorServer(EmulatorOptions(job_seconds=0.5, team_parallel_jobs=2,
                                        log_requests=False)) as srv:
        yield srv


def texture(folder: Path, name: str) -> Path:
    path = folder / f"{name}.png"
    png.write_png(path, np.random.default_rng(len(name)).integers(0, 255, (16, 16, 3),
                                                                  dtype=np.uint8))
    return path


def a_job(tmp_path: Path, name: str, timeout_s: float = 60.0) -> upscale_job.UpscaleJob:
    record = JobRecord(local_id=new_job_id(), source_image=name,
                       output_dir=str(tmp_path / "out"), output_stem=name,
                       params={"upscaleFactor": 2})
    path = texture(tmp_path, name)
    return upscale_job.UpscaleJob(record=record, params=UpscaleParams(upscale_factor=2),
                                  work_dir=tmp_path / "work" / name, source=FileSource(str(path),
                                                                                       path.name),
                                  spend=spend_policy.SpendPolicy(quote=False), timeout_s=timeout_s)


def generates(server: EmulatorServer, status: int | None = None) -> list[dict]:
    return [r for r in server.requests() if r["path"].startswith("/v1/generate")
            and "dryRun" not in (r.get("query") or {})
            and (status is None or r["status"] == status)]


def run_all(jobs: list[upscale_job.UpscaleJob], journal: Journal, server: EmulatorServer,
            slots: TeamSlots, parallel: int) -> tuple[dict[str, object], list]:
    runner = Scheduler(parallel, slots)
    for job in jobs:
        runner.submit(job.record.local_id,
                      lambda ctx, job=job: pipeline.run(job, ctx, journal, connect_to(server)))
    ends: dict[str, object] = {}
    seen = []
    while len(ends) < len(jobs):
        for event in runner.drain(timeout=30):
            seen.append(event)
            if event.kind != EventKind.PROGRESS:
                ends[event.local_id] = event.payload if event.payload is not None else event.kind
    assert runner.shutdown()
    return ends, seen


def test_more_jobs_than_the_team_limit_all_finish_paid_once_each(limited, tmp_path) -> None:
    journal = Journal(tmp_path / "journal")
    jobs = [a_job(tmp_path, f"t{i}") for i in range(6)]
    slots = TeamSlots(tmp_path / "slots")

    ends, events = run_all(jobs, journal, limited, slots, parallel=4)

    assert all(isinstance(v, upscale_job.UpscaleResult) for v in ends.values()), ends
    assert len(generates(limited, 200)) == 6, "one paid generate per texture"
    # Four started at once before the limit was known: two were refused and taught it;
    # from then on each waited for a slot instead of asking.
    assert len(generates(limited, 429)) == 2
    account = connect_to(limited)(a_context(slots)[0]).transport.account
    assert slots.limit(account) == 2
    texts = {e.message for e in events if e.stage == Stage.WAITING_SLOT}
    assert "Waiting for a free slot at Scenario (2 of 2 in use)" in texts
    refused = 0
    for job in jobs:
        record = journal.load(job.record.local_id)
        assert record.state == JobState.DOWNLOADED
        marks = [h[0] for h in record.history if h[0] in ("sending", "refused")]
        refused += marks.count("refused")
        assert marks[-1] == "sending" and marks.count("sending") == marks.count("refused") + 1
    assert refused == 2


def test_other_clients_holding_the_slots_mean_backoff_until_one_ends(limited, tmp_path) -> None:
    # Two jobs of another client (another computer of the team) hold both slots.
    auth = ("demo-key", "demo-secret")
    asset = requests.post(f"{limited.base_url}/assets", auth=auth, timeout=10, json={
        "name": "x.png", "image": "data:image/png;base64,"
        + __import__("base64").b64encode(texture(tmp_path, "other").read_bytes()).decode()})
    asset_id = asset.json()["asset"]["id"]
    for _ in range(2):
        answer = requests.post(f"{limited.base_url}/generate/custom/model_sc-upscale-flux-texture",
                               json={"image": asset_id}, auth=auth, timeout=10)
        assert answer.status_code == 200
    journal = Journal(tmp_path / "journal")
    job = a_job(tmp_path, "mine")

    ends, events = run_all([job], journal, limited, TeamSlots(tmp_path / "slots"), parallel=4)

    assert isinstance(ends[job.record.local_id], upscale_job.UpscaleResult)
    assert len(generates(limited, 429)) >= 1 and len(generates(limited, 200)) == 3
    texts = [e.message for e in events if e.stage == Stage.WAITING_SLOT]
    assert any(t.startswith("Waiting for a free slot at Scenario (2 of 2 in use); trying again in")
               for t in texts), texts
    history = [h[0] for h in journal.load(job.record.local_id).history]
    assert history.count("refused") >= 1 and history[-1] == JobState.DOWNLOADED


def test_cancel_while_waiting_for_a_slot_costs_nothing(limited, tmp_path) -> None:
    journal = Journal(tmp_path / "journal")
    slots = TeamSlots(tmp_path / "slots")
    jobs = [a_job(tmp_path, f"c{i}") for i in range(3)]
    limited.set_faults([{"kind": "job_never_finishes", "times": 2}])
    runner = Scheduler(4, slots)
    for job in jobs:
        runner.submit(job.record.local_id,
                      lambda ctx, job=job: pipeline.run(job, ctx, journal, connect_to(limited)))
    waiting = ""
    deadline = time.monotonic() + 20
    while not waiting and time.monotonic() < deadline:
        waiting = next((e.local_id for e in runner.drain(timeout=1)
                        if e.stage == Stage.WAITING_SLOT), "")
    assert waiting, "one job waits for a slot"
    paid_before = len(generates(limited, 200))
    asked = time.monotonic()
    assert runner.cancel(waiting, by_user=True)
    ended = []
    while not ended:
        ended = [e for e in runner.drain(timeout=5) if e.local_id == waiting
                 and e.kind != EventKind.PROGRESS]
    took = time.monotonic() - asked

    assert ended[0].kind == EventKind.CANCELLED and took < 1.0
    record = journal.load(waiting)
    assert record.state == JobState.FAILED and record.error == job_text.CANCELLED_UNPAID
    assert len(generates(limited, 200)) == paid_before == 2
    runner.shutdown()
    limited.reset()  # ends the stuck jobs


def test_a_job_that_waits_past_its_limit_fails_unpaid(limited, tmp_path) -> None:
    limited.set_faults([{"kind": "job_never_finishes", "times": 2}])
    journal = Journal(tmp_path / "journal")
    holders = [a_job(tmp_path, f"h{i}") for i in range(2)]
    late = a_job(tmp_path, "late", timeout_s=1.5)
    runner = Scheduler(4, TeamSlots(tmp_path / "slots"))
    for job in holders:
        runner.submit(job.record.local_id,
                      lambda ctx, job=job: pipeline.run(job, ctx, journal, connect_to(limited)))
    while len(generates(limited, 200)) < 2:
        time.sleep(0.02)
    runner.submit("late", lambda ctx: pipeline.run(late, ctx, journal, connect_to(limited)))
    ended = []
    while not ended:
        ended = [e for e in runner.drain(timeout=10) if e.local_id == "late"
                 and e.kind != EventKind.PROGRESS]
    assert ended[0].kind == EventKind.FAILED
    assert "Gave up waiting for a free slot at Scenario" in ended[0].message
    record = journal.load(late.record.local_id)
    assert record.state == JobState.FAILED and not sent_marks.was_sent(record)
    assert len(generates(limited, 200)) == 2
    runner.shutdown()
    limited.reset()


def test_a_resumed_job_refused_before_is_not_taken_for_sent(tmp_path) -> None:
    record = JobRecord(local_id="r", source_image="brick",
                       history=[["submitting", 1.0], ["sending", 2.0], ["refused", 3.0]])
    assert not sent_marks.was_sent(record)
    record.history.append(["sending", 4.0])
    assert sent_marks.was_sent(record)


def test_the_slot_is_given_back_when_scenario_ends_the_job(limited, tmp_path) -> None:
    journal = Journal(tmp_path / "journal")
    slots = TeamSlots(tmp_path / "slots")
    job = a_job(tmp_path, "one")
    ctx, _ = a_context(slots)
    pipeline.run(job, ctx, journal, connect_to(limited))
    account = connect_to(limited)(ctx).transport.account
    assert slots.held(account) == 0 and job.slot is None
    assert os.listdir(tmp_path / "slots" / account / "queue") == []
