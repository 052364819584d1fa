"""Drawing only: preferences and panels. ``classes`` lists them in registration order."""

from . import panel_batch, panel_recent_jobs, panel_upscale, preferences

classes = (preferences.classes + panel_upscale.classes + panel_recent_jobs.classes
           + panel_batch.classes)
