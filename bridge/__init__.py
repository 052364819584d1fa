"""Blender glue shared by operators and panels: settings, snapshots, scopes, applying results and
the runtime that owns the worker threads. Thin by design: the logic lives in core/ and api/."""

from ..core import ADDON_PACKAGE

__all__ = ["ADDON_PACKAGE"]
