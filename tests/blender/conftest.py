"""Real Blender (the bpy module) with the add-on enabled from this tree, as a developer would:
a local extensions repository whose only entry is a link to the repository.

The emulator runs in its own process on loopback, so Blender talks to it over real sockets.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).parent))
from tools import dev_addon  # noqa: E402

# Blender reads its user folder once, when bpy is first imported: isolate it before that.
_USER_DIR = dev_addon.isolate_user_folder()
for _name in ("SCENARIO_SDK_API_KEY", "SCENARIO_SDK_API_SECRET", "SCENARIO_BASE_URL"):
    os.environ.pop(_name, None)

import bpy  # noqa: E402

from emulator.control_client import ControlClient  # noqa: E402
from emulator.process import start_emulator_process, stop_emulator_process  # noqa: E402

EMULATOR_PYTHON = os.environ.get("EMULATOR_PYTHON", sys.executable)
API_KEY = "demo-key"
API_SECRET = "demo-secret-canary-7f3a9"


def data_folder(addon: str) -> Path:
    """Where every copy of the add-on keeps its journal, log and work files (bridge/copies.py):
    beside the per-package user folders, so it is known while the add-on is disabled too."""
    package = Path(bpy.utils.extension_path_user(addon, create=True))
    return package.parent.parent / f".{package.name}"


@pytest.fixture(scope="session")
def addon() -> Iterator[str]:
    module = dev_addon.enable_addon(_USER_DIR)
    yield module
    bpy.ops.preferences.addon_disable(module=module)
    shutil.rmtree(_USER_DIR, ignore_errors=True)


@pytest.fixture(scope="session")
def emulator_url() -> Iterator[str]:
    process, base_url = start_emulator_process(
        ["--job-seconds", "0.6", "--api-key", API_KEY, "--api-secret", API_SECRET],
        python=EMULATOR_PYTHON,
    )
    try:
        yield base_url
    finally:
        stop_emulator_process(process)


@pytest.fixture
def prefs(addon: str, emulator_url: str, tmp_path: Path) -> Iterator[bpy.types.AddonPreferences]:
    """Preferences pointing at the emulator with valid keys, online access on."""
    p = bpy.context.preferences.addons[addon].preferences
    p.api_key, p.api_secret, p.base_url = API_KEY, API_SECRET, emulator_url
    p.output_dir = str(tmp_path / "upscaled")
    bpy.context.preferences.system.use_online_access = True
    yield p
    # Looked up again: a test that disables and re-enables the add-on replaces the object.
    p = bpy.context.preferences.addons[addon].preferences
    p.api_key = p.api_secret = p.base_url = ""


@pytest.fixture
def emulator(emulator_url: str) -> Iterator[EmulatorControl]:
    control = EmulatorControl(emulator_url)
    control.reset()
    yield control
    control.reset()


class EmulatorControl(ControlClient):
    """The emulator's test-only control API, plus what the tests ask of it most."""

    def generates(self) -> list[dict[str, object]]:
        return [r for r in self.requests()
                if r["method"] == "POST" and str(r["path"]).startswith("/v1/generate")
                and "dryRun" not in (r.get("query") or {})]

    def paid(self) -> list[dict[str, object]]:
        """The generates Scenario accepted, so charged for: a refused one (429 at the team's
        limit, a fault) costs nothing, and the add-on sends it again."""
        return [r for r in self.generates() if r["status"] == 200]


@pytest.fixture
def clean_file(addon: str) -> Iterator[None]:
    """An empty scene for each test, the add-on staying enabled, and a runtime of its own: the
    next test neither sees this one's jobs (a result left ready, a batch) nor waits on them. The
    new runtime is made as enabling the add-on makes it, reading the journal."""
    _clear_data()
    yield
    runtime = sys.modules[f"{addon}.bridge.runtime"]
    runtime.shutdown()
    runtime.get()
    _clear_data()


def _clear_data() -> None:
    for collection in (bpy.data.objects, bpy.data.meshes, bpy.data.materials,
                       bpy.data.node_groups, bpy.data.images):
        for block in list(collection):
            collection.remove(block)
    scene = bpy.context.scene
    if hasattr(scene, "scenario_upscale"):
        scene.property_unset("scenario_upscale")
