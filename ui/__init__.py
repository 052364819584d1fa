"""Drawing only: preferences, panels and menu entries. ``classes`` lists the classes in
registration order; ``menus`` adds the entries to Blender's menus."""

from . import (
    menus,
    panel_batch,
    panel_preview,
    panel_recent_jobs,
    panel_upscale,
    preferences,
    settings_lists,
)

classes = (preferences.classes + settings_lists.classes + panel_upscale.classes + panel_preview.classes
           + panel_recent_jobs.classes + panel_batch.classes)

__all__ = ["classes", "menus"]
