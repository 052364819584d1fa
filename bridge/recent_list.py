"""Recent Jobs as a list: its rows (``WindowManager.scenario_recent``: runtime state, never
saved in a .blend) follow the runtime's copy of the journal, newest first; drawing reads each
row's record by its id. Rows cannot be written while a panel draws, so they are written when
the journal's copy changes (a timer with a UI; at once without one)."""

from __future__ import annotations

import time

import bpy
from bpy.props import CollectionProperty, IntProperty, StringProperty

from ..core.journal import JobRecord
from . import addon_data, runtime

LONGEST = 100  # rows at most: older jobs stay in the journal (Recover still finds them)


class ScenarioRecentRow(bpy.types.PropertyGroup):
    local_id: StringProperty(name="Job")  # type: ignore[valid-type]
    title: StringProperty(name="Image")  # type: ignore[valid-type]


class ScenarioRecentList(bpy.types.PropertyGroup):
    rows: CollectionProperty(type=ScenarioRecentRow)  # type: ignore[valid-type]
    active: IntProperty()  # type: ignore[valid-type]


classes = (ScenarioRecentRow, ScenarioRecentList)


def shown(rt: runtime.Runtime) -> list[JobRecord]:
    """The jobs Recent Jobs lists: a UDIM set or a preview set as one job (its tiles' or
    variants' records are its parts)."""
    return [r for r in rt.recent if not r.tile_set and not r.preview_set][:LONGEST]


def record_of(rt: runtime.Runtime | None, local_id: str) -> JobRecord | None:
    if rt is None:
        return None
    return next((r for r in rt.recent if r.local_id == local_id), None)


def sync(rt: runtime.Runtime) -> bool:
    """Writes the rows from ``rt.recent``, keeping the active job selected. False when Blender
    does not allow it now (registering, drawing): then a timer does it a moment later."""
    wm = getattr(bpy.context, "window_manager", None)
    state = addon_data.recent_list(wm)
    if state is None:
        return False
    wanted = [(r.local_id, r.source_image) for r in shown(rt)]
    have = [(row.local_id, row.title) for row in state.rows]
    if wanted == have:
        return True
    active = state.rows[state.active].local_id if 0 <= state.active < len(state.rows) else ""
    try:
        state.rows.clear()
        for local_id, title in wanted:
            row = state.rows.add()
            row.local_id, row.title = local_id, title
        ids = [local_id for local_id, _ in wanted]
        # A new job is shown at once; otherwise the chosen one stays chosen.
        new = bool(ids) and ids[0] not in {local_id for local_id, _ in have}
        state.active = ids.index(active) if active in ids and not new else 0
    except (AttributeError, RuntimeError):  # a restricted context: written later
        return False
    return True


def _changed(rt: runtime.Runtime) -> None:
    if bpy.app.background:
        sync(rt)
    elif not bpy.app.timers.is_registered(_sync_later):
        bpy.app.timers.register(_sync_later, first_interval=0.0)


def _sync_later() -> float | None:
    rt = runtime.peek()
    if rt is not None and not sync(rt):
        return 0.5  # not yet allowed: again in a moment
    return None


def when_text(stamp: float, now: float | None = None) -> str:
    """'14:32' today, else '3 Mar 14:32' (local time)."""
    when, today = time.localtime(stamp), time.localtime(now)
    if (when.tm_year, when.tm_yday) == (today.tm_year, today.tm_yday):
        return time.strftime("%H:%M", when)
    return f"{when.tm_mday} {time.strftime('%b %H:%M', when)}"


def register() -> None:
    setattr(bpy.types.WindowManager, addon_data.RECENT_LIST,
            bpy.props.PointerProperty(type=ScenarioRecentList))
    if _changed not in runtime.RECENT_CHANGED:
        runtime.RECENT_CHANGED.append(_changed)


def unregister() -> None:
    if _changed in runtime.RECENT_CHANGED:
        runtime.RECENT_CHANGED.remove(_changed)
    if bpy.app.timers.is_registered(_sync_later):
        bpy.app.timers.unregister(_sync_later)
    delattr(bpy.types.WindowManager, addon_data.RECENT_LIST)
