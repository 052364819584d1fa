"""Blender glue shared by operators and panels: settings, snapshots, scopes, applying results and
the runtime that owns the worker threads. Thin by design: the logic lives in core/ and api/."""

# The add-on's module name as Blender knows it (e.g. bl_ext.user_default.scenario_texture_upscale).
ADDON_PACKAGE = (__package__ or "").rpartition(".")[0]
