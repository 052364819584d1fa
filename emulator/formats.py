"""Image formats by name, MIME type and file extension, from the project's one table.

The table is ``api/image_types.py``. The emulator runs as a top-level package beside the
extension, so it cannot import ``..api``, and importing the top-level ``api`` package would load
the whole client (and requests) into the server. The table is a module of its own with no
imports from the package, so it is loaded from its file instead.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING


def _load_table() -> ModuleType:
    path = Path(__file__).resolve().parent.parent / "api" / "image_types.py"
    spec = importlib.util.spec_from_file_location("emulator._image_types", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


if TYPE_CHECKING:
    from ..api import image_types
else:
    image_types = _load_table()

MIME_TYPES = image_types.MIME_TYPES
# Formats POST /assets/{id}/download can re-encode to; their Pillow names are the same in capitals.
CONVERTIBLE = frozenset({"png", "jpeg", "webp", "gif", "tiff"})
# A format by its name ("jpeg") or by its file extension ("jpg").
_BY_NAME = {
    **{extension: name for name, extension in image_types.FILE_EXTENSIONS.items()},
    **{name: name for name in MIME_TYPES},
}
_BY_MIME = {mime: name for name, mime in MIME_TYPES.items()}


def extension_for(mime_type: str) -> str:
    """File extension (no dot) of a MIME type; ``bin`` for types the table does not know."""
    name = _BY_MIME.get(mime_type)
    return image_types.FILE_EXTENSIONS[name] if name else "bin"


def format_named(name: str) -> str | None:
    """The format a name or a file extension stands for ("jpg" -> "jpeg"), or None."""
    return _BY_NAME.get(name)


def format_of(mime_type: str) -> str | None:
    return _BY_MIME.get(mime_type)
