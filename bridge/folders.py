"""Where results and the log are, and opening them in the system's file manager (with
Blender's own wm.path_open, as a click on a folder button does)."""

from __future__ import annotations

import os
from pathlib import Path

import bpy

from ..core import addon_log
from . import addon_data, request, runtime


def output_folder() -> Path:
    """Where the next result is saved: the Output Folder preference, relative to this .blend
    (for an unsaved file, the add-on's user folder)."""
    return request.output_folder(addon_data.preferences(), runtime.user_folder())


def log_file() -> Path | None:
    """The add-on's log file (its rotated copies sit beside it)."""
    return addon_log.file_path()


def open_path(path: str | os.PathLike[str]) -> None:
    """Opens a file with its application, or a folder in the file manager."""
    bpy.ops.wm.path_open(filepath=str(path))
