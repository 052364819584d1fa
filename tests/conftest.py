"""Makes the repository importable as the package ``scenario_texture_upscale`` (the extension
uses relative imports only, as Blender requires) and the developer tools importable too."""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tools.dev_addon import link_package  # noqa: E402

PKGROOT = str(link_package())
if PKGROOT not in sys.path:
    sys.path.insert(0, PKGROOT)
