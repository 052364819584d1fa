"""The Image Editor an upscale was started from, found again when the job ends so that it can
show the result, and kept showing the right image through undo and redo. Kept as names,
indices and pointers: a Python reference to an area may outlive it."""

from __future__ import annotations

from dataclasses import dataclass

import bpy

from . import addon_data, lookup, rna


@dataclass(frozen=True)
class EditorRef:
    screen: str
    area_index: int
    image: str  # what it showed when the job started, by name and session id
    image_uid: int


def of(context: bpy.types.Context) -> EditorRef | None:
    """The editor of ``context`` when it is an Image Editor and the preference wants it."""
    prefs = addon_data.preferences()
    if prefs is not None and not prefs.show_result_in_editor:
        return None
    space, screen, area = context.space_data, context.screen, context.area
    if not isinstance(space, bpy.types.SpaceImageEditor) or space.image is None or screen is None:
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
    _showing[area.as_pointer()] = _Shown(space.image.name, image.name)
    space.image = image
    return True


@dataclass
class _Shown:
    original: str
    result: str
    undone: bool = False  # the original is back because an undo took the result away


# Editors showing a result because an upscale put it there, by area pointer.
_showing: dict[int, _Shown] = {}


def follow_undo() -> None:
    """After an undo or redo: an undo that removes the result would leave its editor empty, so
    it shows the original; a redo that brings the result back shows it again. Editors whose
    image the artist changed are left alone."""
    wm = bpy.context.window_manager
    for window in wm.windows if wm is not None else ():
        for area in window.screen.areas:
            shown = _showing.get(area.as_pointer())
            if shown is None:
                continue
            space = rna.image_space(area)
            name = space.image.name if area.type == "IMAGE_EDITOR" and space.image else None
            result = bpy.data.images.get(shown.result)
            original = bpy.data.images.get(shown.original)
            if name is None and result is None and original is not None:
                space.image, shown.undone = original, True
            elif name == shown.original and shown.undone and result is not None:
                space.image, shown.undone = result, False
            elif name != shown.result:
                del _showing[area.as_pointer()]


def forget_all() -> None:
    """A new file has new screens."""
    _showing.clear()
