"""Per-scene upscale settings (``Scene.scenario_upscale``), named after the API parameters."""

from __future__ import annotations

import bpy
from bpy.props import (
    BoolProperty,
    CollectionProperty,
    EnumProperty,
    FloatProperty,
    IntProperty,
    PointerProperty,
    StringProperty,
)

SCOPE_ITEMS = [
    ("SELECTED_OBJECTS", "Selected Objects", "Materials of the selected objects"),
    ("ACTIVE_MATERIAL", "Active Material", "Only the active object's active material"),
    ("ALL_USERS", "All Users", "Every Image Texture node in the file that uses the image"),
    ("NONE", "Image Only", "Only create the upscaled image; change no material"),
]
PRESET_ITEMS = [
    ("precise", "Precise", "Closest to the source: least re-rendering"),
    ("balanced", "Balanced", "Scenario's default balance of fidelity and detail"),
    ("creative", "Creative", "Most new detail, furthest from the source"),
]
BASE_MODEL_ITEMS = [
    ("FLUX.1-dev", "FLUX.1-dev", "Best for stylized textures"),
    ("FLUX.1-Krea-dev", "FLUX.1-Krea-dev", "Best for realistic textures"),
]


def _is_image_prompt_candidate(_self: bpy.types.PropertyGroup, image: bpy.types.Image) -> bool:
    return image.type in {"IMAGE", "UV_TEST"} and image.source in {"FILE", "GENERATED"}


class ScenarioImagePrompt(bpy.types.PropertyGroup):
    image: PointerProperty(  # type: ignore[valid-type]
        name="Style Image", type=bpy.types.Image, poll=_is_image_prompt_candidate
    )


class ScenarioLora(bpy.types.PropertyGroup):
    model: StringProperty(  # type: ignore[valid-type]
        name="LoRA", description="Scenario model id or URL of a LoRA"
    )
    scale: FloatProperty(name="Scale", default=1.0, min=-2.0, max=2.0)  # type: ignore[valid-type]


class ScenarioUpscaleSettings(bpy.types.PropertyGroup):
    upscale_factor: IntProperty(  # type: ignore[valid-type]
        name="Factor", description="How many times larger each side becomes", default=2, min=2, max=8
    )
    preset: EnumProperty(name="Preset", items=PRESET_ITEMS, default="balanced")  # type: ignore[valid-type]
    base_model: EnumProperty(  # type: ignore[valid-type]
        name="Base Model", items=BASE_MODEL_ITEMS, default="FLUX.1-dev"
    )
    prompt: StringProperty(name="Prompt", description="Optional guidance for the detail added")  # type: ignore[valid-type]
    strength: FloatProperty(  # type: ignore[valid-type]
        name="Strength", description="Higher values introduce more imaginative detail",
        default=0.4, min=0.0, max=1.0,
    )
    controlnet_conditioning_scale: FloatProperty(  # type: ignore[valid-type]
        name="Structure", description="Higher values better preserve the structure of the source",
        default=0.4, min=0.0, max=1.0,
    )
    num_inference_steps: IntProperty(  # type: ignore[valid-type]
        name="Steps", description="Number of generation steps", default=28, min=1, max=50
    )
    details_enable: BoolProperty(  # type: ignore[valid-type]
        name="Enhance Details", description="Enhance fine details in the output", default=True
    )
    random_seed: BoolProperty(  # type: ignore[valid-type]
        name="Random Seed", description="Let Scenario pick a seed for every upscale", default=True
    )
    seed: IntProperty(name="Seed", default=0, min=0, max=2147483647)  # type: ignore[valid-type]
    image_prompt_strength: FloatProperty(  # type: ignore[valid-type]
        name="Style Strength", description="How closely the style images are followed",
        default=0.6, min=0.0, max=1.0,
    )
    image_prompts: CollectionProperty(type=ScenarioImagePrompt)  # type: ignore[valid-type]
    loras: CollectionProperty(type=ScenarioLora)  # type: ignore[valid-type]
    keep_alpha: BoolProperty(  # type: ignore[valid-type]
        name="Keep Alpha", default=True,
        description="When Scenario drops or flattens the alpha channel, rebuild it from the source",
    )
    normal_map: EnumProperty(  # type: ignore[valid-type]
        name="Normal Map", default="AUTO",
        items=[
            ("AUTO", "Auto", "A normal map when it feeds a Normal Map node"),
            ("YES", "Yes", "Re-normalise the vectors of the result"),
            ("NO", "No", "Not a normal map"),
        ],
        description="Normal maps get their vectors re-normalised after the upscale (the OpenGL or "
                    "DirectX convention stays as it was)",
    )
    check_tiling: BoolProperty(  # type: ignore[valid-type]
        name="Check Tiling", default=True,
        description="Measure the wrap seam of the source and the result, and warn when a "
                    "tileable texture came back with a seam",
    )
    seam_safe: BoolProperty(  # type: ignore[valid-type]
        name="Seam-Safe", default=False,
        description="Pad the source with its own wrapped edges before upload and crop the result, "
                    "so the borders are upscaled with their neighbours (costs a larger upscale)",
    )
    scope: EnumProperty(  # type: ignore[valid-type]
        name="Apply To", items=SCOPE_ITEMS, default="SELECTED_OBJECTS",
        description="Which Image Texture nodes switch to the upscaled image",
    )


classes = (ScenarioImagePrompt, ScenarioLora, ScenarioUpscaleSettings)
