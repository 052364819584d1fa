"""What a result will weigh, for the panel before paying: pure arithmetic, no bpy."""

from __future__ import annotations

# Upscaled textures compress to roughly half their raw RGB size as PNG.
PNG_BYTES_PER_PIXEL = 1.5
# Blender keeps 4 bytes per pixel for an 8-bit image, once in memory and once on the GPU.
MEMORY_BYTES_PER_PIXEL = 4


def megabytes(size: float) -> str:
    if size < 100e3:
        return f"{max(size / 1e3, 1):.0f} KB"
    return f"{size / 1e6:.0f} MB" if size >= 10e6 else f"{size / 1e6:.1f} MB"


def describe_output(width: int, height: int) -> tuple[str, str]:
    """Two short lines (the panel shows the result's size already): the file, the memory."""
    pixels = width * height
    memory = megabytes(pixels * MEMORY_BYTES_PER_PIXEL)
    return (f"File: about {megabytes(pixels * PNG_BYTES_PER_PIXEL)} as PNG",
            f"Memory: {memory}, GPU: {memory}")
