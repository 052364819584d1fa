"""`make demo`: headless Blender upscales the albedo of a sample brick material.

Through the local emulator by default; through Scenario itself when SCENARIO_SDK_API_KEY and
SCENARIO_SDK_API_SECRET are set. Writes demo-output/: the upscaled texture, the saved .blend and a
before/after comparison image.
"""

from __future__ import annotations

import importlib
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from tools import dev_addon  # noqa: E402

OUT = REPO / "demo-output"
SIZE = 512


def bricks(size: int) -> tuple[np.ndarray, np.ndarray]:
    """A tileable brick albedo (RGB uint8) and its height field (0 mortar … 1 brick face)."""
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:size, 0:size]
    brick_w, brick_h, mortar = size // 4, size // 8, 5
    row = y // brick_h
    shifted = (x + (row % 2) * brick_w // 2) % size
    col = shifted // brick_w
    in_x, in_y = shifted % brick_w, y % brick_h
    edge = np.minimum(np.minimum(in_x, brick_w - 1 - in_x), np.minimum(in_y, brick_h - 1 - in_y))
    height = np.clip((edge - mortar) / 4.0, 0.0, 1.0)
    tint = rng.uniform(0.8, 1.15, size=(8, 4))[row % 8, col % 4]
    grain = rng.normal(0.0, 0.035, size=(size, size))
    brick = np.stack([0.58 * tint, 0.25 * tint, 0.17 * tint], axis=-1) + grain[..., None]
    mortar_rgb = np.array([0.62, 0.6, 0.55]) + grain[..., None] * 0.5
    albedo = np.where(height[..., None] > 0, brick, mortar_rgb)
    return (np.clip(albedo, 0, 1) * 255).round().astype(np.uint8), height


def normal_map(height: np.ndarray, strength: float = 2.5) -> np.ndarray:
    # Central differences with wrap-around keep the normal map as tileable as the height.
    dx = (np.roll(height, -1, axis=1) - np.roll(height, 1, axis=1)) * strength
    dy = (np.roll(height, -1, axis=0) - np.roll(height, 1, axis=0)) * strength
    vectors = np.stack([-dx, dy, np.ones_like(height)], axis=-1)
    vectors /= np.linalg.norm(vectors, axis=-1, keepdims=True)
    return ((vectors * 0.5 + 0.5) * 255).round().astype(np.uint8)


def build_scene(png: object, textures: Path) -> None:
    import bpy

    albedo, height = bricks(SIZE)
    textures.mkdir(parents=True)
    png.write_png(textures / "brick_albedo.png", albedo)  # type: ignore[attr-defined]
    png.write_png(textures / "brick_normal.png", normal_map(height))  # type: ignore[attr-defined]
    images = {}
    for name in ("brick_albedo", "brick_normal"):
        images[name] = bpy.data.images.load(str(textures / f"{name}.png"))
        images[name].name = name
    images["brick_normal"].colorspace_settings.name = "Non-Color"
    for material_name, object_name in (("Brick Wall", "Wall"), ("Brick Trim", "Trim")):
        material = bpy.data.materials.new(material_name)
        if material.node_tree is None:  # Blender before 5.0 creates materials without nodes
            material.use_nodes = True
        tree = material.node_tree
        bsdf = tree.nodes["Principled BSDF"]
        color = tree.nodes.new("ShaderNodeTexImage")
        color.image = images["brick_albedo"]
        tree.links.new(color.outputs["Color"], bsdf.inputs["Base Color"])
        normal = tree.nodes.new("ShaderNodeTexImage")
        normal.image = images["brick_normal"]
        normal_node = tree.nodes.new("ShaderNodeNormalMap")
        tree.links.new(normal.outputs["Color"], normal_node.inputs["Color"])
        tree.links.new(normal_node.outputs["Normal"], bsdf.inputs["Normal"])
        bpy.ops.mesh.primitive_plane_add()
        obj = bpy.context.active_object
        obj.name = object_name
        obj.data.materials.append(material)
    # Adding an object selects only it: set the selection once every object exists.
    for object_name, selected in (("Wall", True), ("Trim", False)):
        bpy.data.objects[object_name].select_set(selected)


def main() -> int:
    user_folder = dev_addon.isolate_user_folder("scenario-demo-")
    import bpy

    module = dev_addon.enable_addon(user_folder)
    png = importlib.import_module(f"{module}.core.png")
    real = bool(os.environ.get("SCENARIO_SDK_API_KEY") and os.environ.get("SCENARIO_SDK_API_SECRET"))
    emulator = None
    prefs = bpy.context.preferences.addons[module].preferences
    if real:
        print("Backend: Scenario (keys from the environment)")
    else:
        from emulator.process import start_emulator_process, stop_emulator_process

        emulator, base_url = start_emulator_process(["--job-seconds", "3"])
        prefs.api_key, prefs.api_secret, prefs.base_url = "demo-key", "demo-secret", base_url
        print(f"Backend: local Scenario emulator at {base_url}")
    bpy.context.preferences.system.use_online_access = True
    try:
        shutil.rmtree(OUT, ignore_errors=True)
        bpy.ops.wm.read_homefile(use_empty=True)
        build_scene(png, OUT / "textures")
        bpy.ops.wm.save_as_mainfile(filepath=str(OUT / "demo.blend"))
        print(f"Scene: {SIZE} px brick albedo + normal map on 'Brick Wall' (object Wall, "
              "selected) and 'Brick Trim' (object Trim, not selected)")
        started = time.monotonic()
        result = bpy.ops.scenario.upscale_image(image_name="brick_albedo", scope="SELECTED_OBJECTS")
        seconds = time.monotonic() - started
        if result != {"FINISHED"}:
            print(f"Upscale did not finish: {result}")
            return 1
        bpy.ops.wm.save_mainfile()
        return report(bpy, png, seconds)
    finally:
        if emulator is not None:
            stop_emulator_process(emulator)


def report(bpy: object, png: object, seconds: float) -> int:
    images = bpy.data.images  # type: ignore[attr-defined]
    upscaled = next(i for i in images if i.get("scenario_source_image") == "brick_albedo")
    result_path = Path(bpy.path.abspath(upscaled.filepath))  # type: ignore[attr-defined]
    materials = bpy.data.materials  # type: ignore[attr-defined]
    wall = [n.image.name for n in materials["Brick Wall"].node_tree.nodes if n.type == "TEX_IMAGE"]
    trim = [n.image.name for n in materials["Brick Trim"].node_tree.nodes if n.type == "TEX_IMAGE"]
    before = png.decode_png(OUT / "textures" / "brick_albedo.png")  # type: ignore[attr-defined]
    after = png.decode_png(result_path)[..., :3]  # type: ignore[attr-defined]
    factor = after.shape[0] // before.shape[0]
    enlarged = before.repeat(factor, axis=0).repeat(factor, axis=1)[..., :3]
    gap = np.full((after.shape[0], 16, 3), 255, dtype=np.uint8)
    png.write_png(OUT / "before_after.png", np.concatenate([enlarged, gap, after], axis=1))  # type: ignore[attr-defined]
    print(f"Upscaled brick_albedo {before.shape[1]}×{before.shape[0]} → "
          f"{after.shape[1]}×{after.shape[0]} px in {seconds:.1f} s")
    print(f"Result file: {result_path.relative_to(REPO)} ({result_path.stat().st_size} bytes)")
    print(f"'Brick Wall' now uses: {', '.join(wall)}")
    print(f"'Brick Trim' (not selected) still uses: {', '.join(trim)}")
    print(f"Saved: {(OUT / 'demo.blend').relative_to(REPO)}, "
          f"{(OUT / 'before_after.png').relative_to(REPO)} (left: original ×{factor} nearest, "
          "right: Scenario)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
