"""Why an action is unavailable right now (for poll_message_set and the panel), or None."""

from __future__ import annotations

from typing import Any

import bpy

from ..api.config import resolve_base_url
from ..api.errors import ScenarioError
from ..core.refusal import Refusal
from . import addon_data, connection, snapshot
from .snapshot import PREVIEW_OF

NO_KEYS = ("No Scenario API key: enter the key and secret in the add-on preferences, or set "
           "SCENARIO_SDK_API_KEY and SCENARIO_SDK_API_SECRET.")


def why_cannot_connect() -> str | None:
    try:
        base_url = resolve_base_url(connection.preferred_base_url(addon_data.preferences()))
    except ScenarioError as exc:
        return str(exc)
    if connection.online_access_blocks(base_url):
        return connection.ONLINE_ACCESS_MESSAGE
    if connection.keys_source() is None:
        return NO_KEYS  # the panel answers this one with a button to the preferences
    return None


def editor_image(context: bpy.types.Context) -> bpy.types.Image | None:
    space = context.space_data
    return getattr(space, "image", None) if space and space.type == "IMAGE_EDITOR" else None


def chosen_image(context: bpy.types.Context, name: str) -> bpy.types.Image | None:
    """The image an operator was given by name (a script), else the Image Editor's."""
    return bpy.data.images.get(name) if name else editor_image(context)


def chosen_scope(operator: bpy.types.Operator, settings: Any) -> str:
    """The operator's Apply To when a script or a menu set it, else the panel's (``settings``:
    the scene's upscale or batch settings)."""
    if operator.properties.is_property_set("scope"):
        return str(operator.scope)  # type: ignore[attr-defined]
    return str(settings.scope)


def no_image_message(name: str) -> str:
    return (f"There is no image named '{name}'." if name
            else "No image: open a texture in the Image Editor first.")


def why_cannot_upscale(context: bpy.types.Context) -> str | None:
    space = context.space_data
    if isinstance(space, bpy.types.SpaceImageEditor):
        if space.image is None:
            return "Open an image in the Image Editor first."
        try:
            snapshot.describe_cached(space.image)
        except Refusal as exc:
            return str(exc)
    return why_cannot_connect()


def why_cannot_preview(context: bpy.types.Context) -> str | None:
    space = context.space_data
    image = getattr(space, "image", None) if space and space.type == "IMAGE_EDITOR" else None
    if image is not None and PREVIEW_OF in image:
        return (f"'{image.name}' is a preview: Back to Texture shows '{image[PREVIEW_OF]}' "
                "again, to preview or upscale it.")
    return why_cannot_upscale(context)


def allows(operator: type[bpy.types.Operator], reason: str | None) -> bool:
    """An operator's poll: True when there is no reason against it, else shows the reason."""
    if reason:
        operator.poll_message_set(reason)
    return reason is None
