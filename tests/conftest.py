"""Makes the repository importable as the package ``scenario_texture_upscale``.

The extension uses relative imports only (as Blender requires), so tests reach it through a
symlink named like the extension id, created once under ``.pkgroot/``.
"""

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PKGROOT = REPO / ".pkgroot"
PACKAGE = "scenario_texture_upscale"


def _ensure_package_link() -> None:
    link = PKGROOT / PACKAGE
    if not link.exists():
        PKGROOT.mkdir(exist_ok=True)
        try:
            os.symlink(REPO, link, target_is_directory=True)
        except FileExistsError:
            pass


_ensure_package_link()
for path in (str(PKGROOT), str(REPO)):
    if path not in sys.path:
        sys.path.insert(0, path)
