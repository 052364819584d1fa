"""The one place where classes, properties and handlers are wired into Blender."""

from __future__ import annotations

import bpy
from bpy.app.handlers import persistent

from . import bridge, operators, ui
from .bridge import (
    batch_settings,
    cli,
    connection,
    defaults,
    editor_view,
    preview_frame,
    previews,
    runtime,
    settings,
)
from .core import addon_log

classes = settings.classes + batch_settings.classes + ui.classes + operators.classes
_register_classes, _unregister_classes = bpy.utils.register_classes_factory(classes)


@persistent
def _before_file_load(_filepath: str) -> None:
    # Running jobs belong to the file being closed: stop waiting, keep them for recovery there.
    rt = runtime.peek()
    if rt is not None:
        rt.cancel_all()


@persistent
def _after_file_load(_filepath: str) -> None:
    editor_view.forget_all()
    previews.forget_places()
    runtime.new_session()
    defaults.apply_to_all_scenes()
    runtime.get().refresh_journal()


@persistent
def _after_undo_or_redo(*_args: object) -> None:
    editor_view.follow_undo()


HANDLERS = (
    (bpy.app.handlers.load_pre, _before_file_load),
    (bpy.app.handlers.load_post, _after_file_load),
    (bpy.app.handlers.undo_post, _after_undo_or_redo),
    (bpy.app.handlers.redo_post, _after_undo_or_redo),
)


def register() -> None:
    addon_log.install(runtime.user_folder())
    _register_classes()
    connection.hide_from_log()
    bpy.types.Scene.scenario_upscale = bpy.props.PointerProperty(
        type=settings.ScenarioUpscaleSettings
    )
    bpy.types.Scene.scenario_batch = bpy.props.PointerProperty(
        type=batch_settings.ScenarioBatchSettings
    )
    bpy.types.WindowManager.scenario_batch = bpy.props.PointerProperty(
        type=batch_settings.ScenarioBatchList
    )
    ui.menus.register()
    preview_frame.register()
    cli.register()
    for handlers, handler in HANDLERS:
        handlers.append(handler)
    runtime.get()  # reads the journal, so unfinished jobs are offered at once


def unregister() -> None:
    for handlers, handler in HANDLERS:
        if handler in handlers:
            handlers.remove(handler)
    cli.unregister()
    preview_frame.unregister()
    ui.menus.unregister()
    runtime.shutdown()
    del bpy.types.WindowManager.scenario_batch
    del bpy.types.Scene.scenario_batch
    del bpy.types.Scene.scenario_upscale
    _unregister_classes()
    addon_log.uninstall()


__all__ = ["bridge", "register", "unregister"]
