"""Finding an image again in a later main-thread step: by its session id, which survives renames
(only ever keep names and ids across steps; a Python reference may outlive the image)."""

from __future__ import annotations

import bpy


def find_image(name: str, session_uid: int) -> bpy.types.Image | None:
    """The image with this session id, or None once it is gone."""
    image = bpy.data.images.get(name)
    if image is not None and image.session_uid == session_uid:
        return image
    return next((i for i in bpy.data.images if i.session_uid == session_uid), None)
