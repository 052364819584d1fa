"""The add-on's own extension repository (`make release`, tools/release.py), used as a studio
would: served over http://127.0.0.1 by a small static server and as a file:// folder on a shared
drive, added in Blender, installed from, upgraded through Blender's own operators. Nothing is lost
on the way: keys, preferences, a job paid for and not collected, the log. A zip install moves to
the repository without two copies enabled at once, and uninstalling keeps the paid jobs.

Each Blender session is its own process (blender_session.py) on one user folder, as an artist
starting Blender again; a job is paid for and then Blender is killed.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from emulator.control_client import ControlClient  # noqa: E402
from emulator.process import start_emulator_process, stop_emulator_process  # noqa: E402
from tools import release  # noqa: E402

SESSION = Path(__file__).with_name("blender_session.py")


def _bpy_version() -> tuple[int, int]:
    found = subprocess.run([sys.executable, "-c", "import bpy; print(*bpy.app.version[:2])"],
                           capture_output=True, text=True, timeout=120)
    major, minor = found.stdout.split()[-2:]
    return int(major), int(minor)


# A Blender session here starts as Blender does, from the preferences saved by the one before
# (wm.read_userpref). The bpy module of 4.2 crashes in wm.read_userpref, so these run on bpy
# 5.0 and 5.2 (make install-test runs both); a real Blender reads them at start-up.
pytestmark = pytest.mark.skipif(_bpy_version() < (5, 0),
                                reason="bpy 4.2 crashes in wm.read_userpref (SIGSEGV)")
KEY, SECRET = "repo-key", "repo-secret-canary-0c1d"
ADDON_ID = "scenario_texture_upscale"
SETTINGS = {"confirm_above_credits": 7.5, "max_concurrent_jobs": 3, "job_timeout_minutes": 42}


def manifest_version() -> str:
    text = (REPO / "blender_manifest.toml").read_text("utf-8")
    return re.search(r'(?m)^version = "([^"]+)"', text).group(1)


def next_version(version: str) -> str:
    major, minor, patch = (int(x) for x in version.split("."))
    return f"{major}.{minor}.{patch + 1}"


class Artist:
    """Blender sessions on one user folder, each a new process."""

    def __init__(self, base_url: str) -> None:
        self.user = Path(tempfile.mkdtemp(prefix="scenario-repo-user-"))
        self.env = {**os.environ, "BLENDER_USER_RESOURCES": str(self.user),
                    "SCENARIO_BASE_URL": base_url}
        for name in ("SCENARIO_SDK_API_KEY", "SCENARIO_SDK_API_SECRET"):
            self.env.pop(name, None)

    def run(self, step: str, **args: Any) -> dict[str, Any]:
        done = self.start(step, **args)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        [found] = [line for line in done.stdout.splitlines() if line.startswith("FINDINGS ")]
        return dict(json.loads(found.removeprefix("FINDINGS ")))

    def start(self, step: str, **args: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(SESSION), step, json.dumps(args)],
                              env=self.env, capture_output=True, text=True, timeout=300)

    def pay_then_crash(self, folder: Path) -> None:
        died = self.start("submit-then-die", folder=str(folder))
        assert died.returncode == -signal.SIGKILL, died.stdout[-2000:] + died.stderr[-2000:]


@pytest.fixture(scope="module")
def emulator() -> Iterator[tuple[str, ControlClient]]:
    process, base_url = start_emulator_process(
        ["--job-seconds", "4", "--api-key", KEY, "--api-secret", SECRET, "--quiet"],
        python=os.environ.get("EMULATOR_PYTHON", sys.executable))
    try:
        yield base_url, ControlClient(base_url)
    finally:
        stop_emulator_process(process)


def paid(control: ControlClient) -> int:
    return sum(1 for r in control.requests() if r["method"] == "POST" and r["status"] == 200
               and str(r["path"]).startswith("/v1/generate")
               and "dryRun" not in (r.get("query") or {}))


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """An empty repository folder and its address over http on loopback."""
    folder = tmp_path / "repository"
    folder.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield folder, f"http://127.0.0.1:{server.server_address[1]}/index.json"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *_args: Any) -> None:
        pass


def repository_url(served: tuple[Path, str], how: str) -> str:
    folder, http_url = served
    return http_url if how == "http" else (folder / "index.json").as_uri()


@pytest.mark.parametrize("how", ["http", "file"])
def test_an_upgrade_through_the_repository_keeps_everything(how, emulator, served,
                                                            tmp_path) -> None:
    base_url, control = emulator
    control.reset()
    folder, _ = served
    first, second = manifest_version(), next_version(manifest_version())
    release.build_repository(folder)
    artist = Artist(base_url)
    artist.run("add-repository", name="studio", url=repository_url(served, how))
    installed = artist.run("install", name="studio",
                           prefs={"api_key": KEY, "api_secret": SECRET, **SETTINGS})
    assert installed["copies"] == [f"bl_ext.studio.{ADDON_ID}"]
    artist.pay_then_crash(tmp_path / "work")
    assert paid(control) == 1
    log_before = _log_lines(artist)

    release.build_repository(folder, version=second)  # B is published
    upgraded = artist.run("upgrade")

    assert first != second and upgraded["version"] == second
    assert upgraded["prefs"]["api_key"] == KEY and upgraded["prefs"]["api_secret"] == SECRET
    assert {k: upgraded["prefs"][k] for k in SETTINGS} == SETTINGS
    [job] = upgraded["recent"]
    assert job["state"] == "submitted" and job["job_id"], "the paid job is kept for Recover"
    assert log_before and _log_lines(artist)[:len(log_before)] == log_before, "the log is kept"

    recovered = artist.run("recover", blend=str(tmp_path / "work" / "scene.blend"))

    assert recovered["result"] == ["FINISHED"] and recovered["image"] == "brick_x2"
    assert [j["state"] for j in recovered["recent"]] == ["applied"]
    assert paid(control) == 1, "exactly one paid generate, before and after the upgrade"


def _log_lines(artist: Artist) -> list[str]:
    [log] = list(artist.user.rglob("scenario_upscale.log"))
    return log.read_text("utf-8").splitlines()


def test_a_journal_of_a_newer_version_is_left_alone_after_a_downgrade(emulator, served,
                                                                       tmp_path) -> None:
    """B writes its jobs in a newer journal format; back on A (a downgrade from the
    repository), A lists them and leaves them exactly as they are."""
    base_url, control = emulator
    folder, _ = served
    current = manifest_version()
    with tempfile.TemporaryDirectory() as work:
        source = release.copy_source(REPO, Path(work), next_version(current))
        journal = source / "core" / "journal.py"
        text, bumped = re.subn(r"(?m)^JOURNAL_VERSION = (\d+)",
                               lambda m: f"JOURNAL_VERSION = {int(m.group(1)) + 1}",
                               journal.read_text("utf-8"))
        assert bumped == 1
        journal.write_text(text, "utf-8")
        release.build_repository(folder, source=source)
    artist = Artist(base_url)
    artist.run("add-repository", name="studio", url=repository_url(served, "http"))
    artist.run("install", name="studio", prefs={"api_key": KEY, "api_secret": SECRET})
    done = artist.run("upscale", folder=str(tmp_path / "b"))
    assert done["result"] == ["FINISHED"]
    [entry] = [p for p in Path(done["folder"], "journal").glob("*.json")]
    written_by_b = entry.read_bytes()

    release.build_repository(folder)  # A again, the only version the repository offers
    artist.run("uninstall", name="studio")
    back = artist.run("install", name="studio")
    assert back["copies"] == [f"bl_ext.studio.{ADDON_ID}"]
    seen = artist.run("state")

    assert seen["version"] == current
    assert entry.stem in seen["newer"] and entry.stem not in [j["local_id"]
                                                             for j in seen["recent"]]
    assert entry.read_bytes() == written_by_b, "left exactly as B wrote it"


def test_a_zip_install_moves_to_the_repository_without_losing_anything(emulator, served,
                                                                       tmp_path) -> None:
    base_url, control = emulator
    control.reset()
    folder, _ = served
    zipped = release.build_repository(folder)
    artist = Artist(base_url)
    artist.run("install-zip", zip=str(zipped),
               prefs={"api_key": KEY, "api_secret": SECRET, **SETTINGS})
    artist.pay_then_crash(tmp_path / "work")
    artist.run("add-repository", name="studio", url=repository_url(served, "file"))

    second = artist.run("install", name="studio")

    old, new = f"bl_ext.user_default.{ADDON_ID}", f"bl_ext.studio.{ADDON_ID}"
    assert second["copies"] == [old], "the second copy does not enable beside the first"
    assert "already enabled from the repository 'user_default'" in second["error"]
    assert "disable that copy in Preferences ▸ Add-ons, then enable this one" in second["error"]

    switched = artist.run("switch", disable=old, enable=new)

    assert switched["copies"] == [new]
    assert switched["prefs"]["api_key"] == KEY and switched["prefs"]["api_secret"] == SECRET
    assert {k: switched["prefs"][k] for k in SETTINGS} == SETTINGS
    assert [j["state"] for j in switched["recent"]] == ["submitted"]
    recovered = artist.run("recover", blend=str(tmp_path / "work" / "scene.blend"))
    assert recovered["image"] == "brick_x2"
    assert paid(control) == 1
    assert not any(KEY in p.read_text("utf-8", errors="replace") or SECRET in p.read_text(
        "utf-8", errors="replace") for p in Path(switched["folder"]).rglob("*") if p.is_file()), \
        "no key or secret written into the add-on's folder by the move"


def test_uninstalling_keeps_the_jobs_and_says_where(emulator, served, tmp_path) -> None:
    base_url, control = emulator
    folder, _ = served
    release.build_repository(folder)
    artist = Artist(base_url)
    artist.run("add-repository", name="studio", url=repository_url(served, "http"))
    artist.run("install", name="studio", prefs={"api_key": KEY, "api_secret": SECRET})
    done = artist.run("upscale", folder=str(tmp_path / "job"))
    assert done["result"] == ["FINISHED"]

    gone = artist.run("uninstall", name="studio")

    assert gone["copies"] == [] and not gone["package_folder_left"]
    assert gone["threads"] == [], "no thread of the add-on left running"
    data = Path(gone["data_folder"])
    assert [p.stem for p in (data / "journal").glob("*.json")] == [
        j["local_id"] for j in done["recent"]]
    assert f"Jobs and the log stay in {data}" in (data / "scenario_upscale.log").read_text("utf-8")
