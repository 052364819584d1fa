"""`make bench`: the add-on in real Blender (the bpy module) against the emulator on loopback, in
its own process. Prints a table and writes bench/results.json.

Sections: 1 main-thread steps over whole upscales (1K/4K/8K × file PNG, file JPEG, packed,
generated), 2 end-to-end overhead against the official scenario-sdk, 3 a batch of 16 (against a
service queue, against Scenario's team limit, and two Blenders sharing that limit), 4 memory of
the api client (own process), 5 bytes uploaded, 6 polling latency and cadence on a long job,
7 UDIM sets: from the last tile's result to the set applied, 8 previews of a 512 px crop
(main-thread steps, time against upscaling a 512 px file, price against the whole texture's).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(BENCH))

from tools import dev_addon  # noqa: E402

# Blender reads its user folder once, when bpy is first imported.
USER_DIR = dev_addon.isolate_user_folder("scenario-bench-")
for _name in ("SCENARIO_SDK_API_KEY", "SCENARIO_SDK_API_SECRET", "SCENARIO_BASE_URL"):
    os.environ.pop(_name, None)

import addon as harness  # noqa: E402
import bpy  # noqa: E402
import emulators  # noqa: E402
import fixtures  # noqa: E402
import numpy as np  # noqa: E402
import previews  # noqa: E402
import team_limit  # noqa: E402
import udim_sets  # noqa: E402
from canary import Canary  # noqa: E402
from sdk_flow import SdkFlow  # noqa: E402

from emulator.control_client import ControlClient  # noqa: E402

JOB_SECONDS = 2.0
FACTOR = 2  # the scene default; 8K × 2 = 16384² is allowed by raising the emulator's limit
BIG_OUTPUT = 16384 * 16384
KINDS = ("file-png", "file-jpeg", "packed", "generated")
OVERHEAD_PAIRS = 5
SDK_POLL_S = 1.0
SDK_DOCS_POLL_S = 3.0  # Scenario's job.wait() helper default (docs.scenario.com/sdk-helpers/jobs)
SPREAD_SECONDS = (2.0, 2.2, 2.4, 2.6, 2.8)
BATCH = 16
BATCH_CONCURRENCY = 4
LONG_JOB_SECONDS = 60.0
FIXTURES = Path(tempfile.gettempdir()) / "scenario-bench-fixtures"
# Development shortcuts: BENCH_SIZES=1K, BENCH_KINDS=packed, BENCH_ONLY=1,2 (the table then
# shows what ran).
RUN_SIZES = [s for s in os.environ.get("BENCH_SIZES", "1K,4K,8K").split(",") if s in harness.SIZES]
ONLY = set(os.environ.get("BENCH_ONLY", "1,2,3,4,6,7,8").split(","))
RUN_KINDS = [k for k in os.environ.get("BENCH_KINDS", ",".join(KINDS)).split(",") if k in KINDS]
# Diagnosis only: BENCH_NO_CHECKS=1 turns off the result checks (tiling, alpha) to see their cost.
NO_CHECKS = os.environ.get("BENCH_NO_CHECKS") == "1"

TARGET_STEP_MS = 16.0
TARGET_TICK_P99_MS = 2.0
TARGET_OVERHEAD = 1.05
TARGET_BATCH = 1.15


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else 0.0


def log(message: str) -> None:
    print(message, flush=True)


# --- 1, 5 and part of 6: whole upscales, every main-thread step timed -----------------------
def main_thread(addon: harness.Addon, base_url: str,
                textures: dict[str, dict[str, Path]]) -> list[dict[str, Any]]:
    control = ControlClient(base_url)
    rows = []
    with Canary() as canary:
        for label in RUN_SIZES:
            for kind in RUN_KINDS:
                harness.clear_scene()
                image, readout_ref = harness.make_image(kind, label, textures)
                control.reset()
                run = addon.upscale(image, f"{label} {kind}")
                requests_log = control.requests()
                rows.append(describe_run(run, kind, label, base_url, textures, requests_log,
                                         readout_ref))
                r = rows[-1]
                log(f"  {label:>2} {kind:<9} invoke {r['invoke_ms']:7.1f} ms (read-out "
                    f"{r['readout_ms']:6.1f})  ticks max {r['tick_max_ms']:5.2f} p99 "
                    f"{r['tick_p99_ms']:5.2f}  steps max {r['step_max_ms']:5.2f}  late max "
                    f"{r['late_max_ms']:6.1f}  apply "
                    f"{r['conclude_ms']:5.1f} ms  total {r['total_s']:5.1f} s  "
                    f"{'applied' if r['applied'] else 'NOT APPLIED: ' + r['outcome'][:90]}")
    for r in rows:
        # Each slow tick, with how long the idle canary process stalled at that moment.
        r["slow_ticks"] = [[*tick, canary.stalled_near(r["started_at"] + tick[0])]
                           for tick in r["slow_ticks"]]
        r["canary_stalls"] = sum(1 for tick in r["slow_ticks"] if tick[-1] > 0)
    return rows


def describe_run(run: harness.Run, kind: str, label: str, base_url: str,
                 textures: dict[str, dict[str, Path]], requests_log: list[dict[str, Any]],
                 readout_ref: float) -> dict[str, Any]:
    record = run.record
    sent, how = harness.upload_bytes(requests_log)
    row: dict[str, Any] = {
        "kind": kind, "size": label, "applied": run.applied, "outcome": run.outcome,
        "prepare_ms": run.prepare_ms, "start_ms": run.start_ms, "invoke_ms": run.invoke_ms,
        "readout_ms": run.readout_ms, "readout_reference_ms": readout_ref,
        "ticks": len(run.ticks_ms), "tick_max_ms": max(run.ticks_ms, default=0.0),
        "steps": len(run.steps_ms), "step_max_ms": max(run.steps_ms, default=0.0),
        "cpu_max_ms": run.cpu_max_ms,
        "tick_p99_ms": pct(run.ticks_ms, 99), "tick_median_ms": pct(run.ticks_ms, 50),
        "late_max_ms": max(run.late_ms, default=0.0), "late_p99_ms": pct(run.late_ms, 99),
        "conclude_ms": run.conclude_ms, "total_s": run.total_s,
        "upload_bytes": sent, "upload_way": how,
        "job_polls": len(harness.calls_named(run, "get_job")),
        "started_at": run.started_at,
        "slow_ticks": run.slow[:40],
        "gc_pauses": [(round(t - run.started_at, 2), gen, round(ms, 1), thread)
                      for t, gen, ms, thread in harness.GC_PAUSES.between(run.started_at, run.applied_at)],
    }
    # Generated images: the pixel read-out is unavoidable (timed apart); packed ones: the one
    # copy of Blender's packed_file.data (docs/decisions.md), timed apart the same way.
    unavoidable = run.readout_ms if kind in ("generated", "packed") else 0.0
    row["invoke_rest_ms"] = max(0.0, run.invoke_ms - unavoidable)
    row["max_step_ms"] = max(run.invoke_ms, row["tick_max_ms"], row["step_max_ms"], run.conclude_ms)
    row["max_step_rest_ms"] = max(row["invoke_rest_ms"], row["tick_max_ms"], row["step_max_ms"],
                                  run.conclude_ms)
    if kind != "generated":
        source = textures[label]["jpeg" if kind == "file-jpeg" else "png"]
        row["file_bytes"] = source.stat().st_size
        if record is not None and record.input_asset_id:
            import hashlib

            digest = hashlib.sha256(source.read_bytes()).hexdigest()
            row["uploaded_identical"] = harness.uploaded_sha256(base_url, record.input_asset_id) == digest
    row.update(latency(run, base_url))
    row["breakdown"] = breakdown(run)
    return row


def latency(run: harness.Run, base_url: str) -> dict[str, Any]:
    seen = harness.seen_success(run)
    record = run.record
    if seen is None or record is None or not record.job_id:
        return {}
    done = harness.success_time(base_url, record.job_id)
    if done is None:
        return {}
    return {"server_success_at": done, "poll_saw_success_at": seen.end,
            "notice_latency_s": seen.end - done}


def breakdown(run: harness.Run) -> dict[str, float]:
    """Where one upscale's wall time went, in seconds, from the client's timed calls."""
    def span(name: str) -> tuple[float, float] | None:
        calls = harness.calls_named(run, name)
        return (calls[0].start, calls[-1].end) if calls else None

    out: dict[str, float] = {"invoke": run.invoke_ms / 1e3}
    upload, price, submit = span("upload_image"), span("quote"), span("run")
    download, seen = span("download_asset"), harness.seen_success(run)
    invoked = run.started_at + run.invoke_ms / 1e3
    if upload:
        out["to_worker"] = upload[0] - invoked  # thread start, client, source preparation
        out["upload"] = upload[1] - upload[0]
    if price:
        out["price"] = price[1] - price[0]
    if submit:
        out["submit"] = submit[1] - submit[0]
        if seen:
            out["wait"] = seen.end - submit[1]
    if download:
        out["download"] = download[1] - download[0]
        done = harness.history_time(run.record, "downloaded")
        if done:
            out["after_download"] = done - download[1]  # fidelity checks, move, journal
            out["to_main_thread"] = (run.applied_at - run.conclude_ms / 1e3) - done
    out["apply"] = run.conclude_ms / 1e3
    out["total"] = run.total_s
    return out


# --- 2: end to end against the official SDK ---------------------------------------------------
def overhead(addon: harness.Addon, base_url: str, textures: dict[str, dict[str, Path]],
             work: Path) -> dict[str, Any]:
    source = textures["1K"]["png"]
    sdk = SdkFlow(base_url, harness.API_KEY, harness.API_SECRET)
    ours: list[harness.Run] = []
    theirs, theirs_docs = [], []
    try:
        def one_ours(tag: str) -> harness.Run:
            harness.clear_scene()
            image = bpy.data.images.load(str(source), check_existing=False)
            harness.use_in_material(image)
            return addon.upscale(image, tag)

        def one_sdk(poll: float) -> Any:
            dest = work / f"sdk-{time.monotonic_ns()}.png"
            return sdk.run(source, dest, FACTOR, poll)

        one_ours("warm-up")
        one_sdk(SDK_POLL_S)
        for i in range(OVERHEAD_PAIRS):
            ours.append(one_ours(f"pair {i}"))
            theirs.append(one_sdk(SDK_POLL_S))
            log(f"  pair {i}: add-on {ours[-1].total_s:.3f} s, SDK (1 s polls) "
                f"{theirs[-1].total_s:.3f} s")
        for _ in range(3):
            theirs_docs.append(one_sdk(SDK_DOCS_POLL_S))
    finally:
        sdk.close()
    ratios = [o.total_s / t.total_s for o, t in zip(ours, theirs, strict=True)]
    parts = [breakdown(o) for o in ours]
    keys = sorted({k for p in parts for k in p})
    sdk_latency = []
    for t in theirs:
        done = harness.success_time(base_url, t.job_id)
        if done is not None:
            sdk_latency.append(t.seen_at - done)
    return {
        "source": source.name, "file_bytes": source.stat().st_size,
        "ours_s": [o.total_s for o in ours], "sdk_s": [t.total_s for t in theirs],
        "ratios": ratios, "median_ratio": statistics.median(ratios),
        "median_ours_s": statistics.median(o.total_s for o in ours),
        "median_sdk_s": statistics.median(t.total_s for t in theirs),
        "sdk_docs_poll_s": SDK_DOCS_POLL_S,
        "median_sdk_docs_s": statistics.median(t.total_s for t in theirs_docs),
        "ours_breakdown_median": {k: statistics.median(p.get(k, 0.0) for p in parts) for k in keys},
        "sdk_breakdown_median": {
            k: statistics.median(getattr(t, k) for t in theirs)
            for k in ("upload_s", "submit_s", "wait_s", "fetch_s", "total_s")
        },
        "sdk_polls": [t.polls for t in theirs],
        "sdk_notice_latency_s": sdk_latency,
        "ours_notice_latency_s": [latency(o, base_url).get("notice_latency_s") for o in ours],
    }


def overhead_spread(addon: harness.Addon, textures: dict[str, dict[str, Path]], work: Path) -> dict[str, Any]:
    """The same pair at several job lengths, one emulator each: a fixed 1 s poll lands just
    after a 2 s job's end or up to 1 s late depending on the phase, and the emulator's timeline
    is exact, so a single length makes the baseline lucky or unlucky every time."""
    source = textures["1K"]["png"]
    pairs = []
    for seconds in SPREAD_SECONDS:
        proc, url = emulators.start(["--job-seconds", str(seconds)])
        sdk = SdkFlow(url, harness.API_KEY, harness.API_SECRET)
        try:
            addon.configure(url, work / "out", parallel=BATCH)
            harness.clear_scene()
            image = bpy.data.images.load(str(source), check_existing=False)
            harness.use_in_material(image)
            ours = addon.upscale(image, f"spread {seconds}")
            theirs = sdk.run(source, work / f"sdk-spread-{seconds}.png", FACTOR, SDK_POLL_S)
        finally:
            sdk.close()
            emulators.stop(proc)
        pairs.append({"job_seconds": seconds, "ours_s": ours.total_s, "sdk_s": theirs.total_s,
                      "ratio": ours.total_s / theirs.total_s})
        log(f"  {seconds:.1f} s job: add-on {ours.total_s:.3f} s, SDK (1 s polls) {theirs.total_s:.3f} s")
    return {"pairs": pairs, "median_ratio": statistics.median(p["ratio"] for p in pairs)}


# --- 3: a batch of 16 -------------------------------------------------------------------------
def batch(addon: harness.Addon, base_url: str, textures: dict[str, dict[str, Path]],
          work: Path, slots: int = BATCH_CONCURRENCY) -> dict[str, Any]:
    """The batch operator's path over BATCH textures; ``slots`` jobs can run at the service at
    once (its queue, or the team's limit)."""
    ControlClient(base_url).reset()
    harness.clear_scene()
    folder = work / "batch"
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(BATCH):
        path = folder / f"batch_{i:02d}.png"
        shutil.copyfile(textures["1K"]["png"], path)
        harness.use_in_material(bpy.data.images.load(str(path), check_existing=False))
    started = time.time()
    # The batch operator's way: one job per image, started a few per app-timer step.
    _, runs = addon.start_batch(started)
    addon.follow(runs, batch=True)
    addon.end_batch(runs)
    ended = max(r.applied_at for r in runs)
    steps = runs[0].steps_ms
    ticks = [t for r in runs for t in r.ticks_ms]
    lates = [t for r in runs for t in r.late_ms]
    done = [harness.success_time(base_url, r.record.job_id) for r in runs if r.record.job_id]
    created = [min(c.end for c in harness.calls_named(r, "run"))
               for r in runs if harness.calls_named(r, "run")]
    lat = [latency(r, base_url).get("notice_latency_s") for r in runs]
    timelines = [harness.status_times(base_url, r.record.job_id) for r in runs if r.record.job_id]
    total = ended - started
    ideal = -(-BATCH // slots) * JOB_SECONDS
    queued = sorted(t["queued"] for t in timelines if "queued" in t)
    makespan = (max(d for d in done if d) - queued[0]) if done and queued else None
    nominal = nominal_makespan(queued, JOB_SECONDS, slots) if queued else None
    return {
        "jobs": BATCH, "applied": sum(r.applied for r in runs), "total_s": total,
        "paid": team_limit.paid(ControlClient(base_url)),
        "refused": team_limit.refused(ControlClient(base_url)),
        "ideal_s": ideal, "ratio": total / ideal,
        "invoke_ms": runs[0].invoke_ms,
        "start_steps": len(steps), "start_step_max_ms": max(steps, default=0.0),
        "server_makespan_s": makespan,
        # The same queue if every job took exactly JOB_SECONDS.
        "server_nominal_makespan_s": nominal,
        "after_last_success_s": ended - max(d for d in done if d) if done else None,
        "first_submit_after_s": (min(created) - started) if created else None,
        "last_submit_after_s": (max(created) - started) if created else None,
        "first_upload_done_after_s": min(
            (harness.calls_named(r, "upload_image")[0].end - started for r in runs
             if harness.calls_named(r, "upload_image")), default=None),
        "last_upload_done_after_s": max(
            (harness.calls_named(r, "upload_image")[0].end - started for r in runs
             if harness.calls_named(r, "upload_image")), default=None),
        "tick_max_ms": max(ticks, default=0.0), "tick_p99_ms": pct(ticks, 99),
        "late_max_ms": max(lates, default=0.0),
        "conclude_max_ms": max(r.conclude_ms for r in runs),
        "notice_latency_s": [x for x in lat if x is not None],
        "polls": sum(len(harness.calls_named(r, "get_job")) for r in runs),
    }


def nominal_makespan(created: list[float], seconds: float, slots: int) -> float:
    """The emulator's FIFO queue replayed with exact job times: queued ≥ 10 %, then 90 %."""
    free = [0.0] * slots
    ends = []
    for at in sorted(created):
        slot = min(range(slots), key=lambda i: free[i])
        start = max(at + 0.1 * seconds, free[slot])
        free[slot] = start + 0.9 * seconds
        ends.append(free[slot])
    return max(ends) - min(created)


# --- 6: cadence on a long job -----------------------------------------------------------------
def long_job(addon: harness.Addon, base_url: str, textures: dict[str, dict[str, Path]]) -> dict[str, Any]:
    harness.clear_scene()
    image = bpy.data.images.load(str(textures["1K"]["png"]), check_existing=False)
    harness.use_in_material(image)
    run = addon.upscale(image, "long job")
    submitted = harness.calls_named(run, "run")[0].end
    polls = [c.end - submitted for c in harness.calls_named(run, "get_job")]
    per_minute: dict[int, int] = {}
    for t in polls:
        per_minute[int(t // 60)] = per_minute.get(int(t // 60), 0) + 1
    gaps = [b - a for a, b in zip(polls, polls[1:], strict=False)]
    return {
        "job_seconds": LONG_JOB_SECONDS, "polls": len(polls),
        "poll_times_s": [round(t, 2) for t in polls],
        "gaps_s": [round(g, 2) for g in gaps],
        "per_minute": per_minute, "polls_per_min_avg": len(polls) / (polls[-1] / 60) if polls else 0,
        "max_polls_in_any_60s": max(
            sum(1 for u in polls if t <= u < t + 60) for t in polls) if polls else 0,
        **latency(run, base_url), "applied": run.applied,
    }


# --- 4: memory, in its own process ------------------------------------------------------------
def memory(base_url: str, textures: dict[str, dict[str, Path]]) -> dict[str, Any]:
    files = [str(textures["4K"]["png"]), str(textures["4K"]["jpeg"])]
    out = subprocess.run([sys.executable, str(BENCH / "memory.py"), base_url, *files],
                         capture_output=True, text=True, check=True, cwd=REPO)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


# --- the table ---------------------------------------------------------------------------------
def machine_wide(row: dict[str, Any], step_ms: float) -> str:
    """A note when the longest step was a tick during which the idle canary stalled too."""
    hits = [t for t in row.get("slow_ticks", []) if abs(t[1] - step_ms) < 0.1 and t[-1] > 0]
    return f"; the canary stalled {hits[0][-1]:.0f} ms then" if hits else ""


def verdict(ok: bool) -> str:
    return "pass" if ok else "FAIL"


def table(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    main = results.get("main_thread", [])
    for r in main:
        label, kind = r["size"], r["kind"]
        if kind in ("generated", "packed"):
            what = "the pixel read-out" if kind == "generated" else "the packed_file.data copy"
            rows.append((f"1. {label} {kind}: longest step besides {what} "
                         f"({r['readout_ms']:.0f} ms)", "≤ 16 ms",
                         f"{r['max_step_rest_ms']:.1f} ms{machine_wide(r, r['max_step_rest_ms'])}",
                         verdict(r["max_step_rest_ms"] <= TARGET_STEP_MS)))
        else:
            rows.append((f"1. {label} {kind}: longest main-thread step", "≤ 16 ms",
                         f"{r['max_step_ms']:.1f} ms (CPU ≤ {r.get('cpu_max_ms', 0):.1f} ms)"
                         f"{machine_wide(r, r['max_step_ms'])}",
                         verdict(r["max_step_ms"] <= TARGET_STEP_MS)))
    if main:
        worst = max(main, key=lambda r: r["tick_p99_ms"])
        rows.append(("1. ticks (pump + view checks), p99, worst run", "≤ 2 ms",
                     f"{worst['tick_p99_ms']:.2f} ms ({worst['size']} {worst['kind']})",
                     verdict(worst["tick_p99_ms"] <= TARGET_TICK_P99_MS)))
        late = max(main, key=lambda r: r["late_max_ms"])
        stage = max(late["slow_ticks"], key=lambda t: t[2])[3] if late["slow_ticks"] else ""
        rows.append(("1. (info) longest wake-up delay before a tick (the GIL or a core was busy)",
                     "—", f"{late['late_max_ms']:.1f} ms ({late['size']} {late['kind']}"
                     f"{', ' + stage if stage else ''})", "info"))
        pauses = [(p[2], r) for r in main for p in r["gc_pauses"]]
        gc_worst = max(pauses, key=lambda p: p[0], default=None)
        slow = [t for r in main for t in r["slow_ticks"] if t[1] > 2.0]
        rows.append(("1. (info) ticks over 2 ms; of them, during a stall of an idle canary process",
                     "—", f"{len(slow)}; {sum(1 for t in slow if t[-1] > 0)}", "info"))
        rows.append(("1. (info) longest garbage-collector pause, any thread", "—",
                     f"{gc_worst[0]:.1f} ms ({gc_worst[1]['size']} {gc_worst[1]['kind']})"
                     if gc_worst else "none over 1 ms", "info"))
        rows.append(("1. every upscale applied", f"{len(main)}/{len(main)}",
                     f"{sum(r['applied'] for r in main)}/{len(main)}",
                     verdict(all(r["applied"] for r in main))))
    o = results.get("overhead")
    if o:
        rows.append((f"2. end to end / SDK (1 s polls), median of {OVERHEAD_PAIRS}, 1K PNG, "
                     f"{JOB_SECONDS:g} s job", "≤ 1.05",
                     f"{o['median_ratio']:.3f} ({o['median_ours_s']:.2f} s vs {o['median_sdk_s']:.2f} s)",
                     verdict(o["median_ratio"] <= TARGET_OVERHEAD)))
        spread = results.get("overhead_spread")
        if spread:
            lengths = ", ".join(f"{x:g}" for x in SPREAD_SECONDS)
            rows.append((f"2. the same, one pair per job length {lengths} s",
                         "≤ 1.05", f"{spread['median_ratio']:.3f} (median of {len(spread['pairs'])})",
                         verdict(spread["median_ratio"] <= TARGET_OVERHEAD)))
        rows.append((f"2. (info) against the SDK polling every {SDK_DOCS_POLL_S:g} s (Scenario's "
                     "job.wait() default)", "—",
                     f"{o['median_ours_s'] / o['median_sdk_docs_s']:.3f} ({o['median_sdk_docs_s']:.2f} s)",
                     "info"))
    b = results.get("batch")
    if b:
        rows.append((f"3. batch of {BATCH}, {JOB_SECONDS:g} s jobs, emulator concurrency {BATCH_CONCURRENCY}",
                     f"≤ {TARGET_BATCH * b['ideal_s']:.1f} s", f"{b['total_s']:.2f} s (×{b['ratio']:.3f})",
                     verdict(b["ratio"] <= TARGET_BATCH and b["applied"] == BATCH)))
        rows.append(("3. (info) batch main thread: operator, then app-timer steps starting the jobs "
                     "(count, longest); ticks p99 / max; longest GIL wait", "—",
                     f"{b['invoke_ms']:.1f} ms, {b['start_steps']} × ≤ {b['start_step_max_ms']:.1f} ms; "
                     f"{b['tick_p99_ms']:.1f} / {b['tick_max_ms']:.1f} ms; {b['late_max_ms']:.0f} ms",
                     "info"))
        t = results.get("batch_team_limit")
        if t:
            rows.append((f"3. the same batch, team limit {team_limit.TEAM_LIMIT}, Parallel Jobs "
                         f"{team_limit.PARALLEL}: all done, each paid once",
                         f"≤ {TARGET_BATCH * t['ideal_s']:.1f} s",
                         f"{t['total_s']:.2f} s (×{t['ratio']:.3f}), {t['applied']} done, "
                         f"{t['paid']} paid, {t['refused']} refused",
                         verdict(t["ratio"] <= TARGET_BATCH and t["applied"] == BATCH
                                 and t["paid"] == BATCH)))
        two = results.get("two_processes")
        if two:
            rows.append((f"3. two Blenders of {team_limit.PER_PROCESS} textures each, the same "
                         "limit", f"≤ {TARGET_BATCH * two['ideal_s']:.1f} s",
                         f"{two['makespan_s']:.2f} s (×{two['ratio']:.3f}), {two['done']} done, "
                         f"{two['paid']} paid, {two['refused']} refused",
                         verdict(two["ratio"] <= TARGET_BATCH and two["done"] == two["jobs"]
                                 and two["paid"] == two["jobs"])))
        if b.get("server_makespan_s") and b.get("server_nominal_makespan_s"):
            rows.append(("3. (info) the emulator's queue: first job queued to last done; the same if "
                         f"every job took exactly {JOB_SECONDS:g} s", "—",
                         f"{b['server_makespan_s']:.2f} s; {b['server_nominal_makespan_s']:.2f} s", "info"))
    m = results.get("memory")
    if m:
        for key, what in (("png", "4K PNG"), ("jpeg", "4K JPEG")):
            x = m[Path(results["fixtures"]["4K"][key]).name]
            rows.append((f"4. {what} ({x['file_bytes'] / 1e6:.1f} MB, {x['upload_way']}): peak "
                         "Python allocation, upload / download", "streaming",
                         f"{x['upload_peak_ratio']:.2f}× / {x['download_peak_ratio']:.3f}× the file",
                         "info"))
    files = [r for r in main if r["kind"] in ("file-png", "file-jpeg", "packed")]
    if files:
        same = all(r.get("uploaded_identical") and r["upload_bytes"] == r["file_bytes"] for r in files)
        rows.append(("5. file-backed and packed PNG/JPEG uploaded byte for byte (size + sha256)",
                     "as is",
                     f"{sum(bool(r.get('uploaded_identical')) for r in files)}/{len(files)} identical",
                     verdict(same)))
    lat = [r["notice_latency_s"] for r in main if "notice_latency_s" in r]
    lat += [x for x in (o or {}).get("ours_notice_latency_s", []) if x is not None]
    lat += (b or {}).get("notice_latency_s", [])
    if lat:
        rows.append((f"6. job done on the server → our poll has it (median / max of {len(lat)})",
                     "small", f"{statistics.median(lat):.3f} / {max(lat):.3f} s", "info"))
    lj = results.get("long_job")
    if lj:
        rows.append((f"6. polls on a {LONG_JOB_SECONDS:g} s job: per minute; most in any 60 s",
                     "bounded", ", ".join(str(v) for _, v in sorted(lj["per_minute"].items(),
                                                                   key=lambda kv: int(kv[0])))
                     + f"; {lj['max_polls_in_any_60s']}", "info"))
    for r in (results.get("previews") or {}).get("rows", []):
        rows.append((f"8. preview of a 512 px crop, {r['size']} {r['kind']}: longest main-thread "
                     "step (invoke, ticks, adding the previews)", "≤ 16 ms",
                     f"{r['max_step_ms']:.1f} ms (invoke {r['invoke_ms']:.1f}, ticks ≤ "
                     f"{r['tick_max_ms']:.2f}, add {r['conclude_ms']:.1f})",
                     verdict(r["max_step_ms"] <= TARGET_STEP_MS and r["done"])))
        rows.append((f"8. the same, Preview → previews in the file / an upscale of a 512 px "
                     f"{r['kind'][5:].upper()} file (its longest step)", "—",
                     f"{r['ratio']:.2f} ({r['total_s']:.2f} s vs {r['baseline_s']:.2f} s; "
                     f"{r.get('baseline_max_step_ms', 0):.1f} ms)", "info"))
        if r.get("cost_ratio") is not None:
            rows.append(("8. the same, the preview's price / the whole texture's (dry runs)",
                         "—", f"{r['cost_ratio']:.4f} ({r['preview_cost']:g} / "
                         f"{r['whole_cost']:g} credits)", "info"))
    for r in results.get("udim", []):
        rows.append((f"7. UDIM {r['tiles']} × {r['side']} px ×2: last tile's result → set "
                     "applied (main thread applying)", "small",
                     f"{r['last_tile_to_applied_s']:.3f} s ({r['main_thread_apply_ms']:.1f} ms)",
                     "info"))
    return rows


def print_table(rows: list[tuple[str, str, str, str]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    header = ("measured", "target", "result", "")
    log("")
    for r in [header, *rows]:
        log("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)))


def main() -> int:
    started = time.monotonic()
    log(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"Blender {bpy.app.version_string}")
    textures = fixtures.write_textures(FIXTURES, {k: fixtures.SIZES[k] for k in {*RUN_SIZES, '1K', '4K'}})
    module = dev_addon.enable_addon(USER_DIR)
    addon = harness.Addon(module)
    if NO_CHECKS:
        settings = bpy.context.scene.scenario_upscale
        settings.check_tiling = settings.keep_alpha = False
    work = Path(tempfile.mkdtemp(prefix="scenario-bench-work-"))
    results: dict[str, Any] = {
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(),
                    "blender": bpy.app.version_string},
        "fixtures": {k: {f: str(p) for f, p in v.items()} for k, v in textures.items()},
        "settings": {"job_seconds": JOB_SECONDS, "factor": FACTOR, "tick_s": addon.modal.TICK_SECONDS,
                     "fast_tick_s": addon.modal.FAST_TICK_SECONDS,
                     "emulator_max_output_pixels": BIG_OUTPUT},
    }
    procs = []
    try:
        proc, url = emulators.start(["--job-seconds", str(JOB_SECONDS)], BIG_OUTPUT)
        procs.append(proc)
        addon.configure(url, work / "out", parallel=BATCH)
        if "1" in ONLY:
            log(f"1. Main thread over whole upscales ({JOB_SECONDS:g} s jobs, factor {FACTOR})")
            results["main_thread"] = main_thread(addon, url, textures)
        if "2" in ONLY:
            log("2. End to end: the add-on against the official SDK")
            results["overhead"] = overhead(addon, url, textures, work)
            log("2. The same at five job lengths (the 1 s poll's phase varies)")
            results["overhead_spread"] = overhead_spread(addon, textures, work)
            addon.configure(url, work / "out", parallel=BATCH)
        if "4" in ONLY:
            log("4. Memory of the api client (own process)")
            results["memory"] = memory(url, textures)
        if "3" in ONLY:
            batch_proc, batch_url = emulators.start(
                ["--job-seconds", str(JOB_SECONDS), "--max-concurrent-jobs", str(BATCH_CONCURRENCY),
                 "--team-parallel-jobs", "0"])
            procs.append(batch_proc)
            addon.configure(batch_url, work / "out", parallel=BATCH)
            log(f"3. Batch of {BATCH}")
            results["batch"] = batch(addon, batch_url, textures, work)
            team_proc, team_url = emulators.start(
                ["--job-seconds", str(JOB_SECONDS), "--max-concurrent-jobs", str(BATCH),
                 "--team-parallel-jobs", str(team_limit.TEAM_LIMIT)])
            procs.append(team_proc)
            addon.configure(team_url, work / "out", parallel=team_limit.PARALLEL)
            log(f"3. Batch of {BATCH} against a team limit of {team_limit.TEAM_LIMIT}")
            results["batch_team_limit"] = batch(addon, team_url, textures, work,
                                                slots=team_limit.TEAM_LIMIT)
            log("3. Two Blenders sharing that limit")
            results["two_processes"] = team_limit.two_processes(
                team_url, textures["1K"]["png"], work, JOB_SECONDS, USER_DIR)
        if "6" in ONLY:
            long_proc, long_url = emulators.start(["--job-seconds", str(LONG_JOB_SECONDS)])
            procs.append(long_proc)
            addon.configure(long_url, work / "out", parallel=BATCH)
            log(f"6. Polling on a {LONG_JOB_SECONDS:g} s job")
            results["long_job"] = long_job(addon, long_url, textures)
        if "7" in ONLY:
            udim_proc, udim_url = emulators.start(["--job-seconds", "1"])
            procs.append(udim_proc)
            addon.configure(udim_url, work / "out", parallel=4)
            # The operator waits as in background mode, pumping main-thread steps itself.
            addon.runtime.get().steps_by_timer = False
            log("7. UDIM sets")
            results["udim"] = udim_sets.measure(addon, work / "out")
        if "8" in ONLY:
            addon.configure(url, work / "out", parallel=BATCH)
            log("8. Previews of a 512 px crop")
            results["previews"] = previews.measure(addon, textures, RUN_SIZES, work)
    finally:
        for proc in procs:
            emulators.stop(proc)
        addon.runtime.shutdown()
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(USER_DIR, ignore_errors=True)
    results["bench_seconds"] = time.monotonic() - started
    rows = table(results)
    results["table"] = [dict(zip(("measured", "target", "result", "verdict"), r, strict=True)) for r in rows]
    print_table(rows)
    (BENCH / "results.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    log(f"\nbench/results.json written; the bench took {results['bench_seconds']:.0f} s")
    return 0


def reprint() -> int:
    """`python bench/run.py --table`: the table again from bench/results.json, without running."""
    results = json.loads((BENCH / "results.json").read_text())
    rows = table(results)
    results["table"] = [dict(zip(("measured", "target", "result", "verdict"), r, strict=True)) for r in rows]
    (BENCH / "results.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    print_table(rows)
    shutil.rmtree(USER_DIR, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(reprint() if "--table" in sys.argv[1:] else main())
