"""Arguments of ``blender -b scene.blend --command scenario_upscale [...]`` (no bpy)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

PROG = "blender -b scene.blend --command scenario_upscale"
SCOPES = {
    "selected": "SELECTED_OBJECTS",
    "active": "ACTIVE_MATERIAL",
    "all": "ALL_MATERIALS",
}
PRESETS = ("precise", "balanced", "creative")
DATA_CHOICES = {"precise": "PRECISE", "color": "COLOR", "skip": "SKIP"}


@dataclass(frozen=True)
class CliOptions:
    scope: str = "SELECTED_OBJECTS"
    factor: int = 0       # 0: the scene's setting
    preset: str = ""      # "": the scene's setting
    data_maps: str = ""   # "": the scene's per-role settings
    save: bool = False
    json_path: str = ""
    quiet: bool = False


class CliUsage(Exception):
    """Bad arguments (exit code 2) or a request for help (exit code 0): the message says which."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


class _Parser(argparse.ArgumentParser):
    # argparse would print and exit the whole Blender process: report through CliUsage instead.
    def error(self, message: str) -> None:  # type: ignore[override]
        raise CliUsage(f"{self.format_usage()}{self.prog}: error: {message}", 2)

    def exit(self, status: int = 0, message: str | None = None) -> None:  # type: ignore[override]
        raise CliUsage(message or "", status)

    def print_help(self, file: object = None) -> None:
        raise CliUsage(self.format_help(), 0)


def _scope(value: str) -> str:
    key = value.strip().lower()
    if key in SCOPES:
        return SCOPES[key]
    if value.upper() in SCOPES.values():
        return value.upper()
    raise argparse.ArgumentTypeError(f"choose from {', '.join(SCOPES)}")


def _factor(value: str) -> int:
    try:
        factor = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a whole number from 2 to 8 (got {value!r})") from None
    if not 2 <= factor <= 8:
        raise argparse.ArgumentTypeError(f"a whole number from 2 to 8 (got {factor})")
    return factor


def parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog=PROG, allow_abbrev=False,
        description="Upscale every image texture of the materials in scope with Scenario, switch "
                    "their nodes to the results and print a JSON summary. Exit code 0: nothing "
                    "failed; 1: some image failed or was cancelled; 2: nothing could start.",
    )
    p.add_argument("--scope", type=_scope, default="SELECTED_OBJECTS",
                   help="selected (materials of the selected objects, default), active (the "
                        "active object's active material) or all (every material)")
    p.add_argument("--factor", type=_factor, default=0,
                   help="upscale factor 2-8 (default: the scene's setting)")
    p.add_argument("--preset", choices=PRESETS, default="",
                   help="preset for colour maps (default: the scene's setting)")
    p.add_argument("--data-maps", choices=tuple(DATA_CHOICES), default="",
                   help="normal, roughness, metallic, height and alpha maps: precise, color (as "
                        "colour maps) or skip (default: the scene's batch settings)")
    p.add_argument("--save", action="store_true",
                   help="save the .blend afterwards so it keeps using the results")
    p.add_argument("--json", dest="json_path", default="", metavar="FILE",
                   help="also write the JSON summary to FILE")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    return p


def parse(argv: list[str]) -> CliOptions:
    """Raises CliUsage for bad arguments and for --help."""
    ns = parser().parse_args(argv)
    return CliOptions(
        scope=ns.scope, factor=ns.factor, preset=ns.preset,
        data_maps=DATA_CHOICES.get(ns.data_maps, ""), save=ns.save, json_path=ns.json_path,
        quiet=ns.quiet,
    )
