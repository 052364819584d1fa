"""Main thread: a batch — every texture of the materials in scope, one job per distinct image.

``start`` collects the images (node groups included), recognises each one's role, refuses what
cannot be sent (listed as skipped, with the reason) and starts one job per image with the params
of its role; the runtime's worker pool bounds how many run at once. ``conclude`` applies one
finished job and records it in the batch. Operators and the command line drive both.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field, replace

import bpy

from ..api.errors import ScenarioError
from ..api.params import UpscaleParams
from ..core import roles
from ..core.batch import Batch, BatchItem, item_text, live_text
from ..core.journal import new_job_id
from ..core.refusal import Refusal
from ..core.spend_ledger import SpendLedger
from ..core.states import ItemStatus, Stage, ViewStatus
from . import (
    apply,
    batch_settings,
    connection,
    lookup,
    request,
    runtime,
    scope,
    snapshot,
    texture_graph,
)

SCOPE_TEXT = {
    "SELECTED_OBJECTS": "the materials of the selected objects",
    "ACTIVE_MATERIAL": "the active material",
    "ALL_MATERIALS": "the materials of this file",
}


@dataclass
class Found:
    """One distinct image in scope: the materials using it and where its nodes lead."""

    image: bpy.types.Image
    materials: list[str] = field(default_factory=list)
    destinations: list[roles.Destination] = field(default_factory=list)

    @property
    def role(self) -> str:
        return roles.classify(self.destinations, self.image.name)


def materials_in_scope(context: bpy.types.Context, scope_name: str) -> list[bpy.types.Material]:
    if scope_name == "ALL_MATERIALS":
        candidates = list(bpy.data.materials)
    else:
        names = scope.scope_materials(context, scope_name)
        candidates = [m for m in (bpy.data.materials.get(n) for n in names) if m is not None]
    # A linked material is read-only here: its nodes could not be switched to the results.
    return [m for m in candidates if m.node_tree is not None and m.library is None]


def collect(context: bpy.types.Context, scope_name: str) -> list[Found]:
    """Distinct images of the Image Texture nodes in scope, in the order first met."""
    found: dict[int, Found] = {}
    for material in materials_in_scope(context, scope_name):
        for use in texture_graph.texture_nodes(material):
            image = use.node.image
            if image is None:
                continue
            entry = found.setdefault(image.session_uid, Found(image))
            if material.name not in entry.materials:
                entry.materials.append(material.name)
            entry.destinations += texture_graph.destinations(use)
    return list(found.values())


@dataclass(frozen=True)
class Overrides:
    """What the operator or the command line sets instead of the scene's settings."""

    factor: int = 0
    preset: str = ""
    data_maps: str = ""  # PRECISE, COLOR or SKIP for every data role


def start(context: bpy.types.Context, scope_name: str, overrides: Overrides = Overrides()
          ) -> Batch:
    """Starts the batch; raises Refusal (or ScenarioError) when nothing at all can start.

    With a UI the jobs are started a few per main-thread step, so a batch of any size never
    stalls it; each waits as a held view meanwhile. Without one they all start at once.
    """
    rt = runtime.get()
    colour = request.params_from_settings(context.scene.scenario_upscale)
    if overrides.factor:
        colour = replace(colour, upscale_factor=overrides.factor)
    if overrides.preset:
        colour = replace(colour, preset=overrides.preset)
    # Problems shared by every image refuse the whole batch, before anything is sent.
    replace(colour, image="pending-upload").validate()
    connection.connection()
    request.ensure_writable(request.output_folder(connection.preferences(), rt.user_dir))
    found = collect(context, scope_name)
    if not found:
        raise Refusal(f"No image textures in {SCOPE_TEXT.get(scope_name, scope_name)}.")
    policy = batch_settings.role_policy(context.scene.scenario_batch, overrides.data_maps)
    # Results switch nodes only in the materials listed with each job, whatever the scope.
    record_scope = "ACTIVE_MATERIAL" if scope_name == "ACTIVE_MATERIAL" else "SELECTED_OBJECTS"
    batch = Batch(scope_name)
    # The confirmation limit counts the whole batch: many cheap images can add up.
    limit = request.spend_policy(connection.preferences()).confirm_above
    ledger = SpendLedger(limit) if limit is not None else None
    starter = _Starter(rt, batch, colour, policy, record_scope, ledger)
    for entry in found:
        item = BatchItem(entry.image.name, entry.role, local_id=new_job_id())
        batch.items.append(item)
        rt.hold(item.local_id, item.image, Stage.WAITING)
        starter.queue.append(_Queued(entry.image.name, entry.image.session_uid,
                                     list(entry.materials), item))
    rt.batches[batch.batch_id] = batch
    if not starter.step(runtime.STEP_SECONDS if rt.steps_by_timer else math.inf):
        rt.add_step(starter.step)
    return batch


@dataclass
class _Queued:
    """An image waiting for its job to start; found again by its session id when its turn
    comes (the image may have been renamed or removed meanwhile)."""

    name: str
    session_uid: int
    materials: list[str]
    item: BatchItem


@dataclass
class _Starter:
    rt: runtime.Runtime
    batch: Batch
    colour: UpscaleParams
    policy: roles.RolePolicy
    record_scope: str
    ledger: SpendLedger | None
    queue: deque[_Queued] = field(default_factory=deque)

    def step(self, seconds: float) -> bool:
        """Starts queued jobs for about ``seconds`` (at least one); True once none are left."""
        now = time.perf_counter()
        deadline, last = now + seconds, 0.0
        # The next start is assumed to take as long as the last: stop before overrunning.
        while self.queue and (not last or now + last <= deadline):
            self._start(self.queue.popleft())
            last, now = time.perf_counter() - now, time.perf_counter()
        self.batch.finish_if_done()
        return not self.queue

    def _start(self, queued: _Queued) -> None:
        item, rt = queued.item, self.rt
        view = rt.jobs.get(item.local_id)
        if view is None or view.status != ViewStatus.RUNNING:  # cancelled while it waited
            item.status, item.reason = ItemStatus.CANCELLED, runtime.NOT_STARTED
            return
        image = lookup.find_image(queued.name, queued.session_uid)
        if image is None:
            return self._skip(item, f"'{queued.name}' was removed before its turn came.")
        if apply.PROVENANCE_SOURCE in image:
            return self._skip(item, f"Already an upscaled result (of '{image[apply.PROVENANCE_SOURCE]}').")
        try:
            facts = snapshot.describe(image)
        except Refusal as exc:
            return self._skip(item, str(exc))
        params = roles.params_for(item.role, facts.is_data, self.colour, self.policy)
        if params is None:
            return self._skip(item, roles.skip_reason(item.role))
        # Style images describe colour, not data: data maps go without them (nor read them).
        styles = roles.uses_style_images(item.role, facts.is_data, self.policy)
        try:
            prepared = request.prepare(bpy.context, image, self.record_scope, rt.user_dir,
                                       rt.work_dir, params=params, materials=queued.materials,
                                       styles=styles, facts=facts, local_id=item.local_id,
                                       folder_checked=True)
        except (Refusal, ScenarioError) as exc:
            return self._skip(item, str(exc))
        job = prepared.job
        if self.ledger is not None:
            job.spend = replace(job.spend, ledger=self.ledger)
        rt.start_upscale(job, prepared.connection.connect, image.name, held=view)
        item.preset, item.status = params.preset or "", ItemStatus.RUNNING

    def _skip(self, item: BatchItem, reason: str) -> None:
        item.status, item.reason = ItemStatus.SKIPPED, reason
        self.rt.release(item.local_id, ViewStatus.FAILED, reason)


def conclude(rt: runtime.Runtime, batch: Batch, view: runtime.JobView) -> apply.Outcome:
    """Applies one ended job of ``batch`` (main thread) and records how it went."""
    item = batch.item_for(view.local_id)
    if view.record is None:  # ended before its job started: skipped or cancelled
        if item is not None and item.status != ItemStatus.SKIPPED:
            item.status, item.reason = ItemStatus.CANCELLED, runtime.NOT_STARTED
        batch.finish_if_done()
        reason = item.reason if item is not None else view.message
        skipped = item is not None and item.status == ItemStatus.SKIPPED
        return apply.Outcome("WARNING", f"Skipped: {reason}" if skipped else runtime.NOT_STARTED)
    outcome = apply.conclude(rt, view)
    if item is not None:
        record = view.record
        item.seconds = view.elapsed
        if record is not None:
            item.job_id, item.cost = record.job_id, record.cost
        if outcome.applied is not None:
            item.status = ItemStatus.DONE
            item.result_image, item.result_path = outcome.applied.image_name, outcome.applied.path
        elif view.status == ViewStatus.CANCELLED:
            item.status, item.reason = ItemStatus.CANCELLED, outcome.message
        else:
            item.status, item.reason = ItemStatus.FAILED, view.message or outcome.message
    batch.finish_if_done()
    return outcome


def latest(rt: runtime.Runtime | None) -> Batch | None:
    return next(reversed(rt.batches.values()), None) if rt and rt.batches else None


def live_view(rt: runtime.Runtime, item: BatchItem) -> runtime.JobView | None:
    if item.status != ItemStatus.RUNNING:
        return None
    return rt.jobs.get(item.local_id)


def status_text(rt: runtime.Runtime, item: BatchItem, step: int = 1) -> str:
    view = live_view(rt, item)
    if view is None:
        return item_text(item)
    question = getattr(view, "question", None)
    if question is not None:
        total = question.batch_total
        return (f"Confirm batch: {total:g} credits" if total is not None
                else f"Confirm price: {question.cost:g} credits")
    if view.status == ViewStatus.READY:
        return item_text(item, "Applying")
    return item_text(item, live_text(view.stage, view.label, view.fraction, step))


def status_word(rt: runtime.Runtime, item: BatchItem) -> str:
    """The list's short status column (the active row's details say the rest)."""
    view = live_view(rt, item)
    if view is None:
        return item.status.title()
    if getattr(view, "question", None) is not None:
        return "Confirm"
    if view.status == ViewStatus.READY:
        return "Applying"
    if view.fraction is not None:
        return f"{round(view.fraction * 100)} %"
    return live_text(view.stage)


def show(wm: bpy.types.WindowManager, batch: Batch) -> None:
    """Fills the list the panels draw (once per batch; live status is read when drawing)."""
    state = wm.scenario_batch
    state.rows.clear()
    state.batch_id = batch.batch_id
    for item in batch.items:
        row = state.rows.add()
        row.image, row.role, row.local_id = item.image, item.role, item.local_id
    state.active = 0


def cancel(rt: runtime.Runtime, batch: Batch) -> int:
    """Stops waiting for every running job of the batch; returns how many were stopped."""
    return sum(1 for item in batch.pending if rt.cancel(item.local_id))
