"""Section 8 of `make bench`: previews (try before you pay) in real Blender (the bpy module)
against the emulator.

For a 512 px crop of 1K, 4K and 8K file PNG and JPEG textures: every main-thread step from
Preview to the previews in the file (the operator's invoke, each tick, the app timer's steps,
adding the preview images), the whole time against the same upscale of a 512 × 512 file, and the
preview's price against the whole texture's, both from the emulator's dry runs.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

import addon as harness
import bpy
import numpy as np
from PIL import Image

CROP = 512


def baseline_file(folder: Path, source: Path) -> Path:
    """A 512 × 512 file of the same kind, cut from the texture: what the preview is compared
    with when it is simply upscaled."""
    target = folder / f"base_{CROP}{source.suffix}"
    if not target.exists():
        with Image.open(source) as image:
            part = image.crop((0, 0, CROP, CROP))
            part.save(target, quality=90) if source.suffix == ".jpg" else part.save(target)
    return target


def preview_run(addon: harness.Addon, image: bpy.types.Image, label: str) -> harness.Run:
    """What scenario.preview_upscale does in its invoke (prepare, start), then its ticks,
    then adding the previews, every step timed."""
    request = addon._mod("bridge.preview_request")
    previews = addon._mod("bridge.previews")
    rt = addon.runtime.get()
    settings = bpy.context.scene.scenario_upscale
    settings.preview_size, settings.variant_field = str(CROP), "NONE"
    run = harness.Run(label)
    run.started_at = time.time()
    t0 = time.perf_counter()
    prepared = request.prepare(bpy.context, image, None, rt.user_dir, rt.work_dir)
    t1 = time.perf_counter()
    view = request.start(rt, prepared, label)
    t2 = time.perf_counter()
    run.prepare_ms, run.start_ms = (t1 - t0) * 1e3, (t2 - t1) * 1e3
    run.view, run.record = view, prepared.job.record
    addon.follow([run], conclude=previews.conclude)
    return run


def measure(addon: harness.Addon, textures: dict[str, dict[str, Path]], sizes: list[str],
            work: Path) -> dict[str, Any]:
    rows = []
    baselines: dict[str, float] = {}
    baseline_steps: dict[str, float] = {}
    # A warm-up of each path: a process's first image load and first preview pay one-time
    # costs (colour management, imports) that a Blender showing textures has paid long ago.
    harness.clear_scene()
    warm = bpy.data.images.load(str(textures["1K"]["png"]), check_existing=False)
    harness.use_in_material(warm)
    addon.upscale(warm, "warm-up upscale")
    preview_run(addon, warm, "warm-up preview")
    addon._mod("bridge.previews").clear(warm.name)
    for kind, key in (("file-png", "png"), ("file-jpeg", "jpeg")):
        harness.clear_scene()
        base = bpy.data.images.load(str(baseline_file(work, textures["1K"][key])),
                                    check_existing=False)
        harness.use_in_material(base)
        ours = addon.upscale(base, f"512 {kind}")
        baselines[kind] = ours.total_s
        baseline_steps[kind] = max([ours.invoke_ms, *ours.ticks_ms, *ours.steps_ms,
                                    ours.conclude_ms])
        print(f"  512 {kind} upscale: {ours.total_s:.2f} s, longest step "
              f"{baseline_steps[kind]:.1f} ms "
              f"(invoke {ours.invoke_ms:.1f}, ticks {max(ours.ticks_ms, default=0):.2f}, apply "
              f"{ours.conclude_ms:.1f})", flush=True)
        for label in sizes:
            harness.clear_scene()
            image = bpy.data.images.load(str(textures[label][key]), check_existing=False)
            image.name = f"{kind}_{label}"
            run = preview_run(addon, image, f"preview {label} {kind}")
            record = addon.runtime.get().journal.load(run.record.local_id) or run.record
            whole = record.preview.get("whole_cost") or [None]
            max_step = max([run.invoke_ms, *run.ticks_ms, *run.steps_ms, run.conclude_ms])
            rows.append({
                "size": label, "kind": kind, "outcome": run.outcome,
                "breakdown": breakdown(addon, run, record),
                "done": record.state == "applied",
                "invoke_ms": run.invoke_ms, "tick_max_ms": max(run.ticks_ms, default=0.0),
                "tick_p99_ms": float(np.percentile(run.ticks_ms, 99)) if run.ticks_ms else 0.0,
                "step_max_ms": max(run.steps_ms, default=0.0),
                "conclude_ms": run.conclude_ms, "max_step_ms": max_step,
                "cpu_max_ms": run.cpu_max_ms, "late_max_ms": max(run.late_ms, default=0.0),
                "total_s": run.total_s, "baseline_s": baselines[kind],
                "baseline_max_step_ms": baseline_steps[kind],
                "ratio": run.total_s / baselines[kind],
                "preview_cost": record.quote, "whole_cost": whole[0],
                "cost_ratio": (record.quote / whole[0]) if record.quote and whole[0] else None,
            })
            r = rows[-1]
            print(f"  {label:>2} {kind:<9} longest step {r['max_step_ms']:6.1f} ms (invoke "
                  f"{r['invoke_ms']:.1f}, ticks {r['tick_max_ms']:.2f}, add "
                  f"{r['conclude_ms']:.1f})  {r['total_s']:5.2f} s vs {r['baseline_s']:.2f} s "
                  f"upscale of 512  cost {r['preview_cost']} / {r['whole_cost']}  "
                  f"{'done' if r['done'] else 'NOT DONE: ' + r['outcome'][:80]}", flush=True)
        clear = addon._mod("bridge.previews").clear
        for label in sizes:
            clear(f"{kind}_{label}")
    return {"rows": rows, "baselines_s": baselines,
            "median_ratio": statistics.median(r["ratio"] for r in rows) if rows else None}


def breakdown(addon: harness.Addon, run: harness.Run, record: Any) -> dict[str, float]:
    """Seconds from Preview to each step of the set and of its (first) variant, from their
    journal histories."""
    marks: dict[str, float] = {}
    for state, at in record.history:
        marks.setdefault(f"set {state}", float(at) - run.started_at)
    for entry in record.preview.get("variants", [])[:1]:
        variant = addon.runtime.get().journal.load(entry["local_id"])
        for state, at in variant.history if variant else []:
            marks.setdefault(f"variant {state}", float(at) - run.started_at)
    marks["applied"] = run.applied_at - run.started_at
    return {k: round(v, 3) for k, v in sorted(marks.items(), key=lambda kv: kv[1])}
