"""Labels that read whole at any sidebar width and resolution scale: Blender cuts a label that
does not fit in its middle, so a long fact is drawn as several lines instead."""

from __future__ import annotations

import math
from collections.abc import Callable

import blf
import bpy

from ..bridge import rna
from ..core.text_fit import fit_lines
from .widgets import Icon

# Room a label never gets, in pixels at 1× (measured in the window): the sidebar's tab strip,
# the panel's margins, a box's padding and an icon.
RESERVED_PX = 100
FONT_ID = 0  # the interface font


def label_lines(layout: bpy.types.UILayout, context: bpy.types.Context, text: str,
                icon: Icon = "NONE") -> None:
    """``text`` as whole lines; the first carries ``icon``, the others are indented like it."""
    lines = fit_lines(text, _room(context), _measure(context))
    for index, line in enumerate(lines):
        layout.label(text=line, icon=icon if index == 0 or icon == "NONE" else "BLANK1")


def _scale(context: bpy.types.Context) -> float:
    return float(rna.preferences(context).system.ui_scale) or 1.0  # 0 without a window


def _room(context: bpy.types.Context) -> float:
    region = getattr(context, "region", None)
    if region is None or not getattr(region, "width", 0):
        return math.inf  # drawn without a region (a test): nothing to fit
    return float(region.width) - RESERVED_PX * _scale(context)


def _measure(context: bpy.types.Context) -> Callable[[str], float]:
    style = rna.preferences(context).ui_styles[0]
    blf.size(FONT_ID, style.widget.points * _scale(context))
    # The 4.2 stubs say blf.dimensions() returns None, not (width, height).
    return lambda text: float(blf.dimensions(FONT_ID, text)[0])  # type: ignore[index]
