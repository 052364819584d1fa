"""How much memory this computer has, for checks that refuse work that would not fit."""

from __future__ import annotations

import os

# Results are opened whole: they may take at most this share of the memory (a UDIM set's tiles
# together, or one image).
MEMORY_SHARE = 0.5


def physical_bytes() -> int:
    """Installed memory in bytes; 0 when the system does not say. Linux and macOS say it
    through ``os.sysconf``; on Windows the standard library has no call for it short of
    ``ctypes``, which the add-on does not use (docs/decisions.md): there the checks that use it
    fall back to the side limit and the header checks."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return 0
