"""Drives the add-on inside the bpy module exactly as its modal operator does, with a clock on
every main-thread step.

Modal timers do not run in the bpy module, so the timer is played here: ``prepare`` and
``Runtime.start_upscale`` (the operator's invoke), then every 0.05 s (0.01 s while a result
downloads) ``Runtime.pump()`` plus the view checks of ``JobModalMixin`` (a tick), between ticks
the app timer's queued main-thread steps, then ``apply.conclude`` when a job has ended. The
worker side is untouched; its client is wrapped only to time each call.
"""

from __future__ import annotations

import gc
import importlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import bpy
import numpy as np
import requests

API_KEY, API_SECRET = "demo-key", "demo-secret"
SLOW_MS = 2.0  # the tick p99 target: every tick past it is listed
# Between two app-timer calls Blender handles events and draws; a short frame's worth here.
STEP_GAP_SECONDS = 0.005
SIZES = {"1K": 1024, "4K": 4096, "8K": 8192}


@dataclass
class Call:
    name: str
    start: float  # epoch seconds, comparable with the emulator's statusHistory
    end: float
    status: str | None = None
    error: str | None = None


class TimedClient:
    """The add-on's ScenarioClient, every method call recorded with its wall-clock span."""

    def __init__(self, inner: Any, log: list[Call]) -> None:
        self._inner, self._log = inner, log

    def __enter__(self) -> TimedClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self._inner.close()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not callable(attr):
            return attr

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.time()
            try:
                result = attr(*args, **kwargs)
            except BaseException as exc:
                self._log.append(Call(name, start, time.time(), error=type(exc).__name__))
                raise
            status = getattr(result, "status", None)
            self._log.append(Call(name, start, time.time(), status if isinstance(status, str) else None))
            return result

        return timed


class GcPauses:
    """Python's garbage collector, timed: a full collection stops every thread that needs the
    GIL, and runs in whichever thread's allocation triggered it."""

    def __init__(self) -> None:
        self.pauses: list[tuple[float, int, float, str]] = []  # epoch, generation, ms, thread
        self._began = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
            return
        ms = (time.perf_counter() - self._began) * 1e3
        if ms > 1.0:
            self.pauses.append((time.time(), info["generation"], ms, threading.current_thread().name))

    def between(self, start: float, end: float) -> list[tuple[float, int, float, str]]:
        return [p for p in self.pauses if start <= p[0] <= end]


GC_PAUSES = GcPauses()


@dataclass
class Run:
    """One upscale as the main thread lived it (milliseconds) and as the worker's client saw it."""

    label: str
    prepare_ms: float = 0.0
    readout_ms: float = 0.0  # image.pixels.foreach_get and friends (generated images)
    start_ms: float = 0.0
    ticks_ms: list[float] = field(default_factory=list)
    steps_ms: list[float] = field(default_factory=list)  # app-timer steps (a batch's starts)
    late_ms: list[float] = field(default_factory=list)  # tick wake-up past its due time
    # Ticks over SLOW_MS (work or wake-up): seconds into the run, work ms, late ms, job stage,
    # the tick's main-thread CPU ms (work far above it: the thread waited for the GIL or a core).
    slow: list[tuple[float, float, float, str, float]] = field(default_factory=list)
    conclude_ms: float = 0.0
    # The largest main-thread CPU time (time.thread_time) of any one step: what the add-on itself
    # spent, without waits for the GIL or for a core.
    cpu_max_ms: float = 0.0
    started_at: float = 0.0  # epoch, before prepare
    applied_at: float = 0.0  # epoch, after conclude
    outcome: str = ""
    applied: bool = False
    calls: list[Call] = field(default_factory=list)
    record: Any = None
    view: Any = None

    @property
    def invoke_ms(self) -> float:
        return self.prepare_ms + self.start_ms

    @property
    def total_s(self) -> float:
        return self.applied_at - self.started_at


class Addon:
    """Handles on the enabled add-on's modules and preferences."""

    def __init__(self, module: str) -> None:
        self.module = module
        self.request = self._mod("bridge.request")
        self.runtime = self._mod("bridge.runtime")
        self.apply = self._mod("bridge.apply")
        self.modal = self._mod("bridge.modal")
        self.snapshot = self._mod("bridge.snapshot")
        self._readouts: list[float] = []
        self._wrap_readout()

    def _mod(self, name: str) -> ModuleType:
        return importlib.import_module(f"{self.module}.{name}")

    @property
    def prefs(self) -> Any:
        return bpy.context.preferences.addons[self.module].preferences

    def _wrap_readout(self) -> None:
        # The one unavoidable copy for images without file bytes (their pixels) and for packed
        # ones (Blender's packed_file.data), timed on its own.
        self.snapshot.read_pixels = timed(self.snapshot.read_pixels, self._readouts)
        packed = self._mod("bridge.packed_bytes")
        packed.head = timed(packed.head, self._readouts)

    def configure(self, base_url: str, out_dir: Path, parallel: int = 0) -> None:
        prefs = self.prefs
        prefs.api_key, prefs.api_secret, prefs.base_url = API_KEY, API_SECRET, base_url
        prefs.output_dir = str(out_dir)
        prefs.max_concurrent_jobs = parallel
        # Asking the user about the price would block a job forever in the bpy module; the
        # price request itself (quote_before_paying) stays as users have it.
        for name, value in (("confirm_expensive", False), ("never_spend", False)):
            if hasattr(prefs, name):
                setattr(prefs, name, value)
        bpy.context.preferences.system.use_online_access = True
        # As with a UI: an app timer (played by follow) runs main-thread steps, not the ticks.
        self.runtime.get().steps_by_timer = True

    # --- one upscale, as the operator runs it ----------------------------------------------
    def invoke(self, image: bpy.types.Image, run: Run, scope: str = "SELECTED_OBJECTS") -> Any:
        rt = self.runtime.get()
        self._readouts.clear()
        run.started_at = time.time()
        t0, cpu = time.perf_counter(), time.thread_time()
        prepared = self.request.prepare(bpy.context, image, scope, rt.user_dir, rt.work_dir)
        t1 = time.perf_counter()
        connection = prepared.connection
        calls = run.calls

        def connect(ctx: Any) -> Any:
            return TimedClient(connection.connect(ctx), calls)

        view = rt.start_upscale(prepared.job, connect, prepared.facts.name)
        t2 = time.perf_counter()
        run.cpu_max_ms = (time.thread_time() - cpu) * 1e3
        run.prepare_ms, run.start_ms = (t1 - t0) * 1e3, (t2 - t1) * 1e3
        run.readout_ms = sum(self._readouts) * 1e3
        run.view, run.record = view, prepared.job.record
        return view

    def start_batch(self, started_at: float) -> tuple[Any, list[Run]]:
        """What the batch operator's execute does (``batch_start.start`` on the selected objects),
        timed; every job's client records its calls into that job's Run."""
        batch_start = self._mod("bridge.batch_start")
        batch_conclude = self._mod("bridge.batch_conclude")
        connection = self._mod("bridge.connection").Connection
        plain = connection.connect
        calls: dict[str, list[Call]] = {}

        def connect(conn: Any, ctx: Any) -> Any:
            return TimedClient(plain(conn, ctx), calls.setdefault(ctx.local_id, []))

        connection.connect = connect  # the worker calls it when a job starts
        self._restore_connect = lambda: setattr(connection, "connect", plain)
        a = time.perf_counter()
        batch = batch_start.start(bpy.context, "SELECTED_OBJECTS")
        invoke_ms = (time.perf_counter() - a) * 1e3
        rt = self.runtime.get()
        runs = []
        for item in batch.items:
            run = Run(f"batch {item.image}", started_at=started_at, view=rt.jobs[item.local_id])
            run.prepare_ms = invoke_ms
            run.calls = calls.setdefault(item.local_id, [])
            runs.append(run)
        self._batch_conclude = lambda rt_, view: batch_conclude.conclude(rt_, batch, view)
        self._batch_item = batch.item_for
        return batch, runs

    def end_batch(self, runs: list[Run]) -> None:
        self._restore_connect()
        for run in runs:
            run.record = run.view.record

    def follow(self, runs: list[Run], batch: bool = False,
               conclude: Callable[[Any, Any], Any] | None = None) -> None:
        """Plays the modal timer until every run's job has ended and been concluded (by
        ``conclude``, else as its operator does), and between its ticks the app timer that runs
        queued main-thread steps."""
        rt = self.runtime.get()
        running = self.runtime.ViewStatus.RUNNING
        pending = list(runs)
        due = time.perf_counter() + self.modal.TICK_SECONDS
        while pending:
            while rt.has_steps and time.perf_counter() < due:
                a, cpu = time.perf_counter(), time.thread_time()
                rt.run_steps()
                work, cpu = (time.perf_counter() - a) * 1e3, (time.thread_time() - cpu) * 1e3
                for r in pending:
                    r.steps_ms.append(work)
                    r.cpu_max_ms = max(r.cpu_max_ms, cpu)
                time.sleep(STEP_GAP_SECONDS)
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            a, cpu = time.perf_counter(), time.thread_time()
            # What JobModalMixin.modal does on a TIMER event, before concluding ended jobs.
            if rt.pump():
                self.modal.redraw_editors(bpy.context)
            # As the batch operator follows its batch: a priced image waits for the batch's
            # total, then the same job goes on to be paid (operators/upscale_materials.py).
            ended = [r for r in pending if r.view.status != running
                     and not (batch and self._waits_for_batch(r))]
            b, cpu = time.perf_counter(), (time.thread_time() - cpu) * 1e3
            for r in pending:
                work, late = (b - a) * 1e3, max(0.0, a - due) * 1e3
                r.cpu_max_ms = max(r.cpu_max_ms, cpu)
                r.ticks_ms.append(work)
                r.late_ms.append(late)
                if max(work, late) > SLOW_MS:
                    r.slow.append((round(time.time() - r.started_at, 2), round(work, 1),
                                   round(late, 1), f"{r.view.stage} {r.view.label}".strip(),
                                   round(cpu, 1)))
            for r in ended:
                c, cpu = time.perf_counter(), time.thread_time()
                ending = conclude or (self._batch_conclude if batch else self.apply.conclude)
                outcome = ending(rt, r.view)
                d = time.perf_counter()
                if batch and self._still_on_its_way(r):
                    continue  # priced: paid once the batch's total is judged
                pending.remove(r)
                r.cpu_max_ms = max(r.cpu_max_ms, (time.thread_time() - cpu) * 1e3)
                r.conclude_ms, r.applied_at = (d - c) * 1e3, time.time()
                r.outcome, r.applied = outcome.message, bool(outcome.applied)
            # The operator's timer: faster while a result is on its way (bridge/modal.py).
            tick = self.modal.tick_seconds([r.view for r in pending])
            due = max(due + tick, time.perf_counter())

    def _waits_for_batch(self, run: Run) -> bool:
        item = self._batch_item(run.view.local_id)
        return item is not None and item.status == "priced"

    def _still_on_its_way(self, run: Run) -> bool:
        """After its conclude: priced and waiting, or paid just now (the same job runs on)."""
        item = self._batch_item(run.view.local_id)
        return item is not None and item.status in ("priced", "running", "queued")

    def upscale(self, image: bpy.types.Image, label: str, scope: str = "SELECTED_OBJECTS") -> Run:
        run = Run(label)
        self.invoke(image, run, scope)
        self.follow([run])
        return run


# --- scenes ---------------------------------------------------------------------------------
def timed(fn: Callable[..., Any], into: list[float]) -> Callable[..., Any]:
    """``fn``, adding the seconds each call takes to ``into``."""
    def call(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            into.append(time.perf_counter() - start)
    return call


def clear_scene() -> None:
    for collection in (bpy.data.objects, bpy.data.meshes, bpy.data.materials, bpy.data.images):
        for block in list(collection):
            collection.remove(block)


def use_in_material(image: bpy.types.Image, select: bool = True) -> None:
    """A selected object whose material samples ``image``, so applying switches a real node."""
    material = bpy.data.materials.new(f"M_{image.name}")
    if material.node_tree is None:  # Blender before 5.0 creates materials without nodes
        material.use_nodes = True
    node = material.node_tree.nodes.new("ShaderNodeTexImage")
    node.image = image
    bsdf = material.node_tree.nodes.get("Principled BSDF")
    if bsdf is not None:
        material.node_tree.links.new(node.outputs["Color"], bsdf.inputs["Base Color"])
    mesh = bpy.data.meshes.new(f"Mesh_{image.name}")
    obj = bpy.data.objects.new(f"Obj_{image.name}", mesh)
    bpy.context.scene.collection.objects.link(obj)
    obj.data.materials.append(material)
    obj.select_set(select)


def select_only(name: str) -> None:
    for obj in bpy.data.objects:
        obj.select_set(obj.name == name)


def make_image(kind: str, label: str, textures: dict[str, dict[str, Path]]) -> tuple[Any, float]:
    """The source image and, for generated/packed ones, the cost of one raw read-out (ms)."""
    name = f"{kind}_{label}"
    readout = 0.0
    if kind == "generated":
        size = SIZES[label]
        image = bpy.data.images.new(name, size, size)
        image.generated_type = "COLOR_GRID"
        # A generated image on screen already has its pixels: make them exist, and time one
        # foreach_get as the reference cost of the read-out.
        buffer = np.empty(size * size * image.channels, dtype=np.float32)
        image.pixels.foreach_get(buffer)
        start = time.perf_counter()
        image.pixels.foreach_get(buffer)
        readout = (time.perf_counter() - start) * 1e3
        del buffer
    else:
        path = textures[label]["jpeg" if kind == "file-jpeg" else "png"]
        image = bpy.data.images.load(str(path), check_existing=False)
        image.name = name
        if kind == "packed":
            image.pack()
            start = time.perf_counter()
            data = image.packed_file.data
            readout = (time.perf_counter() - start) * 1e3
            del data
    use_in_material(image)
    select_only(f"Obj_{image.name}")
    return image, readout


# --- the emulator's view --------------------------------------------------------------------
def api_get(base_url: str, path: str) -> dict[str, Any]:
    resp = requests.get(base_url + path, auth=(API_KEY, API_SECRET), timeout=60)
    resp.raise_for_status()
    return dict(resp.json())


def epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def status_times(base_url: str, job_id: str) -> dict[str, float]:
    """The server's timeline of a job: status -> epoch seconds it was entered."""
    job = api_get(base_url, f"/jobs/{job_id}")["job"]
    return {entry["status"]: epoch(entry["date"]) for entry in job.get("statusHistory", [])}


def success_time(base_url: str, job_id: str) -> float | None:
    job = api_get(base_url, f"/jobs/{job_id}")["job"]
    for entry in job.get("statusHistory", []):
        if entry.get("status") == "success":
            return epoch(entry["date"])
    return None


def uploaded_sha256(base_url: str, asset_id: str) -> str:
    """The bytes Scenario stored for an uploaded asset, hashed (streamed from its signed URL)."""
    import hashlib

    url = api_get(base_url, f"/assets/{asset_id}")["asset"]["url"]
    digest = hashlib.sha256()
    with requests.get(url, stream=True, timeout=120) as resp:
        resp.raise_for_status()
        for chunk in resp.iter_content(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def upload_bytes(requests_log: list[dict[str, Any]]) -> tuple[int, str]:
    """Image bytes the emulator received for uploads, and how (inline or multipart)."""
    total, how = 0, "none"
    for entry in requests_log:
        body = entry.get("body")
        if entry["method"] == "POST" and entry["path"] == "/v1/assets" and isinstance(body, dict):
            total += _bytes_in(str(body.get("image", "")))
            how = "inline"
        elif entry["method"] == "PUT" and str(entry["path"]).startswith("/_parts/"):
            total += _bytes_in(str(body))
            how = "multipart"
    return total, how


def _bytes_in(summary: str) -> int:
    digits = "".join(ch for ch in summary.split(":")[-1] if ch.isdigit())
    return int(digits or 0)


def seen_success(run: Run) -> Call | None:
    return next((c for c in run.calls if c.name == "get_job" and c.status == "success"), None)


def calls_named(run: Run, name: str) -> list[Call]:
    return [c for c in run.calls if c.name == name]


def history_time(record: Any, state: str) -> float | None:
    return next((float(t) for s, t in reversed(record.history) if s == state), None)
