"""Child process for the recovery test: starts an upscale in real Blender and kills itself with
SIGKILL the moment the journal says the job was submitted, like a crash or a forced quit."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).parent))
import bpy  # noqa: E402  (BLENDER_USER_RESOURCES comes from the parent test)
import scenes  # noqa: E402

from tools import dev_addon  # noqa: E402

base_url, api_key, api_secret, workdir = sys.argv[1:5]
module = dev_addon.enable_addon(Path(os.environ["BLENDER_USER_RESOURCES"]))
prefs = bpy.context.preferences.addons[module].preferences
prefs.api_key, prefs.api_secret, prefs.base_url = api_key, api_secret, base_url
prefs.output_dir = "//upscaled/"
bpy.context.preferences.system.use_online_access = True
journal = sys.modules[f"{module}.bridge.runtime"].user_folder() / "journal"

bpy.ops.wm.read_homefile(use_empty=True)
brick = scenes.texture_file(Path(workdir) / "src", "brick")
scenes.object_with("Wall", [scenes.material_with("Brick", brick)], selected=True)
bpy.ops.wm.save_as_mainfile(filepath=str(Path(workdir) / "scene.blend"))


def die_once_submitted() -> None:
    while True:
        for path in journal.glob("*.json"):
            if json.loads(path.read_text()).get("state") == "submitted":
                os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(0.01)


threading.Thread(target=die_once_submitted, daemon=True).start()
bpy.ops.scenario.upscale_image(image_name="brick", scope="SELECTED_OBJECTS")
print("the upscale finished before the kill: make the emulator's jobs slower")
sys.exit(3)
