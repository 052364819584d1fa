"""Per-scene upscale settings (``Scene.scenario_upscale``), named after the API parameters."""

from __future__ import annotations

from collections.abc import Sequence

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

from ..core.preview import MAX_VARIANTS
from . import model_props
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


# What a preview set may vary (core/preview.py's variant_label names each value).
VARIANT_FIELDS = [
    ("NONE", "Nothing", "One preview with the panel's settings"),
    ("PRESET", "Preset", "One preview per preset"),
    ("STRENGTH", "Strength", "One preview per strength"),
    ("BASE_MODEL", "Base Model", "One preview per base model"),
    ("SEED", "Seed", "One preview per seed"),
    ("PROMPT", "Prompt", "One preview per prompt"),
]
PREVIEW_SIZES = [("256", "256", "A 256 px square of the texture"),
                 ("512", "512", "A 512 px square of the texture"),
                 ("1024", "1024", "A 1024 px square of the texture")]


class ScenarioVariant(bpy.types.PropertyGroup):
    """One value of the setting a preview set varies; only the field chosen is used."""

    preset: model_property("preset", "Preset")  # type: ignore[valid-type]
    strength: model_property("strength", "Strength")  # type: ignore[valid-type]
    base_model: model_property("base_model", "Base Model")  # type: ignore[valid-type]
    seed: model_property("seed", "Seed")  # type: ignore[valid-type]
    prompt: StringProperty(name="Prompt")  # type: ignore[valid-type]


# The settings' editable lists → the most entries each may hold, and what they are called.
LIST_LIMITS = {"image_prompts": (4, "style images"), "loras": (8, "LoRAs"),
               "variants": (MAX_VARIANTS, "values to compare")}
VARIANT_ATTRIBUTES = {"PRESET": "preset", "STRENGTH": "strength", "BASE_MODEL": "base_model",
                      "SEED": "seed", "PROMPT": "prompt"}


def _variant_values_for(settings: ScenarioUpscaleSettings, field_name: str
                        ) -> Sequence[object]:
    """The values a newly chosen field starts with: every choice, or around the panel's."""
    if field_name == "PRESET":
        return [item[0] for item in model_props.enum_items("preset")]
    if field_name == "BASE_MODEL":
        return [item[0] for item in model_props.enum_items("base_model")]
    if field_name == "STRENGTH":
        now = round(float(settings.strength), 2)
        return sorted({max(0.0, round(now - 0.2, 2)), now, min(1.0, round(now + 0.2, 2))})
    if field_name == "SEED":
        return [1, 2, 3]
    if field_name == "PROMPT":
        return [settings.prompt, ""] if settings.prompt else ["", "weathered"]
    return []


def _variant_field_changed(settings: ScenarioUpscaleSettings, _context: bpy.types.Context
                           ) -> None:
    settings.variants.clear()
    attribute = VARIANT_ATTRIBUTES.get(settings.variant_field)
    for value in _variant_values_for(settings, settings.variant_field):
        item = settings.variants.add()
        if attribute:
            setattr(item, attribute, value)


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
    image_prompts_index: IntProperty(options={"HIDDEN"})  # type: ignore[valid-type]
    loras: CollectionProperty(type=ScenarioLora)  # type: ignore[valid-type]
    loras_index: IntProperty(options={"HIDDEN"})  # type: ignore[valid-type]
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
    preview_size: EnumProperty(  # type: ignore[valid-type]
        name="Preview Size", items=PREVIEW_SIZES, default="512",
        description="Source pixels a side of the crop a preview sends, centred on the view",
    )
    show_preview_frame: BoolProperty(  # type: ignore[valid-type]
        name="Show Frame", default=True,
        description="Draw the crop a preview would send over the image in the Image Editor",
    )
    variant_field: EnumProperty(  # type: ignore[valid-type]
        name="Compare", items=VARIANT_FIELDS, default="NONE", update=_variant_field_changed,
        description="The setting that differs between the previews of one go (up to 4 values)",
    )
    variants: CollectionProperty(type=ScenarioVariant)  # type: ignore[valid-type]
    variants_index: IntProperty(options={"HIDDEN"})  # type: ignore[valid-type]


classes = (ScenarioImagePrompt, ScenarioLora, ScenarioVariant, ScenarioUpscaleSettings)
