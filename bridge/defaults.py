"""Default upscale settings kept in the preferences and applied to scenes that never set them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import bpy

from . import addon_data

if TYPE_CHECKING:
    from .settings import ScenarioUpscaleSettings

# Scene setting → preference holding its default.
DEFAULTED = {
    "upscale_factor": "default_upscale_factor",
    "preset": "default_preset",
    "base_model": "default_base_model",
}


def apply(settings: ScenarioUpscaleSettings, only_unset: bool = True) -> int:
    """Copies the preferred defaults into ``settings``; returns how many values changed."""
    prefs = addon_data.preferences()
    if prefs is None:
        return 0
    changed = 0
    for name, pref_name in DEFAULTED.items():
        if only_unset and settings.is_property_set(name):
            continue
        value = getattr(prefs, pref_name)
        if getattr(settings, name) != value:
            setattr(settings, name, value)
            changed += 1
    return changed


def apply_to_all_scenes() -> None:
    for scene in bpy.data.scenes:
        settings = addon_data.upscale_settings_if_registered(scene)
        if settings is not None:
            apply(settings)


def save(settings: ScenarioUpscaleSettings) -> None:
    prefs = addon_data.preferences()
    for name, pref_name in DEFAULTED.items():
        setattr(prefs, pref_name, getattr(settings, name))
