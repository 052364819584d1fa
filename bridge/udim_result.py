"""Main thread: a UDIM set's result files made into one tiled image, and what its report says."""

from __future__ import annotations

import json
from typing import Any

import bpy

from ..core.journal import JobRecord
from ..core.naming import UDIM_TOKEN

PROVENANCE_TILES = "scenario_tiles"  # on a set's result: each tile's Scenario job and asset


def make_tiled(image: bpy.types.Image, record: JobRecord) -> None:
    """``image``, loaded from the set's path with its UDIM token, becomes the tiled image of
    every tile file, with the original's tile labels and each tile's provenance."""
    image.source = "TILED"  # Blender finds the tiles' files from the token
    image.name = image.name.replace(f".{UDIM_TOKEN}", "")
    labels = {int(entry["tile"]): str(entry.get("label", "")) for entry in record.tiles}
    for tile in image.tiles:
        label = labels.get(int(tile.number), "")
        if label:
            tile.label = label
    image[PROVENANCE_TILES] = json.dumps(
        {str(e["tile"]): {"job_id": e.get("job_id", ""), "asset_id": e.get("asset_id", "")}
         for e in record.tiles}, sort_keys=True)


def fidelity_text(record: JobRecord) -> tuple[str, bool]:
    """The tiles' seam reports, notes and warnings in one line, and whether any warns."""
    parts: list[str] = []
    warns = False
    reports: dict[str, dict[str, Any]] = record.fidelity.get("tiles", {})
    for tile, report in sorted(reports.items()):
        seam = report.get("result_seam")
        if seam is not None:
            before = report.get("source_seam")
            parts.append(f"Tile {tile} seam ratio "
                         + (f"{before:.2f} → {seam:.2f}." if before is not None else f"{seam:.2f}."))
        for line in report.get("notes", []) + report.get("warnings", []):
            parts.append(f"Tile {tile}: {line}")
        warns = warns or bool(report.get("warnings"))
    return " ".join(parts), warns
