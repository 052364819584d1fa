"""Blender's data as Blender hands it out, where the stubs (fake-bpy-module) type it looser:
array properties (``image.size``, a UDIM tile's size, an editor's zoom, View2D's conversions)
are sequences, though the stubs' ``bpy_prop_array`` can be neither indexed nor iterated; an
image's colour-space settings and the user preferences are always there, though the stubs make
them Optional; an Image Editor's space is one, though the stubs call it any Space."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import bpy


def size(owner: bpy.types.Image | bpy.types.UDIMTile) -> tuple[int, int]:
    """``owner.size``: width and height in pixels (0, 0 for an image Blender could not load)."""
    width, height = cast("Sequence[int]", owner.size)
    return int(width), int(height)


def pair(values: object) -> tuple[float, float]:
    """A two-number array property or result (``space.zoom``, ``view2d.region_to_view()``)."""
    x, y = cast("Sequence[float]", values)
    return float(x), float(y)


def colorspace(image: bpy.types.Image) -> bpy.types.ColorManagedInputColorspaceSettings:
    """``image.colorspace_settings``, which every image has."""
    settings = image.colorspace_settings
    assert settings is not None, image.name
    return settings


def preferences(context: bpy.types.Context) -> bpy.types.Preferences:
    """``context.preferences``, which are there as long as Blender runs."""
    prefs = context.preferences
    assert prefs is not None
    return prefs


def image_space(area: bpy.types.Area) -> bpy.types.SpaceImageEditor:
    """The space of ``area``, an Image Editor: the stubs' ``spaces.active`` is any Space, or
    None."""
    return cast("bpy.types.SpaceImageEditor", area.spaces.active)


def set_colorspace(image: bpy.types.Image, name: str) -> None:
    """Sets the image's colour space by name. The names are the OpenColorIO config's; the stubs
    know none but NONE."""
    colorspace(image).name = name  # type: ignore[assignment]
