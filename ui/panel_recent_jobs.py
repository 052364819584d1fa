"""Image Editor sidebar: Recent Jobs — what this computer spent, a list of the last upscales (the
image, the factor and when), and the chosen one in full: its result, state, cost, error, and
recover / re-apply, its folder, the log and forget."""

from __future__ import annotations

import os

import bpy

from ..api.wording import counted
from ..bridge import addon_data, recent_list, recovery, runtime
from ..bridge.recent_list import ScenarioRecentList, ScenarioRecentRow
from ..core import spending
from ..core.journal import JobRecord
from ..core.naming import UDIM_TOKEN
from ..core.states import JobState
from .lines import label_lines
from .panel_upscale import ScenarioImagePanel
from .widgets import Icon, button

STATE_ICONS: dict[JobState, Icon] = {
    JobState.APPLIED: "CHECKMARK", JobState.DOWNLOADED: "IMPORT", JobState.SUCCEEDED: "IMPORT",
    JobState.SUBMITTED: "TIME", JobState.ABANDONED: "TIME", JobState.TIMED_OUT: "TIME",
    JobState.FAILED: "ERROR", JobState.CANCELLED: "CANCEL", JobState.UNCERTAIN: "QUESTION",
    JobState.PREPARED: "TIME", JobState.SUBMITTING: "TIME",
}
# A job's state in the artist's words.
STATE_WORDS = {
    JobState.PREPARED: "Not sent", JobState.SUBMITTING: "Priced, not paid",
    JobState.SUBMITTED: "Running at Scenario", JobState.UNCERTAIN: "Uncertain",
    JobState.SUCCEEDED: "Done at Scenario, not downloaded", JobState.DOWNLOADED: "Downloaded",
    JobState.APPLIED: "Applied", JobState.FAILED: "Failed",
    JobState.ABANDONED: "Not collected yet", JobState.TIMED_OUT: "Timed out",
    JobState.CANCELLED: "Cancelled at Scenario",
}


def state_word(record: JobRecord) -> str:
    return "Declined" if record.declined else STATE_WORDS.get(record.state, record.state.title())


def state_icon(record: JobRecord) -> Icon:
    return "X" if record.declined else STATE_ICONS.get(record.state, "DOT")


def job_title(record: JobRecord) -> str:
    if record.is_set:
        return f"{record.source_image} ({counted(len(record.tiles), 'tile')})"
    return f"{record.source_image} (previews)" if record.is_preview_set else record.source_image


def factor_of(record: JobRecord) -> str:
    factor = record.params.get("upscaleFactor")
    return f"×{factor:g}" if isinstance(factor, (int, float)) else ""


class SCENARIO_UL_recent_jobs(bpy.types.UIList):
    """A job per row: its state's icon, the image, and on the right its factor and time."""

    def draw_item(self, context: bpy.types.Context, layout: bpy.types.UILayout,
                  data: ScenarioRecentList, item: ScenarioRecentRow, icon: int,
                  active_data: bpy.types.AnyType, active_property: str, index: int = 0,
                  flt_flag: int = 0) -> None:
        record = recent_list.record_of(runtime.peek(), item.local_id)
        if record is None:
            layout.label(text=item.title, icon="DOT")
            return
        split = layout.split(factor=0.6)
        split.label(text=job_title(record), icon=state_icon(record))
        right = split.row()
        right.alignment = "RIGHT"
        right.label(text=f"{factor_of(record)} {recent_list.when_text(record.created_at)}")


class IMAGE_PT_scenario_recent_jobs(ScenarioImagePanel, bpy.types.Panel):
    bl_label = "Recent Jobs"
    bl_parent_id = "IMAGE_PT_scenario_upscale"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        if layout is None:
            return
        rt = runtime.peek()
        if rt is not None:
            label_lines(layout, context, spending.spent(rt.recent).text, icon="INFO")
        if rt and rt.damaged:
            files = counted(len(rt.damaged), "damaged journal file")
            label_lines(layout, context, f"{files} kept aside in {rt.journal.folder} (see the "
                                         "log)", icon="ERROR")
        row = layout.split(factor=0.6, align=True)
        row.operator("scenario.open_folder", text="Output Folder", icon="FILE_FOLDER")
        row.operator("scenario.open_log", icon="TEXT")
        state = addon_data.recent_list(context.window_manager)
        if state is None:  # Blender is starting
            return
        newer = rt.newer if rt else []
        if not len(state.rows) and not newer:
            layout.label(text="No upscales yet")
            return
        if len(state.rows):
            layout.template_list("SCENARIO_UL_recent_jobs", "", state, "rows", state, "active",
                                 rows=min(max(len(state.rows), 3), 6))
        if rt is not None and 0 <= state.active < len(state.rows):
            record = recent_list.record_of(rt, state.rows[state.active].local_id)
            if record is not None:
                _draw_job(layout.box(), context, rt, record)
        for entry in newer:
            box = layout.box()
            label_lines(box, context, entry.title, icon="QUESTION")
            label_lines(box, context, NEWER_VERSION.format(version=entry.version), icon="INFO")


def _draw_job(box: bpy.types.UILayout, context: bpy.types.Context, rt: runtime.Runtime,
              record: JobRecord) -> None:
    """The chosen job in full, in whole lines, and what can be done with it."""
    title = job_title(record)
    result = os.path.basename(record.result_path).replace(UDIM_TOKEN, "<UDIM>")
    label_lines(box, context, f"{title} → {result}" if result else title, icon=state_icon(record))
    when = recent_list.when_text(record.created_at)
    label_lines(box, context, f"{state_word(record)}, {factor_of(record)}, {when}")
    if not record.declined:  # a declined job's error says it: nothing was spent
        label_lines(box, context, spending.cost_text(record, rt.recent))
    not_now = recovery.why_not_now(rt, record.local_id)
    if not_now:
        label_lines(box, context, not_now, icon="TIME")
    if record.error:
        label_lines(box, context, record.error, icon="INFO")
    row = box.row(align=True)
    if record.recoverable or record.state == JobState.APPLIED:
        text = "Re-apply" if record.state == JobState.APPLIED else "Recover"
        cell = row.row(align=True)
        cell.enabled = not not_now
        button(cell, "scenario.recover_jobs", text=text,
               icon="FILE_REFRESH").local_id = record.local_id
    button(row, "scenario.forget_job", icon="X").local_id = record.local_id
    if record.result_path:
        button(box, "scenario.open_folder", text="Show File",
               icon="FILE_FOLDER").filepath = record.result_files[0] if record.is_set \
            else record.result_path


NEWER_VERSION = ("Written by a newer version of the add-on (journal version {version}): this "
                 "version leaves it alone. Update the add-on to recover or forget it.")


classes = (SCENARIO_UL_recent_jobs, IMAGE_PT_scenario_recent_jobs)
