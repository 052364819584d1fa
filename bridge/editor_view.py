"""The Image Editor an upscale was started from, found again when the job ends so that it can
show the result. Kept as names and indices: a Python reference to an area may outlive it."""

from __future__ import annotations

from dataclasses import dataclass

import bpy

from . import connection, lookup


@dataclass(frozen=True)
class EditorRef:
    screen: str
    area_index: int
    image: str  # what it showed when the job started, by name and session id
    image_uid: int


def of(context: bpy.types.Context) -> EditorRef | None:
    """The editor of ``context`` when it is an Image Editor and the preference wants it."""
    if not getattr(connection.preferences(), "show_result_in_editor", True):
        return None
    space, screen, area = context.space_data, context.screen, context.area
    if space is None or space.type != "IMAGE_EDITOR" or space.image is None or screen is None:
        return None
    index = next((i for i, a in enumerate(screen.areas) if a == area), None)
    if index is None:
        return None
    return EditorRef(screen.name, index, space.image.name, space.image.session_uid)


def show(ref: EditorRef, image_name: str) -> bool:
    """Shows ``image_name`` in the editor, unless it was closed or the artist has opened
    another image there meanwhile. True when it now shows it."""
    screen = bpy.data.screens.get(ref.screen)
    image = bpy.data.images.get(image_name)
    if screen is None or image is None or ref.area_index >= len(screen.areas):
        return False
    area = screen.areas[ref.area_index]
    space = area.spaces.active
    if area.type != "IMAGE_EDITOR" or space.image is None:
        return False
    if space.image != lookup.find_image(ref.image, ref.image_uid):
        return False
    space.image = image
    return True
