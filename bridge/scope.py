"""Which Image Texture nodes an upscale touches, and swapping their image.

Nodes are found by walking node trees, into node groups too. Nothing here keeps a bpy reference
across calls: a scope is kept as material names and looked up again when the result arrives.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import bpy

SCOPES = ("SELECTED_OBJECTS", "ACTIVE_MATERIAL", "ALL_USERS", "NONE")


def scope_materials(context: bpy.types.Context, scope: str) -> list[str]:
    """Names of the materials in scope right now (empty for ALL_USERS and NONE)."""
    if scope == "SELECTED_OBJECTS":
        names: list[str] = []
        view_layer = context.view_layer
        for obj in view_layer.objects if view_layer else ():
            if obj.select_get(view_layer=view_layer):
                for slot in obj.material_slots:
                    if slot.material and slot.material.name not in names:
                        names.append(slot.material.name)
        return names
    if scope == "ACTIVE_MATERIAL":
        active = context.view_layer.objects.active if context.view_layer else None
        material = active.active_material if active else None
        return [material.name] if material else []
    return []


def _trees_of_scope(scope: str, materials: Iterable[str]) -> list[bpy.types.NodeTree]:
    if scope == "NONE":
        return []
    if scope == "ALL_USERS":
        trees: list[bpy.types.NodeTree] = [m.node_tree for m in bpy.data.materials if m.node_tree]
        trees += [w.node_tree for w in bpy.data.worlds if w.node_tree]
        trees += [light.node_tree for light in bpy.data.lights if light.node_tree]
        return trees
    found: list[bpy.types.NodeTree] = []
    for name in materials:
        material = bpy.data.materials.get(name)
        if material is not None and material.node_tree is not None:
            found.append(material.node_tree)
    return found


def image_nodes(trees: Iterable[bpy.types.NodeTree]) -> Iterator[bpy.types.ShaderNodeTexImage]:
    """Every Image Texture node in ``trees`` and the node groups they use, each group once."""
    seen: set[int] = set()
    stack = list(trees)
    while stack:
        tree = stack.pop()
        # Embedded material trees share names: their addresses tell them apart within one call.
        if tree.as_pointer() in seen:
            continue
        seen.add(tree.as_pointer())
        for node in tree.nodes:
            if isinstance(node, bpy.types.ShaderNodeTexImage):
                yield node
            elif isinstance(node, bpy.types.ShaderNodeGroup) and node.node_tree is not None:
                stack.append(node.node_tree)


def nodes_using(image_name: str, scope: str, materials: Iterable[str]
                ) -> list[bpy.types.ShaderNodeTexImage]:
    image = bpy.data.images.get(image_name)
    if image is None:
        return []
    return [n for n in image_nodes(_trees_of_scope(scope, materials)) if n.image == image]


def swap_image(nodes: Iterable[bpy.types.ShaderNodeTexImage], new_image: bpy.types.Image) -> int:
    """Points ``nodes`` at ``new_image``; every other node setting stays as it was."""
    count = 0
    for node in nodes:
        if node.id_data is not None and node.id_data.library is not None:
            continue  # linked from another file: read-only here
        node.image = new_image
        count += 1
    return count

