"""Starts a real, windowed Blender for one test case: Debian's Blender in a cached root
(tools/blender_root.sh) on its own Xvfb, or the developer's own binary from $BLENDER.

The root runs under ``unshare -m``: the bind mounts it needs (/proc, /sys, /dev, the case folder
and this repository, at their own paths) end with the process. Blender's own /tmp is private.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
INSIDE = REPO / "tests" / "gui" / "inside"
# Debian suites and the Blender each one ships (see tools/blender_root.sh).
SUITES = {"4.3": "trixie", "5.2": "sid"}
GEOMETRY = ("0", "0", "1600", "900")

# Runs inside the root: its own X display, then Blender; the exit status is Blender's.
_IN_ROOT = r"""
set -u
mkdir -p /tmp/.X11-unix && chmod 1777 /tmp/.X11-unix
Xvfb -displayfd 3 -screen 0 1600x900x24 -nolisten tcp 3>"$CASE/display" 2>"$CASE/xvfb.log" &
xvfb=$!
for _ in $(seq 100); do [ -s "$CASE/display" ] && break; sleep 0.05; done
export DISPLAY=":$(cat "$CASE/display")"
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
        (case / "display").unlink(missing_ok=True)
        full_env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(case / "home"),
                    "TMPDIR": str(tmp), "CASE": str(case), "LANG": "C.UTF-8", **env}
        command = [self.binary, *args]
        if windowed:
            command = ["/bin/bash", "-c", _IN_ROOT, "in-root", *command]
        if self.root is not None:
            command = ["unshare", "-m", "/bin/bash", "-c", _MOUNT, "mount", str(self.root),
                       str(case), str(REPO), *command]
        elif windowed and os.environ.get("DISPLAY"):
            command = command[4:]  # the developer's own display
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
