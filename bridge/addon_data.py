"""The one typed way to the add-on's own data: the settings and lists it adds to Blender's types
and its preferences. Blender adds them at run time, so the stubs cannot know them; they are
looked up by name here only, and everywhere else a misspelt property is a type error."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import bpy

from . import ADDON_PACKAGE

if TYPE_CHECKING:
    from ..ui.preferences import ScenarioUpscalePreferences
    from .batch_settings import ScenarioBatchList, ScenarioBatchSettings
    from .recent_list import ScenarioRecentList
    from .settings import ScenarioUpscaleSettings

# The names registration.py gives the pointer properties (the owner type in the comment).
UPSCALE_SETTINGS = "scenario_upscale"  # Scene
BATCH_SETTINGS = "scenario_batch"  # Scene
BATCH_LIST = "scenario_batch"  # WindowManager
RECENT_LIST = "scenario_recent"  # WindowManager


def upscale_settings(scene: bpy.types.Scene | None) -> ScenarioUpscaleSettings:
    """The scene's upscale settings; AttributeError without a scene, as the attribute gives."""
    return cast("ScenarioUpscaleSettings", getattr(scene, UPSCALE_SETTINGS))


def upscale_settings_if_registered(scene: bpy.types.Scene | None
                                   ) -> ScenarioUpscaleSettings | None:
    """For code that may run without a scene or while the add-on is not registered."""
    return cast("ScenarioUpscaleSettings | None", getattr(scene, UPSCALE_SETTINGS, None))


def batch_settings(scene: bpy.types.Scene | None) -> ScenarioBatchSettings:
    return cast("ScenarioBatchSettings", getattr(scene, BATCH_SETTINGS))


def batch_list(wm: bpy.types.WindowManager | None) -> ScenarioBatchList:
    """The rows the batch panels draw (runtime state, never saved)."""
    return cast("ScenarioBatchList", getattr(wm, BATCH_LIST))


def recent_list(wm: bpy.types.WindowManager | None) -> ScenarioRecentList | None:
    """Recent Jobs' rows; None while Blender is starting or the add-on is not registered."""
    return cast("ScenarioRecentList | None", getattr(wm, RECENT_LIST, None))


def preferences() -> ScenarioUpscalePreferences | None:
    """None while the add-on is not enabled (its modules imported by a script or a test)."""
    blender = bpy.context.preferences
    addon = blender.addons.get(ADDON_PACKAGE) if blender is not None else None
    # Blender makes them from ui/preferences.py's class; the stubs only know AddonPreferences.
    return cast("ScenarioUpscalePreferences | None", addon.preferences if addon else None)
