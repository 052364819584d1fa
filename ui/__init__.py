"""Drawing only: preferences, panels and menu entries. ``classes`` lists the classes in
registration order; ``menus`` adds the entries to Blender's menus."""

from . import menus, panel_batch, panel_preview, panel_recent_jobs, panel_upscale, preferences

classes = (preferences.classes + panel_upscale.classes + panel_preview.classes
           + panel_recent_jobs.classes + panel_batch.classes)

__all__ = ["classes", "menus"]
