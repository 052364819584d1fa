"""Main thread: the Image Texture nodes of a material (node groups included) and where each one's
outputs lead, described as plain ``core.roles.Destination``s for the role rules.

A texture inside a node group is reached through the group node that uses it, so its links are
followed out of the group (Group Output → that node's output) and into groups it feeds (a group
node's input → the Group Input inside).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import bpy

from ..core.roles import Destination, Hop, classify

MAX_DEPTH = 64  # links followed from one output; node trees are acyclic, this only bounds work

# Group nodes on the way from the material's tree to the tree holding a node, outermost first.
Frames = tuple[bpy.types.ShaderNodeGroup, ...]


@dataclass
class TextureUse:
    node: bpy.types.ShaderNodeTexImage
    frames: Frames


def texture_nodes(material: bpy.types.Material) -> Iterator[TextureUse]:
    """Every Image Texture node of ``material``, once per group instance it sits in."""
    if material.node_tree is None:
        return
    stack: list[tuple[bpy.types.NodeTree, Frames]] = [(material.node_tree, ())]
    while stack:
        tree, frames = stack.pop()
        for node in tree.nodes:
            if isinstance(node, bpy.types.ShaderNodeTexImage):
                yield TextureUse(node, frames)
            elif (isinstance(node, bpy.types.ShaderNodeGroup) and node.node_tree is not None
                  and len(frames) < MAX_DEPTH and node.node_tree not in [f.node_tree for f in frames]):
                stack.append((node.node_tree, frames + (node,)))


def destinations(use: TextureUse) -> list[Destination]:
    """Where the texture's Color and Alpha outputs end up (shader inputs, the material output)."""
    found: list[Destination] = []
    for output in use.node.outputs or ():
        if output.is_linked:
            _follow(output, use.frames, (), output.name, found, 0)
    return found


def _is_terminal(node: bpy.types.Node) -> bool:
    if node.bl_idname in {"ShaderNodeOutputMaterial", "ShaderNodeOutputWorld",
                          "ShaderNodeOutputLight", "ShaderNodeOutputAOV"}:
        return True
    return any(out.type == "SHADER" for out in node.outputs)


def _follow(socket: bpy.types.NodeSocket, frames: Frames, via: tuple[Hop, ...], start: str,
            found: list[Destination], depth: int) -> None:
    if depth > MAX_DEPTH:
        return
    for link in socket.links or ():
        if getattr(link, "is_muted", False) or not link.is_valid:
            continue
        node, target = link.to_node, link.to_socket
        if node is None or target is None or node.mute:
            continue
        if node.bl_idname == "NodeReroute":
            _follow(node.outputs[0], frames, via, start, found, depth + 1)
        elif node.bl_idname == "NodeGroupOutput":
            # Out of the group: continue from the matching output of the node that uses it.
            if frames and getattr(node, "is_active_output", False):
                group_node = frames[-1]
                out = _by_identifier(group_node.outputs, target.identifier)
                if out is not None:
                    _follow(out, frames[:-1], via, start, found, depth + 1)
        elif isinstance(node, bpy.types.ShaderNodeGroup) and node.node_tree is not None:
            # Into the group: continue from the Group Input nodes inside.
            for inner in node.node_tree.nodes:
                if inner.bl_idname == "NodeGroupInput":
                    out = _by_identifier(inner.outputs, target.identifier)
                    if out is not None:
                        _follow(out, frames + (node,), via, start, found, depth + 1)
        elif _is_terminal(node):
            found.append(Destination(node.bl_idname, target.name, via, start))
        else:
            hop = Hop(node.bl_idname, target.name)
            for out in node.outputs:
                if out.is_linked:
                    _follow(out, frames, via + (hop,), start, found, depth + 1)


def _by_identifier(sockets: Iterable[bpy.types.NodeSocket], identifier: str
                   ) -> bpy.types.NodeSocket | None:
    return next((s for s in sockets if s.identifier == identifier), None)


def role_of(image: bpy.types.Image) -> str:
    """The image's role (core.roles) from every material that uses it, then from its name."""
    found: list[Destination] = []
    for material in bpy.data.materials:
        for use in texture_nodes(material):
            if use.node.image == image:
                found += destinations(use)
    return classify(found, image.name)
