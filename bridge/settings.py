"""Per-scene upscale settings (``Scene.scenario_upscale``), named after the API parameters."""

from __future__ import annotations

import bpy
from bpy.props import (
    BoolProperty,
    CollectionProperty,
    EnumProperty,
    FloatProperty,
    PointerProperty,
    StringProperty,
)

from .model_props import model_property

SCOPE_ITEMS = [
    ("SELECTED_OBJECTS", "Selected Objects", "Materials of the selected objects"),
    ("ACTIVE_MATERIAL", "Active Material", "Only the active object's active material"),
    ("ALL_USERS", "All Users", "Every Image Texture node in the file that uses the image"),
    ("NONE", "Image Only", "Only create the upscaled image; change no material"),
]


def _is_image_prompt_candidate(_self: bpy.types.PropertyGroup, image: bpy.types.Image) -> bool:
    return image.type in {"IMAGE", "UV_TEST"} and image.source in {"FILE", "GENERATED"}


class ScenarioImagePrompt(bpy.types.PropertyGroup):
    image: PointerProperty(  # type: ignore[valid-type]
        name="Style Image", type=bpy.types.Image, poll=_is_image_prompt_candidate
    )


class ScenarioLora(bpy.types.PropertyGroup):
    model: StringProperty(  # type: ignore[valid-type]
        name="LoRA", description="The LoRA's model id in Scenario (Models), or its URL"
    )
    scale: FloatProperty(  # type: ignore[valid-type]
        name="Strength", default=1.0, min=-2.0, max=2.0,
        description="How strongly the LoRA shapes the result (1: as trained, 0: not at all)",
    )


class ScenarioUpscaleSettings(bpy.types.PropertyGroup):
    # Limits, defaults and menu items of the model's inputs come from api/params.py FIELD_SPECS.
    upscale_factor: model_property(  # type: ignore[valid-type]
        "upscale_factor", "Factor", "How many times larger each side becomes"
    )
    preset: model_property("preset", "Preset")  # type: ignore[valid-type]
    base_model: model_property("base_model", "Base Model")  # type: ignore[valid-type]
    prompt: StringProperty(name="Prompt", description="Optional guidance for the detail added")  # type: ignore[valid-type]
    strength: model_property(  # type: ignore[valid-type]
        "strength", "Strength",
        "How much new detail Scenario may invent. Low keeps close to the source; high adds "
        "more detail and may change the look",
    )
    controlnet_conditioning_scale: model_property(  # type: ignore[valid-type]
        "controlnet_conditioning_scale", "Structure",
        "How closely the result keeps the shapes and edges of the source. High keeps them; "
        "low lets Scenario redraw them",
    )
    num_inference_steps: model_property(  # type: ignore[valid-type]
        "num_inference_steps", "Steps",
        "How many passes Scenario makes over the image. More can give finer detail and takes "
        "longer",
    )
    details_enable: model_property(  # type: ignore[valid-type]
        "details_enable", "Enhance Details", "Enhance fine details in the output"
    )
    random_seed: BoolProperty(  # type: ignore[valid-type]
        name="Random Seed", description="Let Scenario pick a seed for every upscale", default=True
    )
    seed: model_property("seed", "Seed")  # type: ignore[valid-type]
    image_prompt_strength: model_property(  # type: ignore[valid-type]
        "image_prompt_strength", "Style Strength", "How closely the style images are followed"
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
