"""scenario.test_connection: check the keys against Scenario without blocking the UI."""

from __future__ import annotations

from typing import Any

import bpy

from ..api.errors import NotFoundError, ScenarioError
from ..api.model_check import unavailable_message
from ..bridge import connection, runtime
from ..bridge.apply import ReportLevel
from ..bridge.modal import JobModalMixin
from ..core.job_view import JobView
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
            self._tell("ERROR", str(exc))
            return {"CANCELLED"}
        self._told: list[tuple[str, str]] = []
        connection.tell_test([("INFO", "Testing the connection to Scenario…")])

        def check(ctx: JobContext) -> Any:
            client = conn.connect(ctx)
            try:
                return client.check_connection()
            finally:
                client.close()

        self._model_id = conn.model_id
        view = JobView(new_job_id(), "Connection test")
        runtime.get().start(view, check)
        return self.follow(context, [view.local_id])

    def job_ended(self, context: bpy.types.Context, view: JobView) -> None:
        runtime.get().forget(view.local_id)  # a check, not a job for Recent Jobs
        self._ok = view.status == ViewStatus.READY
        self._told = []
        if self._ok:
            source = connection.keys_source() or "unknown"
            self._tell("INFO", f"Connected to Scenario (keys from the {source}); its model "
                               f"'{view.result.model_id}' is available.")
            drift = view.result.differences()
            if drift:
                self._tell("WARNING", "Scenario's model has changed; settings may be refused "
                                      "until the add-on is updated: " + " ".join(drift))
        elif isinstance(view.error, NotFoundError):
            self._tell("ERROR", f"The keys work, but {unavailable_message(self._model_id)}")
        elif view.status == ViewStatus.FAILED:
            self._tell("ERROR", view.failure_report)
        else:
            self._tell("ERROR", "The connection test was cancelled.")

    def _tell(self, level: ReportLevel, text: str) -> None:
        """Reported, and shown in the preferences, where the button was pressed."""
        self.report({level}, text)
        self._told = [*getattr(self, "_told", []), (level, text)]
        connection.tell_test(self._told)

    def finish(self, context: bpy.types.Context) -> set[str]:
        return {"FINISHED"} if self._ok else {"CANCELLED"}
