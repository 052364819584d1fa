"""Windowed Blender tests: each case is a fresh Blender in a real window (Xvfb), with the built
zip installed as a user installs it, talking to the emulator on loopback. The case runs inside
Blender (tests/gui/cases/, driven by tests/gui/inside/harness.py) and writes its findings to
JSON; the tests here assert them. Every case runs on every Blender of ``launcher.available()``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import launcher  # noqa: E402

REPO = launcher.REPO
Window = launcher.Window
_BLENDERS = launcher.available()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "blender" in metafunc.fixturenames:
        metafunc.parametrize("blender", _BLENDERS, ids=[b.label for b in _BLENDERS],
                             scope="session")


@pytest.fixture(scope="session")
def installed_template(blender: launcher.Blender) -> Path:
    """A Blender user folder with the zip installed, once per Blender; each case copies it."""
    return launcher.install_template(blender)


@pytest.fixture
def window(blender: launcher.Blender, installed_template: Path,
           request: pytest.FixtureRequest) -> Iterator[launcher.Window]:
    name = request.node.name.split("[")[0].removeprefix("test_")
    w = launcher.Window(blender, installed_template, f"{name}-{blender.label}")
    try:
        yield w
    finally:
        w.close()
