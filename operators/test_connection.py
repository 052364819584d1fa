"""scenario.test_connection: check the keys against Scenario without blocking the UI."""

from __future__ import annotations

from typing import Any

import bpy

from ..api.errors import NotFoundError, ScenarioError
from ..api.model_check import unavailable_message
from ..bridge import connection, runtime
from ..bridge.modal import JobModalMixin
from ..core.journal import new_job_id
from ..core.refusal import Refusal
from ..core.scheduler import JobContext
from ..core.states import ViewStatus


class SCENARIO_OT_test_connection(JobModalMixin, bpy.types.Operator):
    bl_idname = "scenario.test_connection"
    bl_label = "Test Connection"
    bl_description = ("Check that Scenario accepts the API key and secret, and that its model "
                      "still takes the settings this add-on offers")

    def execute(self, context: bpy.types.Context) -> set[str]:
        try:
            conn = connection.connection()
        except (Refusal, ScenarioError) as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}

        def check(ctx: JobContext) -> Any:
            client = conn.connect(ctx)
            try:
                return client.check_connection()
            finally:
                client.close()

        self._model_id = conn.model_id
        view = runtime.JobView(new_job_id(), "Connection test")
        runtime.get().start(view, check)
        return self.follow(context, [view.local_id])

    def job_ended(self, context: bpy.types.Context, view: runtime.JobView) -> None:
        runtime.get().forget(view.local_id)  # a check, not a job for Recent Jobs
        self._ok = view.status == ViewStatus.READY
        if self._ok:
            source = connection.keys_source() or "unknown"
            self.report({"INFO"}, f"Connected to Scenario (keys from the {source}); its model "
                                  f"'{view.result.model_id}' is available.")
            drift = view.result.differences()
            if drift:
                self.report({"WARNING"}, "Scenario's model has changed; settings may be refused "
                            "until the add-on is updated: " + " ".join(drift))
        elif isinstance(view.error, NotFoundError):
            self.report({"ERROR"}, f"The keys work, but {unavailable_message(self._model_id)}")
        elif view.status == ViewStatus.FAILED:
            self.report({"ERROR"}, view.failure_report)
        else:
            self.report({"ERROR"}, "The connection test was cancelled.")

    def finish(self, context: bpy.types.Context) -> set[str]:
        return {"FINISHED"} if self._ok else {"CANCELLED"}
