"""Entries in Blender's own menus, so the upscale is where artists look and F3 finds it.
``MENUS`` pairs each menu with what this add-on draws at its end; registration adds and
removes them with the classes."""

from __future__ import annotations

from collections.abc import Callable

import bpy

from ..bridge import availability, result_image
from .widgets import button


def image_menu(self: bpy.types.Menu, context: bpy.types.Context) -> None:
    """Image Editor ▸ Image."""
    layout = self.layout
    if layout is None:
        return
    layout.separator()
    layout.operator("scenario.upscale_image", text="Upscale with Scenario…", icon="IMAGE_PLANE")
    image = availability.editor_image(context)
    if image is not None and result_image.pair(image) is not None:
        layout.operator("scenario.revert_image", icon="LOOP_BACK")


def node_context_menu(self: bpy.types.Menu, context: bpy.types.Context) -> None:
    """Shader Editor ▸ right-click: the active Image Texture node, and its material's batch."""
    space = context.space_data
    if getattr(space, "tree_type", "") != "ShaderNodeTree":
        return
    layout = self.layout
    if layout is None:
        return
    layout.separator()
    node = getattr(context, "active_node", None)
    image = getattr(node, "image", None) if getattr(node, "type", "") == "TEX_IMAGE" else None
    if image is not None:
        op = button(layout, "scenario.upscale_image", text="Upscale This Texture with Scenario",
                    icon="IMAGE_PLANE")
        op.image_name = image.name
    material_batch(self, context)


def material_batch(self: bpy.types.Menu, context: bpy.types.Context) -> None:
    """The batch of the active material, where its batch panel lives (Material Properties,
    Shader Editor)."""
    if self.layout is None:
        return
    op = button(self.layout, "scenario.upscale_materials",
                text="Upscale This Material's Textures with Scenario", icon="NODE_TEXTURE")
    op.scope = "ACTIVE_MATERIAL"


MenuDraw = Callable[[bpy.types.Menu, bpy.types.Context], None]
MENUS: tuple[tuple[str, MenuDraw], ...] = (
    ("IMAGE_MT_image", image_menu),
    ("NODE_MT_context_menu", node_context_menu),
    ("MATERIAL_MT_context_menu", material_batch),
)


def register() -> None:
    for menu, draw in MENUS:
        getattr(bpy.types, menu).append(draw)


def unregister() -> None:
    for menu, draw in MENUS:
        getattr(bpy.types, menu).remove(draw)
