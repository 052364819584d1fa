"""How much memory this computer has, for checks that refuse work that would not fit."""

from __future__ import annotations

import ctypes
import os
import sys

# Results are opened whole: they may take at most this share of the memory (a UDIM set's tiles
# together, or one image).
MEMORY_SHARE = 0.5


def physical_bytes() -> int:
    """Installed memory in bytes; 0 when the system does not say."""
    if sys.platform == "win32":
        return _windows_physical_bytes()
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return 0


def _windows_physical_bytes() -> int:
    class MemoryStatus(ctypes.Structure):
        _fields_ = [("length", ctypes.c_ulong), ("load", ctypes.c_ulong),
                    ("total_physical", ctypes.c_ulonglong), ("free_physical", ctypes.c_ulonglong),
                    ("total_page", ctypes.c_ulonglong), ("free_page", ctypes.c_ulonglong),
                    ("total_virtual", ctypes.c_ulonglong), ("free_virtual", ctypes.c_ulonglong),
                    ("free_extended", ctypes.c_ulonglong)]

    status = MemoryStatus()
    status.length = ctypes.sizeof(MemoryStatus)
    try:
        if ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):  # type: ignore[attr-defined]
            return int(status.total_physical)
    except (AttributeError, OSError):
        pass
    return 0
