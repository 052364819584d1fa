"""Section 3's team-limit rows of `make bench`: Scenario's limit on a team's jobs at once.

- One Blender: the batch of section 3 with *Parallel Jobs* 8 against an emulator that refuses a
  generate with 429 while 4 of the team's jobs run (measured by run.batch).
- Two Blenders of one user folder, 8 textures each, against the same limit: each is this file run
  as a child process (the bpy module, the add-on enabled from this tree). Both wait for a start
  time the parent gives, so their batches begin together; the makespan runs from that time to
  the later of their ends.

    python bench/team_limit.py --child URL PNG FOLDER PREFIX COUNT START_AT
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
TEAM_LIMIT = 4
PARALLEL = 8
PER_PROCESS = 8
# Enough for a child to import bpy and enable the add-on before the common start.
CHILD_SETUP_SECONDS = 25.0


def paid(control: Any) -> int:
    return sum(1 for r in control.requests() if r["method"] == "POST"
               and str(r["path"]).startswith("/v1/generate") and r["status"] == 200
               and "dryRun" not in (r.get("query") or {}))


def refused(control: Any) -> int:
    return sum(1 for r in control.requests() if str(r["path"]).startswith("/v1/generate")
               and r["status"] == 429)


def two_processes(url: str, png: Path, work: Path, job_seconds: float,
                  user_dir: Path) -> dict[str, Any]:
    from emulator.control_client import ControlClient

    control = ControlClient(url)
    control.reset()
    start_at = time.time() + CHILD_SETUP_SECONDS
    env = {**os.environ, "BLENDER_USER_RESOURCES": str(user_dir)}
    children = [subprocess.Popen(
        [sys.executable, __file__, "--child", url, str(png), str(work / "two" / side), side,
         str(PER_PROCESS), str(start_at)], env=env, stdout=subprocess.PIPE, text=True)
        for side in ("left", "right")]
    reports = []
    for child in children:
        out, _ = child.communicate(timeout=600)
        if child.returncode != 0:
            raise RuntimeError(f"a benchmark child failed with exit code {child.returncode}")
        reports.append(json.loads(out.strip().splitlines()[-1]))
    shutil.rmtree(work / "two", ignore_errors=True)
    late = max(r["start"] for r in reports) - start_at
    makespan = max(r["end"] for r in reports) - start_at
    ideal = -(-2 * PER_PROCESS // TEAM_LIMIT) * job_seconds
    return {"jobs": 2 * PER_PROCESS, "done": sum(r["done"] for r in reports),
            "paid": paid(control), "refused": refused(control), "makespan_s": makespan,
            "ideal_s": ideal, "ratio": makespan / ideal, "start_spread_s": late,
            "per_process_s": [r["end"] - r["start"] for r in reports]}


def _child(url: str, png: str, folder: str, prefix: str, count: str, start_at: str) -> int:
    sys.path.insert(0, str(REPO))
    import bpy

    from tools import dev_addon

    module = dev_addon.enable_addon(Path(os.environ["BLENDER_USER_RESOURCES"]))
    prefs = bpy.context.preferences.addons[module].preferences
    prefs.api_key, prefs.api_secret, prefs.base_url = "demo-key", "demo-secret", url
    prefs.output_dir = str(Path(folder) / "out")
    prefs.max_concurrent_jobs = PARALLEL
    for name in ("confirm_expensive", "never_spend"):
        if hasattr(prefs, name):
            setattr(prefs, name, False)
    bpy.context.preferences.system.use_online_access = True
    bpy.ops.wm.read_homefile(use_empty=True)
    source = Path(folder) / "src"
    source.mkdir(parents=True, exist_ok=True)
    material = bpy.data.materials.new("M")
    material.use_nodes = True
    for i in range(int(count)):
        path = source / f"{prefix}_{i:02d}.png"
        shutil.copyfile(png, path)
        node = material.node_tree.nodes.new("ShaderNodeTexImage")
        node.image = bpy.data.images.load(str(path), check_existing=False)
    obj = bpy.data.objects.new("Wall", bpy.data.meshes.new("Wall"))
    obj.data.materials.append(material)
    bpy.context.scene.collection.objects.link(obj)
    obj.select_set(True)
    time.sleep(max(0.0, float(start_at) - time.time()))
    start = time.time()
    bpy.ops.scenario.upscale_materials()
    end = time.time()
    runtime = sys.modules[f"{module}.bridge.runtime"].get()
    batch = sys.modules[f"{module}.bridge.batch_list"].latest(runtime)
    print(json.dumps({"start": start, "end": end,
                      "done": batch.summary()["totals"]["done"] if batch else 0}))
    return 0


if __name__ == "__main__" and sys.argv[1:2] == ["--child"]:
    sys.exit(_child(*sys.argv[2:8]))
