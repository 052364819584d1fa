"""Finding an image again in a later main-thread step: by its session id, which survives renames
(only ever keep names and ids across steps; a Python reference may outlive the image); and
finding its file."""

from __future__ import annotations

import os

import bpy


def find_image(name: str, session_uid: int) -> bpy.types.Image | None:
    """The image with this session id, or None once it is gone."""
    image = bpy.data.images.get(name)
    if image is not None and image.session_uid == session_uid:
        return image
    return next((i for i in bpy.data.images if i.session_uid == session_uid), None)


def file_path(image: bpy.types.Image) -> str:
    """The image's file as an absolute path (its library's folder for a linked image)."""
    if not image.filepath:
        return ""
    return os.path.normpath(bpy.path.abspath(image.filepath, library=image.library))


def has_property(image: bpy.types.Image, key: str) -> bool:
    """Whether the image carries the custom property ``key`` (the add-on's marks on previews
    and results). The stubs leave out that an ID supports ``in``."""
    return key in image  # type: ignore[operator]
