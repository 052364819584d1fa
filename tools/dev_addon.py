"""Enable the add-on from this working tree inside the bpy module, as a developer would: a local
extensions repository whose only entry is a link to the tree. Used by tests, demo and bench.

Call ``isolate_user_folder`` before bpy is imported: Blender reads its user folder only once.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ADDON_ID = "scenario_texture_upscale"
REPO_MODULE = "scenario_dev"
MODULE = f"bl_ext.{REPO_MODULE}.{ADDON_ID}"


def link_package() -> Path:
    """Makes the tree importable as ``scenario_texture_upscale`` (it uses relative imports only,
    as Blender requires) through a link under ``.pkgroot/``; returns the folder to put on
    sys.path."""
    root = REPO / ".pkgroot"
    link = root / ADDON_ID
    if not link.exists():
        root.mkdir(exist_ok=True)
        try:
            os.symlink(REPO, link, target_is_directory=True)
        except FileExistsError:
            pass
    return root


def isolate_user_folder(prefix: str = "scenario-blender-user-") -> Path:
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["BLENDER_USER_RESOURCES"] = str(folder)
    return folder


def enable_addon(user_folder: Path) -> str:
    import bpy

    repo_dir = user_folder / "dev-repo"
    repo_dir.mkdir(parents=True, exist_ok=True)
    link = repo_dir / ADDON_ID
    if not link.exists():
        try:
            link.symlink_to(REPO, target_is_directory=True)
        except FileExistsError:
            pass  # another process of the same user folder made it meanwhile
    repos = bpy.context.preferences.extensions.repos
    if REPO_MODULE not in [r.module for r in repos]:
        repos.new(name="Scenario dev", module=REPO_MODULE, custom_directory=str(repo_dir),
                  source="USER")
    if bpy.ops.preferences.addon_enable(module=MODULE) != {"FINISHED"}:
        raise RuntimeError(f"could not enable {MODULE}")
    return MODULE
