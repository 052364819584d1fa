"""Windowed Blender tests: each case is a fresh Blender in a real window (Xvfb), with the built
zip installed as a user installs it, talking to the emulator on loopback. The case runs inside
Blender (tests/gui/cases/, driven by tests/gui/inside/harness.py) and writes its findings to
JSON; the tests here assert them. Every case runs on every Blender of ``launcher.available()``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import launcher  # noqa: E402

REPO = launcher.REPO
sys.path.insert(0, str(REPO))
from emulator.control_client import ControlClient  # noqa: E402
from emulator.process import start_emulator_process, stop_emulator_process  # noqa: E402

API_KEY = "gui-key"
API_SECRET = "gui-secret-canary-51d2e"
CASE_TIMEOUT = 240.0
_BLENDERS = launcher.available()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "blender" in metafunc.fixturenames:
        metafunc.parametrize("blender", _BLENDERS, ids=[b.label for b in _BLENDERS],
                             scope="session")


def built_zip() -> Path:
    zips = sorted((REPO / "dist").glob("scenario_texture_upscale-*.zip"))
    assert zips, "run `make build` first (make test-gui does)"
    return zips[-1]


@pytest.fixture(scope="session")
def installed_template(blender: launcher.Blender, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Blender user folder with the zip installed and the preferences saved, once per
    Blender; each case starts from a copy of it."""
    case = launcher.new_case_dir(f"install-{blender.label}")
    prefs = {"confirm_expensive": True, "confirm_above_credits": 50.0}
    done = blender.run(case, ["-b", "--factory-startup", "--python",
                              str(launcher.INSIDE / "install.py"), "--", str(built_zip()),
                              json.dumps(prefs)],
                       {"BLENDER_USER_RESOURCES": str(case / "user")}, timeout=180,
                       windowed=False)
    assert done.returncode == 0 and "INSTALLED" in done.output, done.output[-3000:]
    return case / "user"


@dataclass
class CaseRun:
    findings: dict[str, Any]
    output: str
    returncode: int
    crashed: bool
    crash_reports: list[str]

    def assert_clean(self) -> None:
        """No crash, no hang, no exception in the case."""
        assert not self.crashed, "Blender crashed:\n" + "\n".join(self.crash_reports or
                                                                 [self.output[-4000:]])
        assert self.returncode == 0, f"Blender exited with {self.returncode}:\n{self.output[-4000:]}"
        assert not self.findings.get("errors"), "\n".join(self.findings["errors"])


class Window:
    """One case's machine: its folder, a user folder with the add-on, the emulator."""

    def __init__(self, blender: launcher.Blender, template: Path, name: str) -> None:
        self.blender = blender
        self.case = launcher.new_case_dir(name)
        shutil.copytree(template, self.case / "user", symlinks=True)
        self.emulator_process: Any = None
        self.base_url = ""

    def start_emulator(self, *args: str) -> ControlClient:
        self.emulator_process, self.base_url = start_emulator_process(
            ["--api-key", API_KEY, "--api-secret", API_SECRET, *args],
            python=os.environ.get("EMULATOR_PYTHON", sys.executable),
        )
        return ControlClient(self.base_url)

    def run(self, case_file: str, function: str = "steps", timeout: float = CASE_TIMEOUT,
            env: dict[str, str] | None = None, blend: str | None = None,
            blender_args: tuple[str, ...] = ()) -> CaseRun:
        """One windowed Blender session running ``function`` of tests/gui/cases/``case_file``."""
        result = self.case / f"{function}.json"
        result.unlink(missing_ok=True)
        args = ["--window-geometry", *launcher.GEOMETRY, "--no-window-focus", *blender_args]
        if blend:
            args.append(str(self.case / blend))
        args += ["--python", str(launcher.INSIDE / "run_case.py"), "--",
                 str(REPO / "tests" / "gui" / "cases" / case_file), function, str(self.case),
                 str(result)]
        full_env = {"BLENDER_USER_RESOURCES": str(self.case / "user"),
                    "SCENARIO_BASE_URL": self.base_url, "SCENARIO_SDK_API_KEY": API_KEY,
                    "SCENARIO_SDK_API_SECRET": API_SECRET, **(env or {})}
        done = self.blender.run(self.case, args, full_env, timeout)
        findings = json.loads(result.read_text()) if result.is_file() else {
            "errors": ["the case wrote no findings"]}
        return CaseRun(findings, done.output, done.returncode, done.crashed, done.crash_reports)

    def close(self) -> None:
        if self.emulator_process is not None:
            stop_emulator_process(self.emulator_process)


@pytest.fixture
def window(blender: launcher.Blender, installed_template: Path,
           request: pytest.FixtureRequest) -> Iterator[Window]:
    name = request.node.name.split("[")[0].removeprefix("test_")
    w = Window(blender, installed_template, f"{name}-{blender.label}")
    try:
        yield w
    finally:
        w.close()
