"""Counts in words with the right plural: "1 tile", "2 tiles", "1 node uses", "3 nodes use".
Every message that counts something goes through here, never a "tile" with an s in brackets."""

from __future__ import annotations


def plural(count: float, singular: str, many: str = "") -> str:
    """``singular`` for exactly one, else ``many`` (by default ``singular`` + "s")."""
    return singular if count == 1 else (many or f"{singular}s")


def counted(count: float, singular: str, many: str = "") -> str:
    """'1 tile', '0 tiles', '2 style images'; ``many`` for irregular plurals."""
    shown = f"{int(count)}" if float(count).is_integer() else f"{count:g}"
    return f"{shown} {plural(count, singular, many)}"


def verb(count: float, one: str, many: str) -> str:
    """The verb that agrees with ``count``: verb(1, "is", "are") is "is"."""
    return one if count == 1 else many
