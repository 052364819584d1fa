"""`make release`: a folder that any static web server or shared drive can serve as a Blender
extension repository: the add-on's zip, and Blender's own index.json and index.html made by its
extension tool (`blender_ext server-generate`).

    python tools/release.py [--out release] [--version 0.2.0] [--source DIR]

The folder holds one version of the add-on: Blender offers it to every artist who added the
repository (Preferences ▸ Get Extensions ▸ Repositories), and upgrades them to it.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ADDON_ID = "scenario_texture_upscale"
# What a copy of the source leaves out besides what the manifest's build excludes.
_NOT_SOURCE = shutil.ignore_patterns(".git", ".venv*", ".pkgroot", "dist", "release",
                                     "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache")


def blender_ext() -> Path:
    """Blender's extension tool, from the bpy module this Python has."""
    for site in map(Path, sys.path):
        found = sorted(site.glob("bpy/*/scripts/addons_core/bl_pkg/cli/blender_ext.py"))
        if found:
            return found[-1]
    raise SystemExit("Blender's extension tool was not found: run this with a Python that has "
                     "the bpy module (make release does).")


def copy_source(source: Path, into: Path, version: str | None = None) -> Path:
    """A copy of the add-on's source in ``into``; with ``version``, its manifest says so."""
    target = into / ADDON_ID
    shutil.copytree(source, target, ignore=_NOT_SOURCE, symlinks=True)
    if version:
        manifest = target / "blender_manifest.toml"
        text, found = re.subn(r'(?m)^version = "[^"]*"', f'version = "{version}"',
                              manifest.read_text("utf-8"))
        if found != 1:
            raise SystemExit("the manifest has no single version line")
        manifest.write_text(text, "utf-8")
    return target


def build_repository(out: Path, source: Path = REPO, version: str | None = None) -> Path:
    """Builds the zip into ``out``, replacing any other version of the add-on there, and writes
    the repository's index. Returns the zip."""
    out.mkdir(parents=True, exist_ok=True)
    tool = [sys.executable, str(blender_ext())]
    with tempfile.TemporaryDirectory() as work:
        if version:
            source = copy_source(source, Path(work), version)
        built = Path(work) / "built"
        built.mkdir()
        subprocess.run([*tool, "build", "--source-dir", str(source), "--output-dir",
                        str(built)], check=True, stdout=subprocess.DEVNULL)
        [zipped] = built.glob(f"{ADDON_ID}-*.zip")
        for old in out.glob(f"{ADDON_ID}-*.zip"):
            old.unlink()
        shutil.move(str(zipped), out / zipped.name)
    subprocess.run([*tool, "server-generate", "--repo-dir", str(out), "--html"], check=True,
                   stdout=subprocess.DEVNULL)
    return out / zipped.name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "release")
    parser.add_argument("--version", help="build with this version instead of the manifest's")
    parser.add_argument("--source", type=Path, default=REPO)
    args = parser.parse_args(argv)
    zipped = build_repository(args.out.resolve(), args.source.resolve(), args.version)
    print(f"{zipped.name}, index.json and index.html in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
