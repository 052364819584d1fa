"""Builders for the small scenes the Blender tests need: textures on disk, materials, objects."""

from __future__ import annotations

from pathlib import Path

import bpy
import numpy as np


def pattern(width: int, height: int, alpha: bool = False) -> np.ndarray:
    """A tileable RGBA float pattern (bottom-up, as Blender stores pixels)."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    rgba = np.empty((height, width, 4), dtype=np.float32)
    rgba[..., 0] = 0.5 + 0.4 * np.sin(2 * np.pi * x / width * 3)
    rgba[..., 1] = 0.5 + 0.4 * np.cos(2 * np.pi * y / height * 2)
    rgba[..., 2] = 0.5 + 0.2 * np.sin(2 * np.pi * (x / width + y / height))
    rgba[..., 3] = (0.25 + 0.75 * (x / width)) if alpha else 1.0
    return rgba


def generated_image(name: str, width: int = 64, height: int = 64, alpha: bool = False,
                    is_float: bool = False) -> bpy.types.Image:
    image = bpy.data.images.new(name, width, height, alpha=alpha, float_buffer=is_float)
    image.pixels.foreach_set(pattern(width, height, alpha).ravel())
    return image


def texture_file(folder: Path, name: str, width: int = 64, height: int = 64,
                 alpha: bool = False, file_format: str = "PNG") -> bpy.types.Image:
    """Writes a texture file with Blender and returns it loaded as a file-backed image."""
    folder.mkdir(parents=True, exist_ok=True)
    ext = {"PNG": ".png", "JPEG": ".jpg", "OPEN_EXR": ".exr", "TARGA": ".tga"}[file_format]
    path = folder / f"{name}{ext}"
    scratch = generated_image(f"{name}-scratch", width, height, alpha,
                              is_float=file_format == "OPEN_EXR")
    scratch.filepath_raw = str(path)
    scratch.file_format = file_format
    scratch.save()
    bpy.data.images.remove(scratch)
    image = bpy.data.images.load(str(path))
    image.name = name
    return image


def material_with(name: str, image: bpy.types.Image, in_group: bool = False,
                  interpolation: str = "Linear", extension: str = "REPEAT") -> bpy.types.Material:
    material = bpy.data.materials.new(name)
    if material.node_tree is None:  # Blender before 5.0 creates materials without nodes
        if material.node_tree is None:  # Blender before 5.0 creates materials without nodes
            material.use_nodes = True
    tree = material.node_tree
    bsdf = tree.nodes.get("Principled BSDF")
    if in_group:
        group = bpy.data.node_groups.new(f"{name} Group", "ShaderNodeTree")
        output = group.interface.new_socket("Color", in_out="OUTPUT", socket_type="NodeSocketColor")
        del output
        tex = group.nodes.new("ShaderNodeTexImage")
        group_out = group.nodes.new("NodeGroupOutput")
        group.links.new(tex.outputs["Color"], group_out.inputs[0])
        node = tree.nodes.new("ShaderNodeGroup")
        node.node_tree = group
        tree.links.new(node.outputs[0], bsdf.inputs["Base Color"])
    else:
        tex = tree.nodes.new("ShaderNodeTexImage")
        tree.links.new(tex.outputs["Color"], bsdf.inputs["Base Color"])
    tex.image = image
    tex.interpolation = interpolation
    tex.extension = extension
    return material


def object_with(name: str, materials: list[bpy.types.Material], selected: bool) -> bpy.types.Object:
    mesh = bpy.data.meshes.new(name)
    obj = bpy.data.objects.new(name, mesh)
    bpy.context.scene.collection.objects.link(obj)
    for material in materials:
        mesh.materials.append(material)
    obj.select_set(selected)
    return obj


def texture_nodes(material: bpy.types.Material) -> list[bpy.types.Node]:
    nodes = []
    stack = [material.node_tree]
    while stack:
        tree = stack.pop()
        for node in tree.nodes:
            if node.bl_idname == "ShaderNodeTexImage":
                nodes.append(node)
            elif node.bl_idname == "ShaderNodeGroup" and node.node_tree:
                stack.append(node.node_tree)
    return nodes


def udim_files(folder: Path, name: str, sizes: dict[int, tuple[int, int]],
               labels: dict[int, str] | None = None, alpha: bool = False) -> bpy.types.Image:
    """Writes one PNG per tile (``name.1001.png``, …) and returns the set loaded as a tiled
    image, as Image ▸ Open with UDIM detection would."""
    folder.mkdir(parents=True, exist_ok=True)
    for number, (width, height) in sizes.items():
        scratch = generated_image(f"{name}-{number}", width, height, alpha)
        scratch.filepath_raw = str(folder / f"{name}.{number}.png")
        scratch.file_format = "PNG"
        scratch.save()
        bpy.data.images.remove(scratch)
    image = bpy.data.images.load(str(folder / f"{name}.<UDIM>.png"))
    image.source = "TILED"
    image.name = name
    for tile in image.tiles:
        tile.label = (labels or {}).get(tile.number, tile.label)
    return image


def udim_generated(name: str, sizes: dict[int, tuple[int, int]]) -> bpy.types.Image:
    """A generated tiled image with these tiles, as the Image Editor's New Tile makes them."""
    (first, (width, height)), *others = sizes.items()
    image = bpy.data.images.new(name, width, height, tiled=True)
    for number, (width, height) in others:
        with bpy.context.temp_override(edit_image=image):
            bpy.ops.image.tile_add(number=number, count=1, fill=True, width=width,
                                   height=height, color=(0.2, 0.5, 0.8, 1.0))
    return image
