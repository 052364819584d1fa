"""scenario.upscale_materials: upscale every texture of the materials in scope, one job per image."""

from __future__ import annotations

import bpy
from bpy.props import EnumProperty, IntProperty

from ..api.errors import ScenarioError
from ..api.params import FIELD_SPECS
from ..bridge import addon_data, availability, batch_conclude, batch_list, batch_start, runtime
from ..bridge.apply import ReportLevel
from ..bridge.batch_settings import BATCH_SCOPE_ITEMS
from ..bridge.modal import PaidJobModal, redraw_editors
from ..bridge.model_props import enum_items
from ..core.job_view import JobView
from ..core.refusal import Refusal
from ..core.states import ItemStatus, ViewStatus

SCENE_PRESET = "SCENE"


class SCENARIO_OT_upscale_materials(PaidJobModal, bpy.types.Operator):
    bl_idname = "scenario.upscale_materials"
    bl_label = "Upscale All Textures"
    bl_description = (
        "Upscale every image texture of the materials in scope with Scenario (one job per image, "
        "data maps kept precise) and switch their nodes to the results. Each image costs "
        "credits: with Show Price First, the batch's total is known before anything is paid"
    )
    scope: EnumProperty(  # type: ignore[valid-type]
        name="Textures Of", items=BATCH_SCOPE_ITEMS, default="SELECTED_OBJECTS",
        options={"SKIP_SAVE"}, description="Which materials' textures; unset: the scene's setting",
    )
    upscale_factor: IntProperty(  # type: ignore[valid-type]
        name="Factor", default=0, min=0, max=int(FIELD_SPECS["upscale_factor"].maximum or 8),
        options={"SKIP_SAVE"},
        description="How many times larger each side becomes (0: the scene's setting)",
    )
    preset: EnumProperty(  # type: ignore[valid-type]
        name="Preset", options={"SKIP_SAVE"},
        items=[(SCENE_PRESET, "Scene Setting", "The scene's preset")] + enum_items("preset"),
        description="Preset for colour maps; data maps follow the batch settings",
    )

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return availability.allows(cls, availability.why_cannot_connect())

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        return self.execute(context)

    def execute(self, context: bpy.types.Context) -> set[str]:
        scope_name = availability.chosen_scope(self, addon_data.batch_settings(context.scene))
        overrides = batch_start.Overrides(
            factor=int(self.upscale_factor),
            preset="" if self.preset == SCENE_PRESET else self.preset,
        )
        if overrides.factor == 1:
            self.report({"ERROR"}, "The factor must be 2 or more (0 uses the scene's setting).")
            return {"CANCELLED"}
        try:
            self._batch = batch_start.start(context, scope_name, overrides)
        except (Refusal, ScenarioError) as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        wm = context.window_manager
        assert wm is not None  # Blender's, also in background mode
        batch_list.show(wm, self._batch)
        for item in self._batch.skipped:
            self.report({"WARNING"}, f"Skipped '{item.image}': {item.reason}")
        if not self._batch.job_ids:
            return self.finish(context)
        return self.follow(context, [item.local_id for item in self._batch.pending])

    def _collect(self, context: bpy.types.Context, rt: runtime.Runtime) -> None:
        """Follows the batch, not a fixed list of jobs: a priced image waits for the batch's
        total, and then the same job goes on to be paid."""
        batch = self._batch
        for item in list(batch.pending):
            view = rt.view(item.local_id)
            if (view is not None and view.status != ViewStatus.RUNNING
                    and item.status != ItemStatus.PRICED):
                self.job_ended(context, view)
        self._pending = [item.local_id for item in batch.pending]

    def stop_jobs(self, rt: runtime.Runtime, by_user: bool) -> None:
        batch_conclude.cancel(rt, self._batch, by_user)

    def job_ended(self, context: bpy.types.Context, view: JobView) -> None:
        outcome = batch_conclude.conclude(runtime.get(), self._batch, view)
        if not outcome.message:
            return  # priced: it waits for the batch's total
        # One image failing is part of a batch's result, not the operator's failure (an ERROR
        # report would make a script's bpy.ops call raise after the others were applied).
        level = "WARNING" if outcome.level == "ERROR" else outcome.level
        # A priced image's end speaks for the whole batch (its total was judged).
        named = level != "INFO" and view.status != ViewStatus.PRICED
        self.report({level}, f"'{view.title}': {outcome.message}" if named else outcome.message)

    def finish(self, context: bpy.types.Context) -> set[str]:
        batch = self._batch
        batch.finish_if_done()
        counts = batch.counts()
        # Declined images are the artist's choice, not a failure.
        failed = counts[ItemStatus.FAILED] or counts[ItemStatus.CANCELLED]
        level: ReportLevel = "WARNING" if failed else "INFO"
        self.report({level}, f"Batch: {batch.summary_text()}.")
        redraw_editors(context)
        return {"FINISHED"} if counts[ItemStatus.DONE] else {"CANCELLED"}
