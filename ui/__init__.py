"""Drawing only: preferences and panels. ``classes`` lists them in registration order."""

from . import panel_upscale, preferences

classes = preferences.classes + panel_upscale.classes
