"""The one place where classes, properties and handlers are wired into Blender."""

from __future__ import annotations

import logging

import bpy
from bpy.app.handlers import persistent

from . import bridge, operators, ui
from .bridge import (
    addon_data,
    batch_settings,
    cli,
    connection,
    copies,
    defaults,
    editor_view,
    preview_frame,
    previews,
    recent_list,
    runtime,
    settings,
)
from .core import addon_log

log = logging.getLogger(__name__)
classes = (settings.classes + batch_settings.classes + recent_list.classes + ui.classes
           + operators.classes)


@persistent  # type: ignore[untyped-decorator]  # bpy leaves it untyped
def _before_file_load(_filepath: str) -> None:
    # Running jobs belong to the file being closed: stop waiting, keep them for recovery there.
    rt = runtime.peek()
    if rt is not None:
        rt.cancel_all()


@persistent  # type: ignore[untyped-decorator]  # bpy leaves it untyped
def _after_file_load(_filepath: str) -> None:
    editor_view.forget_all()
    previews.forget_places()
    runtime.new_session()
    defaults.apply_to_all_scenes()
    runtime.get().refresh_journal()


@persistent  # type: ignore[untyped-decorator]  # bpy leaves it untyped
def _after_undo_or_redo(*_args: object) -> None:
    editor_view.follow_undo()


# The add-on's data on Blender's types; addon_data reads it by these names.
POINTERS: tuple[tuple[type[bpy.types.ID], str, type[bpy.types.PropertyGroup]], ...] = (
    (bpy.types.Scene, addon_data.UPSCALE_SETTINGS, settings.ScenarioUpscaleSettings),
    (bpy.types.Scene, addon_data.BATCH_SETTINGS, batch_settings.ScenarioBatchSettings),
    (bpy.types.WindowManager, addon_data.BATCH_LIST, batch_settings.ScenarioBatchList),
)
HANDLERS = (
    (bpy.app.handlers.load_pre, _before_file_load),
    (bpy.app.handlers.load_post, _after_file_load),
    (bpy.app.handlers.undo_post, _after_undo_or_redo),
    (bpy.app.handlers.redo_post, _after_undo_or_redo),
)


def register() -> None:
    copies.refuse_beside_another()  # before anything is registered
    data = runtime.user_folder()
    addon_log.install(data)
    gathered = copies.gather_old_data(data)
    for cls in classes:  # as bpy.utils.register_classes_factory does
        bpy.utils.register_class(cls)
    connection.hide_from_log()
    for owner, name, group in POINTERS:
        setattr(owner, name, bpy.props.PointerProperty(type=group))
    recent_list.register()
    ui.menus.register()
    preview_frame.register()
    cli.register()
    for handlers, handler in HANDLERS:
        handlers.append(handler)
    taken_from = copies.take_over_preferences()
    if taken_from or gathered:
        log.info("Took over from other copies: preferences of %s; %d file(s) of jobs and log",
                 taken_from or "none", len(gathered))
    runtime.get()  # reads the journal, so unfinished jobs are offered at once


def unregister() -> None:
    copies.leave_preferences()  # for a copy enabled next, while the preferences still exist
    for handlers, handler in HANDLERS:
        if handler in handlers:
            handlers.remove(handler)
    cli.unregister()
    preview_frame.unregister()
    ui.menus.unregister()
    runtime.shutdown()
    recent_list.unregister()
    for owner, name, _group in reversed(POINTERS):
        delattr(owner, name)
    for cls in reversed(classes):
        bpy.utils.unregister_class(cls)
    log.info("Disabled. Jobs and the log stay in %s, also when the add-on is uninstalled.",
             runtime.user_folder())
    addon_log.uninstall()


__all__ = ["bridge", "register", "unregister"]
