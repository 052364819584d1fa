"""Other copies of this add-on, and the folder every copy shares.

Blender installs an extension once per repository: a studio that moves from a zip install
(repository "user_default") to its own hosted repository has two copies, two module names
(bl_ext.user_default.scenario_texture_upscale, bl_ext.studio.scenario_texture_upscale), two sets
of preferences and two per-package user folders. So:

- Only one copy is enabled at a time: a second one refuses to register and says which copy is
  enabled, from where, and how to switch (``refuse_beside_another``).
- Jobs, the log, work files and the team's slots live in one folder that every copy shares,
  beside the per-package user folders (``data_folder``): Blender deletes a package's own user
  folder when it is uninstalled, and the journal holds jobs that were paid for. What earlier
  versions kept in a per-package folder is copied into it, never moved (``gather_old_data``).
- A copy being disabled leaves its preferences, keys included, to the copy enabled next in the
  same Blender session (``leave_preferences``, ``take_over_preferences``). They are handed over
  in memory only: a secret is never written anywhere but Blender's own preferences.
"""

from __future__ import annotations

import json
import logging
import shutil
import sys
import types
from pathlib import Path
from typing import Any

import bpy

from . import ADDON_PACKAGE, rna

log = logging.getLogger(__name__)

ADDON_ID = ADDON_PACKAGE.rpartition(".")[2] or "scenario_texture_upscale"
# Beside the repositories' own folders under extensions/.user/: a name no repository can have
# (repository module names are identifiers), so Blender never removes it with a package.
SHARED_FOLDER = f".{ADDON_ID}"
# Folders and files of the shared data that earlier versions kept per package.
_OLD_DATA = ("journal", "scenario_upscale.log")
# In the shared folder: which of those files were copied already.
GATHERED = "gathered.json"
# In memory, in this Blender process only: the preferences a disabled copy leaves behind.
_HANDOVER = f"_{ADDON_ID}_handover"


class AnotherCopyEnabled(RuntimeError):
    """Blender shows this message when the add-on cannot be enabled."""


def data_folder() -> Path:
    """The folder every copy of the add-on shares: journal, log, work files, team slots."""
    folder = _users_root() / SHARED_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _users_root() -> Path:
    """extensions/.user: one folder per repository, one per package in it."""
    return Path(bpy.utils.extension_path_user(ADDON_PACKAGE, create=True)).parent.parent


def enabled_copy() -> str | None:
    """The module of another copy of this add-on that is enabled in this Blender, if any
    (Blender marks an add-on's module once its register() has succeeded)."""
    for name, module in list(sys.modules.items()):
        if (name != ADDON_PACKAGE and name.startswith("bl_ext.")
                and name.rpartition(".")[2] == ADDON_ID
                and getattr(module, "__addon_enabled__", False)):
            return name
    return None


def refuse_beside_another() -> None:
    """Raises AnotherCopyEnabled, before anything is registered, when another copy is enabled."""
    other = enabled_copy()
    if other is None:
        return
    repository = other.split(".")[1]
    where = getattr(sys.modules[other], "__file__", "") or "?"
    raise AnotherCopyEnabled(
        f"Scenario Texture Upscale is already enabled from the repository '{repository}' "
        f"({Path(where).parent}). Only one copy can be enabled: to use this one instead, disable "
        "that copy in Preferences ▸ Add-ons, then enable this one. It takes over that copy's "
        "keys, preferences and jobs, which stay where they are.")


def installed_copies() -> list[str]:
    """Module names of the other copies installed in any repository (enabled or not)."""
    import addon_utils

    # The stubs have modules() return None; it returns the add-on modules.
    modules = addon_utils.modules(refresh=False)  # type: ignore[func-returns-value]
    return [module.__name__ for module in modules  # type: ignore[attr-defined]
            if module.__name__ != ADDON_PACKAGE
            and module.__name__.rpartition(".")[2] == ADDON_ID]


def gather_old_data(shared: Path) -> list[str]:
    """Copies into ``shared`` the jobs and log that any copy (earlier versions of this one
    included) kept in its per-package folder. Copied, never moved: a downgrade still finds them.
    Each file is copied once (``GATHERED`` remembers it), so a job forgotten here does not come
    back, while one an older copy adds later still does. Returns what was copied."""
    record = shared / GATHERED
    try:
        done = set(json.loads(record.read_text("utf-8")))
    except (OSError, ValueError, TypeError):
        done = set()
    copied = []
    for package in sorted(_users_root().glob(f"*/{ADDON_ID}")):
        for old in _old_files(package):
            key = f"{package.parent.name}/{old.relative_to(package).as_posix()}"
            new = shared / old.relative_to(package)
            if key in done:
                continue
            try:
                if not new.exists():
                    new.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(old, new)
                    copied.append(str(old))
            except OSError as exc:
                log.warning("Could not copy %s into %s: %s", old, shared, exc)
                continue
            done.add(key)
    if copied:
        record.write_text(json.dumps(sorted(done)), "utf-8")
    return copied


def _old_files(package: Path) -> list[Path]:
    found = []
    for name in _OLD_DATA:
        path = package / name
        entries = sorted(path.iterdir()) if path.is_dir() and not path.is_symlink() else [path]
        found += [e for e in entries if e.is_file() and not e.is_symlink()]
    return found


def leave_preferences() -> None:
    """Called when this copy is disabled: its preferences wait, in memory, for another copy
    enabled later in this Blender session."""
    addon = rna.preferences(bpy.context).addons.get(ADDON_PACKAGE)
    if addon is None or addon.preferences is None or not installed_copies():
        return
    values = {name: _plain(getattr(addon.preferences, name))
              for name in _property_names(addon.preferences)}
    mailbox = sys.modules.setdefault(_HANDOVER, types.ModuleType(_HANDOVER))
    mailbox.__dict__["left"] = {"from": ADDON_PACKAGE, "values": values}


def take_over_preferences() -> str | None:
    """Called when this copy is enabled: takes the preferences another copy left this session,
    for every one this copy has not set itself. Returns the module they came from."""
    mailbox = sys.modules.get(_HANDOVER)
    left = mailbox.__dict__.pop("left", None) if mailbox is not None else None
    addon = rna.preferences(bpy.context).addons.get(ADDON_PACKAGE)
    if not left or left["from"] == ADDON_PACKAGE or addon is None or addon.preferences is None:
        return None
    prefs = addon.preferences
    mine = set(_property_names(prefs))
    for name, value in left["values"].items():
        if name in mine and not prefs.is_property_set(name):
            try:
                setattr(prefs, name, value)
            except (TypeError, ValueError) as exc:  # a property whose kind changed since
                log.info("Preference %s was not taken over: %s", name, exc)
    return str(left["from"])


def _property_names(prefs: Any) -> list[str]:
    return [p.identifier for p in prefs.bl_rna.properties
            if p.identifier not in ("rna_type", "bl_idname") and not p.is_readonly]


def _plain(value: Any) -> Any:
    """A preference's value as plain Python (vectors and enum sets as tuples and sets)."""
    if isinstance(value, (str, int, float, bool, set)):
        return value
    try:
        return tuple(value)
    except TypeError:
        return value
