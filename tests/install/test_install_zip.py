"""The built zip, installed into an isolated Blender user folder exactly as a user would, then
used, disabled (nothing left registered) and enabled again."""

from __future__ import annotations

import os
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from tools import dev_addon  # noqa: E402

USER = dev_addon.isolate_user_folder("scenario-install-")
import bpy  # noqa: E402

from emulator.process import start_emulator_process, stop_emulator_process  # noqa: E402

MODULE = "bl_ext.user_default.scenario_texture_upscale"
OUR_CLASSES = ("SCENARIO_OT_upscale_image", "IMAGE_PT_scenario_upscale", "ScenarioUpscaleSettings")


def built_zip() -> Path:
    zips = sorted((REPO / "dist").glob("scenario_texture_upscale-*.zip"))
    assert zips, "run `make build` first (make install-test does)"
    return zips[-1]


def test_zip_holds_only_the_extension() -> None:
    names = zipfile.ZipFile(built_zip()).namelist()
    assert "blender_manifest.toml" in names and "__init__.py" in names
    for banned in ("tests/", "emulator/", "bench/", "tools/", ".ci/", ".git", "Makefile"):
        assert not any(n.startswith(banned) for n in names), banned
    assert not any("__pycache__" in n or n.split("/")[-1].startswith(".") for n in names)


@pytest.fixture(scope="module")
def installed() -> str:
    bpy.context.preferences.system.use_online_access = True
    result = bpy.ops.extensions.package_install_files(
        filepath=str(built_zip()), repo="user_default", enable_on_install=True
    )
    assert result == {"FINISHED"}
    assert MODULE in bpy.context.preferences.addons
    return MODULE


def test_installed_extension_upscales_through_the_emulator(installed: str, tmp_path: Path) -> None:
    process, base_url = start_emulator_process(
        ["--job-seconds", "0.3"], python=os.environ.get("EMULATOR_PYTHON", sys.executable)
    )
    try:
        prefs = bpy.context.preferences.addons[installed].preferences
        prefs.api_key, prefs.api_secret, prefs.base_url = "demo-key", "demo-secret", base_url
        prefs.output_dir = str(tmp_path)
        image = bpy.data.images.new("installed", 32, 32)
        assert bpy.ops.scenario.upscale_image(image_name="installed", scope="NONE") == {"FINISHED"}
        [result] = [i for i in bpy.data.images if i.get("scenario_source_image") == image.name]
        assert tuple(result.size) == (64, 64)
        assert (tmp_path / "installed_x2.png").is_file()
    finally:
        stop_emulator_process(process)


def test_disable_leaves_nothing_registered_and_enable_works_again(installed: str) -> None:
    assert bpy.ops.preferences.addon_disable(module=installed) == {"FINISHED"}
    assert installed not in bpy.context.preferences.addons
    assert not hasattr(bpy.types.Scene, "scenario_upscale")
    assert not hasattr(bpy.ops.scenario, "upscale_image") or not _op_registered()
    for name in OUR_CLASSES:
        assert getattr(bpy.types, name, None) is None, name
    import logging
    import threading
    assert not [t for t in threading.enumerate() if t.name.startswith("scenario-")]
    for name in dir(bpy.app.handlers):
        handlers = getattr(bpy.app.handlers, name)
        if isinstance(handlers, list):
            assert not [h for h in handlers if getattr(h, "__module__", "").startswith(installed)]
    ours = [h for h in logging.getLogger(installed).handlers
            if (h.get_name() or "").startswith(installed)]
    assert not ours, "the log file and console handlers"
    steps_timer = sys.modules.get(f"{installed}.bridge.runtime")
    assert steps_timer is None or not bpy.app.timers.is_registered(steps_timer._run_steps_timer)

    assert bpy.ops.preferences.addon_enable(module=installed) == {"FINISHED"}
    assert _op_registered()
    assert hasattr(bpy.types.Scene, "scenario_upscale")


def _op_registered() -> bool:
    try:
        bpy.ops.scenario.upscale_image.get_rna_type()
    except KeyError:
        return False
    return True
