"""Starts a real, windowed Blender for one test case: Debian's Blender in a cached root
(tools/blender_root.sh) on its own Xvfb, or the developer's own binary from $BLENDER (on
$DISPLAY, else on an Xvfb of its own). Also the case runner the tests and the bench share.

The root runs under ``unshare -m``: the bind mounts it needs (/proc, /sys, /dev, the case folder
and this repository, at their own paths) end with the process. Blender's own /tmp is private.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from emulator.control_client import ControlClient  # noqa: E402
from emulator.process import start_emulator_process, stop_emulator_process  # noqa: E402

API_KEY = "gui-key"
API_SECRET = "gui-secret-canary-51d2e"
CASE_TIMEOUT = 240.0
INSIDE = REPO / "tests" / "gui" / "inside"
# Debian suites and the Blender each one ships (see tools/blender_root.sh).
SUITES = {"4.3": "trixie", "5.2": "sid"}
GEOMETRY = ("0", "0", "1600", "900")
# The run marker of tools/no_leftovers.py, passed on through the cleaned environment.
MARKER = "SCENARIO_TEST_RUN"

# Runs inside the root: its own X display, then Blender; the exit status is Blender's. The root's
# /tmp is private, but X's abstract sockets are shared with every other process on the machine:
# a random display number, and another one if that Xvfb cannot listen.
_IN_ROOT = r"""
set -u
mkdir -p /tmp/.X11-unix && chmod 1777 /tmp/.X11-unix
for attempt in 1 2 3 4 5 6 7 8; do
  n=$(( RANDOM % 900 + 100 ))
  Xvfb ":$n" -screen 0 1600x900x24 -nolisten tcp 2>>"$CASE/xvfb.log" &
  xvfb=$!
  for _ in $(seq 200); do
    [ -S "/tmp/.X11-unix/X$n" ] && break
    kill -0 "$xvfb" 2>/dev/null || break
    sleep 0.05
  done
  [ -S "/tmp/.X11-unix/X$n" ] && kill -0 "$xvfb" 2>/dev/null && break
  kill "$xvfb" 2>/dev/null; wait "$xvfb" 2>/dev/null
done
export DISPLAY=":$n"
"$@"
status=$?
kill "$xvfb" 2>/dev/null; wait "$xvfb" 2>/dev/null
exit $status
"""
_MOUNT = r"""
set -eu
root=$1; case=$2; repo=$3; shift 3
for d in proc sys dev; do mount --rbind "/$d" "$root/$d"; done
mount -t tmpfs tmpfs "$root/tmp"
for d in "$case" "$repo"; do mkdir -p "$root$d"; mount --bind "$d" "$root$d"; done
exec chroot "$root" "$@"
"""


@dataclass
class Finished:
    returncode: int
    output: str
    crash_reports: list[str] = field(default_factory=list)

    @property
    def crashed(self) -> bool:
        # A signal shows as a negative code, or as 128 + signal through a shell.
        return bool(self.crash_reports) or self.returncode < 0 or self.returncode > 128


@dataclass(frozen=True)
class Blender:
    """One windowed Blender: ``label`` is its version ("4.3"), ``root`` the Debian root or None
    for $BLENDER."""

    label: str
    root: Path | None
    binary: str

    def run(self, case: Path, args: list[str], env: dict[str, str], timeout: float,
            windowed: bool = True) -> Finished:
        """Runs Blender with ``args`` and ``env``; killed (and failed) after ``timeout`` s."""
        tmp = case / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        own_display = os.environ.get("DISPLAY", "") if self.root is None else ""
        full_env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(case / "home"),
                    "TMPDIR": str(tmp), "CASE": str(case), "LANG": "C.UTF-8", **env}
        if own_display:
            full_env["DISPLAY"] = own_display
        if MARKER in os.environ:  # lets `make test` find whatever this case leaves running
            full_env[MARKER] = os.environ[MARKER]
        command = [self.binary, *args]
        if windowed and not own_display:
            command = ["/bin/bash", "-c", _IN_ROOT, "in-root", *command]
        if self.root is not None:
            command = ["unshare", "-m", "/bin/bash", "-c", _MOUNT, "mount", str(self.root),
                       str(case), str(REPO), *command]
        log = case / "blender.log"
        with log.open("w") as out:
            proc = subprocess.Popen(command, env=full_env, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
            try:
                code = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                code = -signal.SIGKILL
                out.write(f"\n== killed after the case's {timeout:.0f} s timeout\n")
        crashes = [p.read_text(errors="replace") for p in tmp.rglob("*.crash.txt")]
        return Finished(code, log.read_text(errors="replace"), crashes)


def available() -> list[Blender]:
    """$BLENDER if set, else one Blender per Debian suite (built on first use, then cached)."""
    own = os.environ.get("BLENDER")
    if own:
        return [Blender("own", None, own)]
    found = []
    for label, suite in SUITES.items():
        root = subprocess.run([str(REPO / "tools" / "blender_root.sh"), suite], check=True,
                              capture_output=True, text=True).stdout.strip().splitlines()[-1]
        found.append(Blender(label, Path(root), "/usr/bin/blender"))
    return found


def new_case_dir(name: str) -> Path:
    # Under /tmp on the host; inside the root it is bind-mounted at the same path.
    return Path(tempfile.mkdtemp(prefix=f"scenario-gui-{name}-"))


def built_zip() -> Path:
    zips = sorted((REPO / "dist").glob("scenario_texture_upscale-*.zip"))
    assert zips, "run `make build` first (make test-gui does)"
    return zips[-1]


def install_template(blender: Blender) -> Path:
    """A Blender user folder with the built zip installed as a user installs it and the
    preferences saved (splash off, online access on)."""
    case = new_case_dir(f"install-{blender.label}")
    prefs = {"confirm_expensive": True, "confirm_above_credits": 50.0}
    done = blender.run(case, ["-b", "--factory-startup", "--python", str(INSIDE / "install.py"),
                              "--", str(built_zip()), json.dumps(prefs)],
                       {"BLENDER_USER_RESOURCES": str(case / "user")}, timeout=180,
                       windowed=False)
    if done.returncode != 0 or "INSTALLED" not in done.output:
        raise RuntimeError(f"installing the zip failed:\n{done.output[-3000:]}")
    return case / "user"


@dataclass
class CaseRun:
    findings: dict[str, Any]
    blender: Finished

    def assert_clean(self) -> None:
        """No crash, no hang, no exception in the case."""
        done = self.blender
        assert not done.crashed, "Blender crashed:\n" + "\n".join(done.crash_reports or
                                                                 [done.output[-4000:]])
        assert done.returncode == 0, f"Blender exited with {done.returncode}:\n{done.output[-4000:]}"
        assert not self.findings.get("errors"), "\n".join(self.findings["errors"])


class Window:
    """One case's machine: its folder, a user folder with the add-on, the emulator."""

    def __init__(self, blender: Blender, template: Path, name: str) -> None:
        self.blender = blender
        self.case = new_case_dir(name)
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
        args = ["--window-geometry", *GEOMETRY, "--no-window-focus", *blender_args]
        if blend:
            args.append(str(self.case / blend))
        args += ["--python", str(INSIDE / "run_case.py"), "--",
                 str(REPO / "tests" / "gui" / "cases" / case_file), function, str(self.case),
                 str(result)]
        full_env = {"BLENDER_USER_RESOURCES": str(self.case / "user"),
                    "SCENARIO_BASE_URL": self.base_url, "SCENARIO_SDK_API_KEY": API_KEY,
                    "SCENARIO_SDK_API_SECRET": API_SECRET, **(env or {})}
        done = self.blender.run(self.case, args, full_env, timeout)
        findings = json.loads(result.read_text()) if result.is_file() else {
            "errors": ["the case wrote no findings"]}
        return CaseRun(findings, done)

    def findings(self, case_file: str, function: str, **run_args: Any) -> dict[str, Any]:
        """Runs the case, fails unless it ended cleanly, and returns what it found."""
        run = self.run(case_file, function, **run_args)
        run.assert_clean()
        return run.findings

    def close(self) -> None:
        if self.emulator_process is not None:
            stop_emulator_process(self.emulator_process)


