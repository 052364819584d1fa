"""Image Editor sidebar: Recent Jobs — status, cost and result of the last upscales, with
recover / re-apply, show file and forget."""

from __future__ import annotations

import os

import bpy

from ..bridge import recovery, runtime
from ..core.states import JobState
from .lines import label_lines
from .panel_upscale import ScenarioImagePanel

SHOWN = 10
STATE_ICONS = {
    JobState.APPLIED: "CHECKMARK", JobState.DOWNLOADED: "IMPORT", JobState.SUCCEEDED: "IMPORT",
    JobState.SUBMITTED: "TIME", JobState.ABANDONED: "TIME", JobState.TIMED_OUT: "TIME",
    JobState.FAILED: "ERROR", JobState.CANCELLED: "CANCEL", JobState.UNCERTAIN: "QUESTION",
    JobState.PREPARED: "TIME", JobState.SUBMITTING: "TIME",
}


class IMAGE_PT_scenario_recent_jobs(ScenarioImagePanel, bpy.types.Panel):
    bl_label = "Recent Jobs"
    bl_parent_id = "IMAGE_PT_scenario_upscale"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        rt = runtime.peek()
        # A UDIM set is shown as one job: its tiles' records are its parts.
        records = [r for r in rt.recent if not r.tile_set and not r.preview_set][:SHOWN] if rt else []
        if rt and rt.damaged:
            files = "1 damaged journal file" if len(rt.damaged) == 1 else \
                f"{len(rt.damaged)} damaged journal files"
            label_lines(layout, context, f"{files} kept aside in {rt.journal.folder} (see the "
                                         "log)", icon="ERROR")
        newer = rt.newer if rt else []
        if not records and not newer:
            layout.label(text="No upscales yet")
            return
        for record in records:
            box = layout.box()
            row = box.row()
            title = (f"{record.source_image} ({len(record.tiles)} tiles)" if record.is_set
                     else f"{record.source_image} (previews)" if record.is_preview_set
                     else record.source_image)
            row.label(text=title, icon=STATE_ICONS.get(record.state, "DOT"))
            row.label(text=record.state.replace("_", " ").title())
            if record.cost is not None:
                row.label(text=f"{record.cost:g} CU")
            elif record.job_id:
                row.label(text="Cost unknown")
            row = box.row(align=True)
            not_now = recovery.why_not_now(rt, record.local_id) if rt else ""
            if record.recoverable or record.state == JobState.APPLIED:
                text = "Re-apply" if record.state == JobState.APPLIED else "Recover"
                button = row.row(align=True)
                button.enabled = not not_now
                button.operator("scenario.recover_jobs", text=text,
                                icon="FILE_REFRESH").local_id = record.local_id
            if record.result_path:
                row.operator("wm.path_open", text="Show File", icon="FILE_FOLDER").filepath = \
                    os.path.dirname(record.result_path)
            row.operator("scenario.forget_job", text="", icon="X").local_id = record.local_id
            if not_now:
                label_lines(box, context, not_now, icon="TIME")
            if record.error:
                label_lines(box, context, record.error, icon="INFO")
        for entry in newer:
            box = layout.box()
            box.label(text=entry.title, icon="QUESTION")
            label_lines(box, context, NEWER_VERSION.format(version=entry.version), icon="INFO")


NEWER_VERSION = ("Written by a newer version of the add-on (journal version {version}): this "
                 "version leaves it alone. Update the add-on to recover or forget it.")


classes = (IMAGE_PT_scenario_recent_jobs,)
