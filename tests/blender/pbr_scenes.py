"""A realistic PBR material for the batch tests: each map wired the way artists wire it."""

from __future__ import annotations

from pathlib import Path

import bpy
import scenes

# image name → the role the batch must recognise
PBR_ROLES = {
    "rock_albedo": "base_color",    # through a Mix (AO multiply) into Base Color; Alpha → Alpha
    "rock_normal": "normal",        # Normal Map → Bump (Normal) → BSDF Normal
    "rock_rough": "roughness",      # inside a node group, out through Group Output
    "rock_metal": "metallic",       # through a reroute
    "rock_height": "height",        # Displacement → Material Output
    "rock_bump": "height",          # Bump (Height)
    "rock_emit": "emission",        # Emission Color
    "rock_cavity": "other",           # not linked, Non-Color
}
DATA_IMAGES = {"rock_normal", "rock_rough", "rock_metal", "rock_height", "rock_bump", "rock_cavity"}


def new_material(name: str) -> bpy.types.Material:
    material = bpy.data.materials.new(name)
    if material.node_tree is None:  # Blender before 5.0 creates materials without nodes
        material.use_nodes = True
    return material


def _socket(sockets, name: str, kind: str | None = None):
    return next(s for s in sockets if s.name == name and (kind is None or s.type == kind))


def pbr_images(folder: Path, size: int = 32) -> dict[str, bpy.types.Image]:
    images = {}
    for name in PBR_ROLES:
        image = scenes.texture_file(folder, name, size, size, alpha=name == "rock_albedo")
        if name in DATA_IMAGES:
            image.colorspace_settings.name = "Non-Color"
        images[name] = image
    return images


def pbr_material(name: str, images: dict[str, bpy.types.Image]) -> bpy.types.Material:
    material = new_material(name)
    tree = material.node_tree
    nodes, links = tree.nodes, tree.links
    bsdf = nodes.get("Principled BSDF")
    output = nodes.get("Material Output")

    def tex(image_name: str) -> bpy.types.Node:
        node = nodes.new("ShaderNodeTexImage")
        node.image = images[image_name]
        return node

    albedo = tex("rock_albedo")
    mix = nodes.new("ShaderNodeMix")
    mix.data_type = "RGBA"
    mix.blend_type = "MULTIPLY"
    links.new(albedo.outputs["Color"], _socket(mix.inputs, "A", "RGBA"))
    links.new(_socket(mix.outputs, "Result", "RGBA"), bsdf.inputs["Base Color"])
    links.new(albedo.outputs["Alpha"], bsdf.inputs["Alpha"])

    normal_map = nodes.new("ShaderNodeNormalMap")
    links.new(tex("rock_normal").outputs["Color"], normal_map.inputs["Color"])
    bump = nodes.new("ShaderNodeBump")
    links.new(normal_map.outputs["Normal"], bump.inputs["Normal"])
    links.new(tex("rock_bump").outputs["Color"], bump.inputs["Height"])
    links.new(bump.outputs["Normal"], bsdf.inputs["Normal"])

    group = bpy.data.node_groups.new(f"{name} Roughness", "ShaderNodeTree")
    group.interface.new_socket("Roughness", in_out="OUTPUT", socket_type="NodeSocketFloat")
    inner = group.nodes.new("ShaderNodeTexImage")
    inner.image = images["rock_rough"]
    group_out = group.nodes.new("NodeGroupOutput")
    group.links.new(inner.outputs["Color"], group_out.inputs[0])
    group_node = nodes.new("ShaderNodeGroup")
    group_node.node_tree = group
    links.new(group_node.outputs[0], bsdf.inputs["Roughness"])

    reroute = nodes.new("NodeReroute")
    links.new(tex("rock_metal").outputs["Color"], reroute.inputs[0])
    links.new(reroute.outputs[0], bsdf.inputs["Metallic"])

    displacement = nodes.new("ShaderNodeDisplacement")
    links.new(tex("rock_height").outputs["Color"], displacement.inputs["Height"])
    links.new(displacement.outputs["Displacement"], output.inputs["Displacement"])

    links.new(tex("rock_emit").outputs["Color"], bsdf.inputs["Emission Color"])
    tex("rock_cavity")
    return material


def simple_material(name: str, *images: bpy.types.Image) -> bpy.types.Material:
    """Each image into Base Color of its own Diffuse BSDF (enough for jobs that need no roles)."""
    material = new_material(name)
    tree = material.node_tree
    for image in images:
        node = tree.nodes.new("ShaderNodeTexImage")
        node.image = image
        diffuse = tree.nodes.new("ShaderNodeBsdfDiffuse")
        tree.links.new(node.outputs["Color"], diffuse.inputs["Color"])
    return material
