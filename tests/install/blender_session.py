"""One Blender session (the bpy module) doing what an artist does with the add-on's repository,
for tests/install/test_repository.py. Each run is a new process on the same user folder
(BLENDER_USER_RESOURCES), as Blender started again; the saved preferences carry over.

    python blender_session.py STEP JSON_ARGUMENTS

It prints what it found as one JSON line after ``FINDINGS``. Steps:
- install-zip {zip, prefs}: installs the zip into "user_default" and enables it
- add-repository {name, url}: adds a remote repository and syncs it
- install {name, prefs}: installs the add-on from that repository and enables it
- submit-then-die {folder, key, secret, url}: saves a scene and starts an upscale; the process
  kills itself once the job is paid for (journaled "submitted")
- upgrade {}: syncs every repository and upgrades every extension
- state {}: the enabled copies, their versions and preferences, the jobs the add-on lists
- switch {disable, enable}: disables one copy, then enables another, as in the preferences
- recover {blend}: opens the file and collects its unfinished jobs (Recover)
- upscale {folder}: a whole upscale of a new texture
- uninstall {name}: removes the add-on from that repository
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import bpy

ADDON_ID = "scenario_texture_upscale"
# Starts the line that holds what the step found (Blender prints lines of its own after it).
FINDINGS = "FINDINGS "


def copies() -> list[str]:
    return [a.module for a in bpy.context.preferences.addons if a.module.endswith(ADDON_ID)]


def module_of(copy: str, name: str) -> Any:
    return sys.modules[f"{copy}.{name}"]


def the_copy() -> str:
    [copy] = copies()
    return copy


def repository(name: str) -> tuple[int, Any]:
    repos = bpy.context.preferences.extensions.repos
    index = next(i for i, r in enumerate(repos) if r.module == name)
    return index, repos[index]


def set_prefs(copy: str, values: dict[str, Any]) -> None:
    prefs = bpy.context.preferences.addons[copy].preferences
    for name, value in values.items():
        setattr(prefs, name, value)


def save() -> None:
    bpy.context.preferences.use_preferences_save = True
    bpy.ops.wm.save_userpref()


def prefs_of(copy: str) -> dict[str, Any]:
    prefs = bpy.context.preferences.addons[copy].preferences
    names = [p.identifier for p in prefs.bl_rna.properties if p.identifier != "rna_type"]
    return {name: getattr(prefs, name) for name in names
            if isinstance(getattr(prefs, name), (str, int, float, bool))}


def jobs(copy: str) -> dict[str, Any]:
    rt = module_of(copy, "bridge.runtime").get()
    rt.refresh_journal()
    return {"recent": [{"local_id": r.local_id, "state": r.state, "job_id": r.job_id}
                       for r in rt.recent],
            "newer": [e.local_id for e in rt.newer], "folder": str(rt.user_dir)}


def version_of(copy: str) -> str:
    repo_name = copy.split(".")[1]
    _, repo = repository(repo_name)
    manifest = Path(repo.directory) / ADDON_ID / "blender_manifest.toml"
    for line in manifest.read_text("utf-8").splitlines():
        if line.startswith("version ="):
            return line.split('"')[1]
    return "?"


def scene_with_texture(folder: Path, name: str) -> bpy.types.Image:
    folder.mkdir(parents=True, exist_ok=True)
    image = bpy.data.images.new(name, 32, 32)
    image.generated_type = "COLOR_GRID"
    image.filepath_raw = str(folder / f"{name}.png")
    image.file_format = "PNG"
    image.save()
    material = bpy.data.materials.new("Wall")
    material.use_nodes = True
    node = material.node_tree.nodes.new("ShaderNodeTexImage")
    node.image = image
    obj = bpy.data.objects.new("Wall", bpy.data.meshes.new("Wall"))
    obj.data.materials.append(material)
    bpy.context.scene.collection.objects.link(obj)
    obj.select_set(True)
    return image


def step(name: str, args: dict[str, Any]) -> dict[str, Any]:
    bpy.context.preferences.system.use_online_access = True
    if name == "install-zip":
        result = bpy.ops.extensions.package_install_files(
            filepath=args["zip"], repo="user_default", enable_on_install=True)
        set_prefs(the_copy(), args["prefs"])
        save()
        return {"result": sorted(result), "copies": copies()}
    bpy.ops.wm.read_userpref()  # as Blender starts: the saved preferences, extensions enabled
    bpy.context.preferences.system.use_online_access = True
    if name == "add-repository":
        repos = bpy.context.preferences.extensions.repos
        repos.new(name=args["name"], module=args["name"], remote_url=args["url"])
        index, repo = repository(args["name"])
        bpy.ops.extensions.repo_sync(repo_directory=repo.directory, repo_index=index)
        save()
        return {"listed": sorted(os.listdir(repo.directory))}
    if name == "install":
        index, repo = repository(args["name"])
        bpy.ops.extensions.repo_sync(repo_directory=repo.directory, repo_index=index)
        found: dict[str, Any] = {}
        try:
            bpy.ops.extensions.package_install(repo_index=index, pkg_id=ADDON_ID,
                                               enable_on_install=True)
        except RuntimeError as exc:  # the operator's error report
            found["error"] = str(exc)
        if args.get("prefs"):
            set_prefs(the_copy(), args["prefs"])
        save()
        return {**found, "copies": copies()}
    if name == "submit-then-die":
        return submit_then_die(Path(args["folder"]))
    if name == "upgrade":
        bpy.ops.extensions.repo_sync_all()
        bpy.ops.extensions.package_upgrade_all()
        save()
        return state()
    if name == "state":
        return state()
    if name == "switch":
        bpy.ops.preferences.addon_disable(module=args["disable"])
        bpy.ops.preferences.addon_enable(module=args["enable"])
        save()
        return state()
    if name == "recover":
        bpy.ops.wm.open_mainfile(filepath=args["blend"])
        copy = the_copy()
        result = bpy.ops.scenario.recover_jobs()
        node = next(n for n in bpy.data.materials["Wall"].node_tree.nodes
                    if n.type == "TEX_IMAGE")
        return {"result": sorted(result), "image": node.image.name,
                "size": list(node.image.size), **jobs(copy)}
    if name == "upscale":
        scene_with_texture(Path(args["folder"]), "crate")
        copy = the_copy()
        result = bpy.ops.scenario.upscale_image(image_name="crate", scope="SELECTED_OBJECTS")
        return {"result": sorted(result), **jobs(copy)}
    if name == "uninstall":
        index, repo = repository(args["name"])
        copy = the_copy()
        data = module_of(copy, "bridge.runtime").user_folder()
        bpy.ops.extensions.package_uninstall(repo_directory=repo.directory, repo_index=index,
                                             pkg_id=ADDON_ID)
        save()
        return {"copies": copies(), "data_folder": str(data),
                "package_folder_left": (Path(repo.directory) / ADDON_ID).exists(),
                "threads": sorted(t.name for t in threading.enumerate()
                                  if t.name.startswith("scenario"))}
    raise SystemExit(f"unknown step {name}")


def state() -> dict[str, Any]:
    found = {"copies": copies()}
    if len(found["copies"]) == 1:
        copy = the_copy()
        found.update(version=version_of(copy), prefs=prefs_of(copy), **jobs(copy))
    return found


def submit_then_die(folder: Path) -> dict[str, Any]:
    bpy.ops.wm.read_homefile(use_empty=True)
    scene_with_texture(folder / "src", "brick")
    bpy.ops.wm.save_as_mainfile(filepath=str(folder / "scene.blend"))
    copy = the_copy()
    journal = module_of(copy, "bridge.runtime").user_folder() / "journal"

    def die_once_paid() -> None:
        while True:
            for path in journal.glob("*.json"):
                try:
                    if json.loads(path.read_text()).get("state") == "submitted":
                        os.kill(os.getpid(), signal.SIGKILL)
                except (OSError, ValueError):
                    pass
            time.sleep(0.01)

    threading.Thread(target=die_once_paid, daemon=True).start()
    bpy.ops.scenario.upscale_image(image_name="brick", scope="SELECTED_OBJECTS")
    return {"error": "the upscale finished before the kill: make the emulator's jobs slower"}


if __name__ == "__main__":
    name, raw = sys.argv[1], sys.argv[2]
    print(FINDINGS + json.dumps(step(name, json.loads(raw)), default=str), flush=True)
