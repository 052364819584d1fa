"""The one place where classes, properties and handlers are wired into Blender."""

from __future__ import annotations

import bpy

from . import bridge, operators, ui
from .bridge import runtime, settings

classes = settings.classes + ui.classes + operators.classes
_register_classes, _unregister_classes = bpy.utils.register_classes_factory(classes)


def register() -> None:
    _register_classes()
    bpy.types.Scene.scenario_upscale = bpy.props.PointerProperty(
        type=settings.ScenarioUpscaleSettings
    )


def unregister() -> None:
    runtime.shutdown()
    del bpy.types.Scene.scenario_upscale
    _unregister_classes()


__all__ = ["bridge", "register", "unregister"]
