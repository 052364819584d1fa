"""Main thread: the images of a batch — every Image Texture node of the materials in scope (node
groups included), one entry per distinct image, with the materials using it and where it leads."""

from __future__ import annotations

from dataclasses import dataclass, field

import bpy

from ..core import roles
from . import scope, texture_graph

SCOPE_TEXT = {
    "SELECTED_OBJECTS": "the materials of the selected objects",
    "ACTIVE_MATERIAL": "the active material",
    "ALL_MATERIALS": "the materials of this file",
}


@dataclass
class Found:
    """One distinct image in scope: the materials using it and where its nodes lead."""

    image: bpy.types.Image
    materials: list[str] = field(default_factory=list)
    destinations: list[roles.Destination] = field(default_factory=list)

    @property
    def role(self) -> str:
        return roles.classify(self.destinations, self.image.name)


def materials_in_scope(context: bpy.types.Context, scope_name: str) -> list[bpy.types.Material]:
    if scope_name == "ALL_MATERIALS":
        candidates = list(bpy.data.materials)
    else:
        names = scope.scope_materials(context, scope_name)
        candidates = [bpy.data.materials[n] for n in names if n in bpy.data.materials]
    # A linked material is read-only here: its nodes could not be switched to the results.
    return [m for m in candidates if m.node_tree is not None and m.library is None]


def collect(context: bpy.types.Context, scope_name: str) -> list[Found]:
    """Distinct images of the Image Texture nodes in scope, in the order first met."""
    found: dict[int, Found] = {}
    for material in materials_in_scope(context, scope_name):
        for use in texture_graph.texture_nodes(material):
            image = use.node.image
            if image is None:
                continue
            entry = found.setdefault(image.session_uid, Found(image))
            if material.name not in entry.materials:
                entry.materials.append(material.name)
            entry.destinations += texture_graph.destinations(use)
    return list(found.values())
