"""Breaking a sentence into lines that fit a width, for panels: Blender cuts a label that is
too long in its middle ("abo…uch"), so long facts are drawn as several whole lines."""

from __future__ import annotations

import re
from collections.abc import Callable

# Break after spaces, and inside paths and ids after a separator, never inside a word.
_PIECES = re.compile(r"[^\s/\\_]*[/\\_]|\S+\s*|\s+")


def fit_lines(text: str, width: float, measure: Callable[[str], float]) -> list[str]:
    """``text`` in lines no wider than ``width`` as ``measure`` counts; a piece that fits no
    line alone gets a line of its own."""
    lines: list[str] = []
    line = ""
    for piece in _PIECES.findall(text):
        wanted = line + piece
        if line and measure(wanted.rstrip()) > width:
            lines.append(line.rstrip())
            line = piece.lstrip()
        else:
            line = wanted
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return lines
