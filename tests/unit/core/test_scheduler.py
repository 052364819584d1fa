import threading

from scenario_texture_upscale.core.scheduler import Scheduler
from scenario_texture_upscale.core.states import EventKind


def drain_until(pool, kinds, timeout=5.0):
    seen = []
    while not any(e.kind in kinds for e in seen):
        batch = pool.drain(timeout=timeout)
        assert batch, f"no event within {timeout}s; seen {seen}"
        seen += batch
    return seen


def test_result_and_progress_arrive_as_events():
    pool = Scheduler(2)

    def job(ctx):
        ctx.progress("uploading", 0.5, "half")
        return 42

    pool.submit("a", job)
    events = drain_until(pool, {EventKind.FINISHED})
    assert [(e.kind, e.stage, e.fraction) for e in events] == [
        (EventKind.PROGRESS, "uploading", 0.5), (EventKind.FINISHED, "", None)]
    assert events[-1].payload == 42
    assert not pool.is_active("a")
    assert pool.shutdown()


def test_failure_carries_a_user_message_and_the_exception():
    pool = Scheduler(1, error_message=lambda exc: f"Oops: {exc}")

    def job(ctx):
        raise ValueError("bad input")

    pool.submit("a", job)
    [event] = drain_until(pool, {EventKind.FAILED})
    assert event.message == "Oops: bad input"
    assert isinstance(event.payload, ValueError)
    pool.shutdown()


def test_cancel_stops_a_waiting_job():
    pool = Scheduler(1)
    started = threading.Event()

    def job(ctx):
        started.set()
        while not ctx.cancel_event.wait(0.01):
            pass
        ctx.check_cancelled()

    pool.submit("a", job)
    assert started.wait(5)
    assert pool.cancel("a")
    [event] = drain_until(pool, {EventKind.CANCELLED})
    assert event.local_id == "a"
    assert not pool.cancel("a")
    pool.shutdown()


def test_concurrency_is_bounded():
    pool = Scheduler(2)
    lock = threading.Lock()
    running = [0]
    peak = [0]
    release = threading.Event()

    def job(ctx):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        release.wait(5)
        with lock:
            running[0] -= 1

    for i in range(5):
        pool.submit(f"j{i}", job)
    threading.Timer(0.3, release.set).start()
    finished = []
    while len(finished) < 5:
        finished += [e for e in pool.drain(timeout=5) if e.kind == EventKind.FINISHED]
    assert peak[0] == 2
    pool.shutdown()


def test_shutdown_cancels_running_jobs_and_joins_threads():
    pool = Scheduler(2)
    started = threading.Event()

    def job(ctx):
        started.set()
        ctx.cancel_event.wait(30)
        ctx.check_cancelled()

    pool.submit("long", job)
    assert started.wait(5)
    assert pool.shutdown(timeout=5) is True
    try:
        pool.submit("late", job)
    except RuntimeError:
        pass
    else:
        raise AssertionError("a closed pool must refuse new jobs")


def test_lowering_the_limit_takes_effect_without_interrupting_jobs():
    pool = Scheduler(3)
    lock = threading.Lock()
    running = [0]
    peaks = []
    gate = threading.Event()

    def job(ctx):
        with lock:
            running[0] += 1
            peaks.append(running[0])
        gate.wait(5)
        with lock:
            running[0] -= 1

    for i in range(3):
        pool.submit(f"first{i}", job)
    for _ in range(500):  # lower the limit only once all three are running
        with lock:
            if running[0] == 3:
                break
        threading.Event().wait(0.01)
    pool.set_parallel(1)
    for i in range(3):
        pool.submit(f"second{i}", job)
    threading.Timer(0.2, gate.set).start()
    finished = []
    while len(finished) < 6:
        finished += [e for e in pool.drain(timeout=5) if e.kind == EventKind.FINISHED]
    assert max(peaks[:3]) == 3, "the first three were already running"
    assert peaks[3:] == [1, 1, 1], "then one at a time"
    assert pool.parallel == 1
    pool.shutdown()


def test_threads_are_started_off_the_submitting_thread(monkeypatch):
    # Thread.start() waits for the new thread to run: the UI thread must never pay for that.
    starters = []
    plain = threading.Thread.start

    def start(thread):
        starters.append((thread.name, threading.current_thread().name))
        plain(thread)

    monkeypatch.setattr(threading.Thread, "start", start)
    pool = Scheduler(3, name="pool")
    release = threading.Event()
    running = threading.Semaphore(0)

    def job(ctx):
        running.release()
        release.wait(5)

    for i in range(5):
        pool.submit(f"j{i}", job)
    assert all(running.acquire(timeout=5) for _ in range(3)), "three run at once"
    release.set()
    finished = []
    while len(finished) < 5:
        finished += [e for e in pool.drain(timeout=5) if e.kind == EventKind.FINISHED]
    workers = [(name, by) for name, by in starters if name != "pool-spawner"]
    assert len(workers) == 3, "one thread per job up to the limit"
    assert {by for _, by in workers} == {"pool-spawner"}
    # Idle threads are reused: a later job starts no new thread.
    pool.submit("later", lambda ctx: None)
    assert [e.kind for e in pool.drain(timeout=5)] == [EventKind.FINISHED]
    assert len([s for s in starters if s[0] != "pool-spawner"]) == 3
    assert pool.shutdown(timeout=5) is True
