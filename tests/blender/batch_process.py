"""Child process for the two-Blenders test: enables the add-on in the user folder the parent
gives (BLENDER_USER_RESOURCES, shared by both children), runs a batch of COUNT textures named
PREFIX0, PREFIX1, … through the emulator and prints the batch's summary as JSON."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).parent))
import bpy  # noqa: E402  (BLENDER_USER_RESOURCES comes from the parent test)
import pbr_scenes  # noqa: E402
import scenes  # noqa: E402

from tools import dev_addon  # noqa: E402

base_url, api_key, api_secret, workdir, prefix, count = sys.argv[1:7]
module = dev_addon.enable_addon(Path(os.environ["BLENDER_USER_RESOURCES"]))
prefs = bpy.context.preferences.addons[module].preferences
prefs.api_key, prefs.api_secret, prefs.base_url = api_key, api_secret, base_url
prefs.output_dir = str(Path(workdir) / "upscaled")
prefs.max_concurrent_jobs = 4
bpy.context.preferences.system.use_online_access = True

bpy.ops.wm.read_homefile(use_empty=True)
images = [scenes.texture_file(Path(workdir) / "src", f"{prefix}{i}", 32, 32)
          for i in range(int(count))]
scenes.object_with("Wall", [pbr_scenes.simple_material("M", *images)], selected=True)
assert bpy.ops.scenario.upscale_materials() == {"FINISHED"}
runtime = sys.modules[f"{module}.bridge.runtime"].get()
batch = sys.modules[f"{module}.bridge.batch_list"].latest(runtime)
print(json.dumps(batch.summary()))
