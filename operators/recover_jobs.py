"""scenario.recover_jobs: collect and apply results of unfinished jobs, without paying again."""

from __future__ import annotations

import bpy
from bpy.props import StringProperty

from ..api.errors import ScenarioError
from ..bridge import apply, previews, recent_list, recovery, runtime
from ..bridge.modal import PaidJobModal
from ..core.job_view import JobView
from ..core.refusal import Refusal
from ..core.states import JobState


class SCENARIO_OT_recover_jobs(PaidJobModal, bpy.types.Operator):
    bl_idname = "scenario.recover_jobs"
    bl_label = "Recover"
    bl_description = (
        "Collect the results of upscales that were paid for but not applied (after a crash, a "
        "quit or a cancelled wait) and apply them. It pays only for the tiles of a UDIM set "
        "that have no result yet (failed or never sent), under the same price rules as an upscale"
    )
    local_id: StringProperty(  # type: ignore[valid-type]
        name="Job", description="One job from Recent Jobs (also re-applies a finished one); "
        "empty: every unfinished job of this file", options={"SKIP_SAVE"},
    )

    @classmethod
    def description(cls, context: bpy.types.Context, properties: bpy.types.OperatorProperties
                    ) -> str:
        record = recent_list.record_of(runtime.peek(), properties.local_id)
        if record is not None and record.state == JobState.APPLIED:
            return ("Use this result again: its saved file is loaded and the nodes in scope "
                    "switch to it. Nothing is sent to Scenario, nothing is paid")
        return cls.bl_description

    def execute(self, context: bpy.types.Context) -> set[str]:
        rt = runtime.get()
        rt.refresh_journal()
        if self.local_id:
            records = [r for r in rt.recent if r.local_id == self.local_id]
        else:
            records = rt.recoverable(recovery.current_file())
        if not records:
            self.report({"INFO"}, "No unfinished upscale to recover for this file.")
            return {"CANCELLED"}
        self._applied = 0
        started = []
        for record in records:
            try:
                started.append(recovery.resume(rt, record).local_id)
            except (Refusal, ScenarioError, OSError, RuntimeError) as exc:
                self.report({"ERROR"}, str(exc))
        return self.follow(context, started) if started else {"CANCELLED"}

    def job_ended(self, context: bpy.types.Context, view: JobView) -> None:
        preview = view.record is not None and view.record.is_preview_set
        outcome = (previews.conclude if preview else apply.conclude)(runtime.get(), view)
        self._applied += outcome.applied is not None or (preview and outcome.level != "ERROR")
        self.report({outcome.level}, outcome.message)

    def finish(self, context: bpy.types.Context) -> set[str]:
        return {"FINISHED"} if self._applied else {"CANCELLED"}
