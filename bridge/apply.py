"""Main thread: a finished job concluded: its result applied as an undo step of its own (or a
redo of it), or why there is nothing to apply; and what the report then says."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import bpy

from ..api.prices import credits_text
from ..api.wording import counted, verb
from ..core import job_text, job_view, spend_policy
from ..core.journal import JobRecord
from ..core.states import JobState, Stage, ViewStatus
from . import result_image, runtime, scope, udim_result
from .result_image import Applied
from .undo_step import UndoStep

# The report types an outcome is told with (Operator.report).
ReportLevel = Literal["INFO", "WARNING", "ERROR"]


@dataclass(frozen=True)
class Outcome:
    level: ReportLevel
    message: str
    applied: Applied | None = None


# What scenario.apply_result found, for the operator that ran the job to report.
APPLIED: UndoStep[Outcome] = UndoStep()


def is_waiting(rt: runtime.Runtime, local_id: str) -> bool:
    """True while a downloaded result waits for its first application."""
    view = rt.view(local_id)
    return view is not None and view.status == ViewStatus.READY


def apply_job(rt: runtime.Runtime, context: bpy.types.Context, local_id: str,
              scope_name: str, waiting: bool) -> Outcome:
    """scenario.apply_result's work: the first application of a downloaded result
    (``waiting``, see is_waiting), or a redo or repeat of it, which loads the same file again
    and never asks Scenario for anything."""
    view = rt.view(local_id)
    record = view.record if view is not None else None
    record = record or next((r for r in rt.recent if r.local_id == local_id), None)
    if record is None or not record.result_path:
        return Outcome("ERROR", "That upscale's result is no longer known; use Recent Jobs.")
    materials = (record.target_materials if scope_name == record.scope
                 else scope.scope_materials(context, scope_name))
    try:
        done = result_image.apply_result(record, scope_name, materials)
    except (OSError, RuntimeError) as exc:
        message = (f"The result was saved to {record.result_path} but could not be loaded "
                   f"into Blender: {exc}")
        outcome = _failed(view, message) if waiting else Outcome("ERROR", message)
    else:
        if view is not None:
            view.result = done
        if waiting:
            assert view is not None
            # Main thread: no fsync. Losing this write only shows the job as downloaded, and
            # re-applying it is free; every state that guards money stays durable.
            rt.journal.transition(record, JobState.APPLIED, durable=False)
            view.status = ViewStatus.DONE
            outcome = _first_outcome(record, view, done, scope_name)
        else:
            outcome = Outcome("INFO", f"{_where(record, done, scope_name)}.", done)
    if waiting:
        APPLIED.hand_back(local_id, outcome)
    return outcome


def _failed(view: job_view.JobView | None, message: str) -> Outcome:
    if view is not None:
        view.status, view.message = ViewStatus.FAILED, message
    return Outcome("ERROR", message)


def _where(record: JobRecord, done: Applied, scope_name: str) -> str:
    if scope_name == "NONE":
        return f"created '{done.image_name}'"
    if done.nodes_switched == 0:
        gone = "was removed" if result_image.find_source(record) is None else "is used by no node in scope"
        return (f"created '{done.image_name}'; the source '{record.source_image}' {gone}, "
                "so no node was switched")
    nodes = done.nodes_switched
    return f"{counted(nodes, 'node')} now {verb(nodes, 'uses', 'use')} '{done.image_name}'"


def _first_outcome(record: JobRecord, view: job_view.JobView, done: Applied,
                   scope_name: str) -> Outcome:
    if record.is_set:
        factor = record.factor
        what = f"the {len(record.tiles)} UDIM tiles of '{record.source_image}' ×{factor}"
    else:
        what = f"'{record.source_image}' to {done.width}×{done.height} px"
    paid = (f"for {credits_text(record.cost)}" if record.cost is not None
            else "(its cost is unknown)")
    message = (f"Upscaled {what} in {view.elapsed:.0f} s {paid}: "
               f"{_where(record, done, scope_name)}; saved to {done.path}.")
    if record.is_set:
        extra, warns = udim_result.fidelity_text(record)
        return Outcome("WARNING" if warns else "INFO", f"{message} {extra}".strip(), done)
    fidelity = record.fidelity
    if fidelity.get("result_seam") is not None:
        before = fidelity.get("source_seam")
        message += (f" Seam ratio {before:.2f} → {fidelity['result_seam']:.2f}."
                    if before is not None else f" Seam ratio {fidelity['result_seam']:.2f}.")
    extra = " ".join(fidelity.get("notes", []) + fidelity.get("warnings", []))
    level: ReportLevel = "WARNING" if fidelity.get("warnings") else "INFO"
    return Outcome(level, f"{message} {extra}".strip(), done)


def conclude(rt: runtime.Runtime, view: job_view.JobView) -> Outcome:
    """Applies a downloaded job (main thread) or explains why there is nothing to apply."""
    record = view.record
    assert record is not None
    if view.status == ViewStatus.READY:
        view.stage = Stage.APPLYING
        # Through the operator, so the swap is an undo step of its own (see apply_result.py):
        # called from Python an operator pushes one only when asked to (the True).
        # bpy.ops.scenario exists once the add-on registered its operators.
        return APPLIED.run(
            view.local_id,
            lambda: bpy.ops.scenario.apply_result(  # type: ignore[attr-defined]
                "EXEC_DEFAULT", True, local_id=view.local_id, scope=record.scope),
            lambda reason: _failed(view, reason), missing="the operator did not run")
    if view.status == ViewStatus.CANCELLED:
        level: ReportLevel = "INFO" if record.state == JobState.CANCELLED else "WARNING"
        return Outcome(level, job_text.cancel_report(record))
    if isinstance(view.error, spend_policy.NotSpentError) and view.error.by_choice:
        return Outcome("INFO", view.message)  # Don't Pay, or a rehearsal: the artist's choice
    return Outcome("ERROR", view.failure_report)
