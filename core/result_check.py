"""Whether a downloaded result is what was asked for, read from its header before any decode.

A service that lies can send a file whose header claims 60000×60000 px (Blender's loader then
asks for 14 GB), or an image of another size than the one paid for. The header says it in a few
bytes: the result is refused before the add-on decodes it or Blender loads it when

- its header cannot be read;
- its pixels pass the limits: *Largest Result Side* on either side, or more than half of this
  computer's memory at 4 bytes a pixel (what Blender holds of an 8-bit image);
- its size is not what was sent times the factor, give or take a pixel of rounding. What was sent
  is the padded source in Seam-Safe mode: the result is checked as it arrives, before its crop.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..api import errors
from .estimate import MEMORY_BYTES_PER_PIXEL, megabytes
from .imagefile import ImageHeaderError, ImageInfo, read_image_header
from .memory import MEMORY_SHARE, physical_bytes

DEFAULT_MAX_SIDE = 16384
# Scenario may round an odd size up or down.
SIZE_TOLERANCE = 1


class ResultRejected(errors.ScenarioError):
    """The result file is not the image that was asked for; it was not used."""


@dataclass(frozen=True)
class ResultLimits:
    """How large a result may be before it is opened."""

    max_side: int = DEFAULT_MAX_SIDE
    memory_bytes: int = 0  # what it may take in memory; 0: half of this computer's

    @property
    def memory_budget(self) -> int:
        return self.memory_bytes or int(physical_bytes() * MEMORY_SHARE)


def check_result(path: str | os.PathLike[str], expected: tuple[int, int] | None,
                 limits: ResultLimits, fmt: str | None = None) -> ImageInfo:
    """The result's header when it may be used, else ``ResultRejected`` saying why.
    ``expected`` is (width, height) as sent × factor, None when not known; ``fmt`` the format
    asked for, when one was."""
    try:
        info = read_image_header(path)
    except (ImageHeaderError, OSError) as exc:
        reason = f"Scenario's result is not an image the add-on can read ({exc})."
        raise ResultRejected(reason) from exc
    if fmt is not None and info.format != fmt:
        raise ResultRejected(
            f"Scenario's result is a {info.format.upper()} image, but a {fmt.upper()} was asked for.")
    size = f"{info.width}×{info.height} px"
    if max(info.width, info.height) > limits.max_side:
        raise ResultRejected(
            f"Scenario's result is {size}, above the {limits.max_side} px limit set in the "
            "preferences (Largest Result Side); it was not opened.")
    needed, budget = info.width * info.height * MEMORY_BYTES_PER_PIXEL, limits.memory_budget
    if budget and needed > budget:
        raise ResultRejected(
            f"Scenario's result is {size}: opening it would take {megabytes(needed)} of memory, "
            f"more than the {megabytes(budget)} the add-on allows itself (half of this "
            "computer's); it was not opened.")
    if expected is not None and not _close(info, expected):
        raise ResultRejected(
            f"Scenario's result is {size}, but {expected[0]}×{expected[1]} px was asked for.")
    return info


def _close(info: ImageInfo, expected: tuple[int, int]) -> bool:
    return (abs(info.width - expected[0]) <= SIZE_TOLERANCE
            and abs(info.height - expected[1]) <= SIZE_TOLERANCE)
