"""Main thread: start a batch. Refuses what all its images share before anything is sent, then
starts one job per image with the params of its role, a few per main-thread step; what cannot be
sent is listed as skipped with the reason. The runtime's worker pool bounds how many run at once.

When the price decides (Confirm Above, Stop Before Paying), the batch is priced whole before
anything is paid: each job first uploads and prices its image (free), and once
every image is priced the total is judged, asked once, and the same jobs go on to be paid
(bridge/batch_conclude.py)."""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field, replace

import bpy

from ..api.errors import ScenarioError
from ..api.params import UpscaleParams
from ..core import roles
from ..core.batch import Batch, BatchItem
from ..core.journal import new_job_id
from ..core.refusal import Refusal
from ..core.states import ItemStatus, Stage, ViewStatus
from . import addon_data, batch_settings, connection, lookup, request, result_image, runtime, snapshot
from .batch_collect import SCOPE_TEXT, collect
from .batch_conclude import settle


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
    colour = request.params_from_settings(addon_data.upscale_settings(context.scene))
    if overrides.factor:
        colour = replace(colour, upscale_factor=overrides.factor)
    if overrides.preset:
        colour = replace(colour, preset=overrides.preset)
    # Problems shared by every image refuse the whole batch, before anything is sent.
    replace(colour, image="pending-upload").validate()
    connection.connection()
    request.ensure_writable(request.output_folder(addon_data.preferences(), rt.user_dir))
    found = collect(context, scope_name)
    if not found:
        raise Refusal(f"No image textures in {SCOPE_TEXT.get(scope_name, scope_name)}.")
    policy = batch_settings.role_policy(addon_data.batch_settings(context.scene), overrides.data_maps)
    # Results switch nodes only in the materials listed with each job, whatever the scope.
    record_scope = "ACTIVE_MATERIAL" if scope_name == "ACTIVE_MATERIAL" else "SELECTED_OBJECTS"
    batch = Batch(scope_name)
    spend = request.spend_policy(addon_data.preferences())
    # The confirmation limit counts the whole batch: many cheap images can add up. With nothing
    # to decide (no limit, no rehearsal) each image is priced and paid at once, not held for
    # the total: its price is still shown, and the summary says what was spent.
    if spend.must_know:
        batch.spend = spend
    starter = _Starter(rt, batch, colour, policy, record_scope)
    for entry in found:
        item = BatchItem(entry.image.name, entry.role, local_id=new_job_id(),
                         materials=list(entry.materials))
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
    queue: deque[_Queued] = field(default_factory=deque)

    def step(self, seconds: float) -> bool:
        """Starts queued jobs for about ``seconds`` (at least one); True once none are left."""
        now = time.perf_counter()
        deadline, last = now + seconds, 0.0
        # The next start is assumed to take as long as the last: stop before overrunning.
        while self.queue and (not last or now + last <= deadline):
            self._start(self.queue.popleft())
            last, now = time.perf_counter() - now, time.perf_counter()
        settle(self.rt, self.batch)  # the others may all be priced, and the last one skipped
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
        if lookup.has_property(image, result_image.PROVENANCE_SOURCE):
            original = image[result_image.PROVENANCE_SOURCE]
            return self._skip(item, f"Already an upscaled result (of '{original}').")
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
        job, connect = prepared.job, prepared.connection.connect
        if self.batch.spend is not None:  # priced first: paid once the batch's total is
            self.batch.parked[item.local_id] = (job, connect)
            rt.start_price(job, connect, image.name, held=view)
        else:
            rt.start_upscale(job, connect, image.name, held=view)
        item.preset, item.status = params.preset or "", ItemStatus.RUNNING

    def _skip(self, item: BatchItem, reason: str) -> None:
        item.status, item.reason = ItemStatus.SKIPPED, reason
        self.rt.release(item.local_id, ViewStatus.FAILED, reason)
