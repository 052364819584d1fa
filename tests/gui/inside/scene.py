"""The file an artist would have open: two selected objects whose materials use one brick
texture (one of them inside a node group), and an unselected object using it too."""

from __future__ import annotations

from pathlib import Path

import bpy

TEXTURE = "brick"
ROUGHNESS = "brick_rough"
SELECTED = ("Wall", "Pillar")
UNSELECTED = "Trim"


def _texture_file(folder: Path, name: str = TEXTURE, size: int = 64) -> Path:
    path = folder / "textures" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    image = bpy.data.images.new("brick-maker", size, size)
    pixels = []
    for y in range(size):
        for x in range(size):
            mortar = y % 16 < 2 or (x + (8 if (y // 16) % 2 else 0)) % 16 < 2
            pixels += [0.8, 0.8, 0.75, 1.0] if mortar else [0.6, 0.2 + 0.002 * x, 0.1, 1.0]
    image.pixels.foreach_set(pixels)
    image.filepath_raw = str(path)
    image.file_format = "PNG"
    image.save()
    bpy.data.images.remove(image)
    return path


def _material(name: str, image: bpy.types.Image, grouped: bool) -> bpy.types.Material:
    material = bpy.data.materials.new(name)
    if bpy.app.version < (5, 0, 0):
        material.use_nodes = True
    tree = material.node_tree
    if grouped:
        group = bpy.data.node_groups.new(f"{name} Group", "ShaderNodeTree")
        group.interface.new_socket("Color", in_out="OUTPUT", socket_type="NodeSocketColor")
        node = group.nodes.new("ShaderNodeTexImage")
        out = group.nodes.new("NodeGroupOutput")
        group.links.new(node.outputs["Color"], out.inputs[0])
        holder = tree.nodes.new("ShaderNodeGroup")
        holder.node_tree = group
        color = holder.outputs[0]
    else:
        node = tree.nodes.new("ShaderNodeTexImage")
        color = node.outputs["Color"]
    node.image = image
    bsdf = next(n for n in tree.nodes if n.type == "BSDF_PRINCIPLED")
    tree.links.new(color, bsdf.inputs["Base Color"])
    return material


def build(folder: Path, roughness: bool = False) -> bpy.types.Image:
    """Makes the scene in the current file, saves it as ``folder/scene.blend``; returns the
    texture. With ``roughness``, Wall also has a Non-Color roughness map."""
    for obj in list(bpy.data.objects):
        bpy.data.objects.remove(obj)
    image = bpy.data.images.load(str(_texture_file(folder)))
    image.name = TEXTURE
    scene = bpy.context.scene
    for index, name in enumerate((*SELECTED, UNSELECTED)):
        mesh = bpy.data.meshes.new(name)
        mesh.from_pydata([(0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 1, 0)], [], [(0, 1, 2, 3)])
        obj = bpy.data.objects.new(name, mesh)
        obj.location.x = index * 1.5
        scene.collection.objects.link(obj)
        obj.data.materials.append(_material(name, image, grouped=name == "Pillar"))
        obj.select_set(name in SELECTED)
    if roughness:
        rough = bpy.data.images.load(str(_texture_file(folder, ROUGHNESS, 32)))
        rough.name = ROUGHNESS
        rough.colorspace_settings.name = "Non-Color"
        tree = bpy.data.materials[SELECTED[0]].node_tree
        node = tree.nodes.new("ShaderNodeTexImage")
        node.image = rough
        bsdf = next(n for n in tree.nodes if n.type == "BSDF_PRINCIPLED")
        tree.links.new(node.outputs["Color"], bsdf.inputs["Roughness"])
    bpy.context.view_layer.objects.active = bpy.data.objects[SELECTED[0]]
    bpy.ops.wm.save_as_mainfile(filepath=str(folder / "scene.blend"))
    return bpy.data.images[TEXTURE]


def images_in_nodes() -> dict[str, list[str]]:
    """Which image each object's Image Texture node shows, node groups included."""
    seen: dict[str, list[str]] = {}
    for name in (*SELECTED, UNSELECTED):
        obj = bpy.data.objects.get(name)
        material = obj.active_material if obj else None
        trees = [material.node_tree] if material and material.node_tree else []
        found = []
        while trees:
            tree = trees.pop()
            for node in tree.nodes:
                if node.type == "TEX_IMAGE":
                    found.append(node.image.name if node.image else "")
                elif node.type == "GROUP" and node.node_tree:
                    trees.append(node.node_tree)
        seen[name] = sorted(found)
    return seen


UDIM = "skin"
UDIM_TILES = {1001: 64, 1002: 64, 1011: 64, 1012: 32}


def build_udim(folder: Path) -> bpy.types.Image:
    """The scene with a UDIM set instead: Wall's material uses ``skin.<UDIM>.png``, four tile
    files (one smaller), the second one labelled; saved as ``folder/scene.blend``."""
    build(folder)
    for number, size in UDIM_TILES.items():
        _texture_file(folder, f"{UDIM}.{number}", size)
    image = bpy.data.images.load(str(folder / "textures" / f"{UDIM}.<UDIM>.png"))
    image.source = "TILED"
    image.name = UDIM
    image.tiles.get(1002).label = "arm"
    tree = bpy.data.materials[SELECTED[0]].node_tree
    next(n for n in tree.nodes if n.type == "TEX_IMAGE").image = image
    bpy.ops.wm.save_as_mainfile(filepath=str(folder / "scene.blend"))
    return image
