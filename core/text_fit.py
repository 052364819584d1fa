"""Breaking a sentence into lines that fit a width, for panels: Blender cuts a label that is
too long in its middle ("abo…uch"), so long facts are drawn as several whole lines."""

from __future__ import annotations

import re
from collections.abc import Callable

_WORDS = re.compile(r"\S+\s*|\s+")
# Inside a word too long for any line (a path, an id): after a separator.
_PIECES = re.compile(r"[^/\\_]*[/\\_]|[^/\\_]+")


def fit_lines(text: str, width: float, measure: Callable[[str], float]) -> list[str]:
    """``text`` in lines no wider than ``width`` as ``measure`` counts. Lines break between
    words; a word is broken (after a path's or a name's separator) only when it fits no line
    alone, and a piece that still fits no line gets a line of its own."""
    lines: list[str] = []
    line = ""
    for word in _WORDS.findall(text):
        if not line or measure((line + word).rstrip()) <= width:
            if line and measure(word.rstrip()) > width:
                line = _add_pieces(lines, line, word, width, measure)
            else:
                line += word
        elif measure(word.rstrip()) <= width:
            lines.append(line.rstrip())
            line = word
        else:
            line = _add_pieces(lines, line, word, width, measure)
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return lines


def _add_pieces(lines: list[str], line: str, word: str, width: float,
                measure: Callable[[str], float]) -> str:
    """Adds ``word`` piece by piece after ``line``; returns the line it ends on."""
    for piece in _PIECES.findall(word.rstrip()):
        if line and measure(line + piece) > width:
            lines.append(line.rstrip())
            line = piece
        else:
            line += piece
    return line + word[len(word.rstrip()):]
