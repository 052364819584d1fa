"""Counts read with the right plural, and every shipped message counts through them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from scenario_texture_upscale.api.wording import counted, plural, verb

SHIPPED = ("api", "core", "bridge", "operators", "ui")
ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(("count", "text"), [
    (0, "0 tiles"), (1, "1 tile"), (2, "2 tiles"), (1.0, "1 tile"), (2.5, "2.5 tiles"),
])
def test_counts_read_with_the_right_plural(count, text) -> None:
    assert counted(count, "tile") == text


def test_irregular_plurals_and_verbs_agree() -> None:
    assert counted(1, "upload address", "upload addresses") == "1 upload address"
    assert counted(3, "upload address", "upload addresses") == "3 upload addresses"
    assert plural(1, "Tile") == "Tile" and plural(2, "Tile") == "Tiles"
    assert f"{counted(1, 'node')} {verb(1, 'uses', 'use')}" == "1 node uses"
    assert f"{counted(4, 'node')} {verb(4, 'uses', 'use')}" == "4 nodes use"


def test_no_shipped_text_says_s_in_brackets_or_cu() -> None:
    """'node(s)' reads as a form, and 'CU' is Scenario's internal name: credits, counted."""
    found = []
    for folder in SHIPPED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                code = line.split("#", 1)[0]
                if re.search(r"\w\(s\)", code) or re.search(r"[\"' ]CU[\"' ]", code):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == []
