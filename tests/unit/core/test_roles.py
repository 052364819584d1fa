"""Role rules: where a texture's outputs lead (and its colour space) → what it is → its params."""

from dataclasses import replace

import pytest
from scenario_texture_upscale.api.params import UpscaleParams
from scenario_texture_upscale.core import roles as R
from scenario_texture_upscale.core.roles import Destination, Hop

BSDF = "ShaderNodeBsdfPrincipled"
OUTPUT = "ShaderNodeOutputMaterial"


@pytest.mark.parametrize(("dest", "role"), [
    (Destination(BSDF, "Base Color"), R.BASE_COLOR),
    (Destination(BSDF, "Base Color", (Hop("ShaderNodeMix", "B"),)), R.BASE_COLOR),
    (Destination("ShaderNodeBsdfDiffuse", "Color"), R.BASE_COLOR),
    (Destination(BSDF, "Roughness"), R.ROUGHNESS),
    (Destination(BSDF, "Roughness", (Hop("ShaderNodeSeparateColor", "Color"),)), R.ROUGHNESS),
    (Destination(BSDF, "Metallic"), R.METALLIC),
    (Destination(BSDF, "Alpha", output="Alpha"), R.ALPHA),
    (Destination("ShaderNodeMixShader", "Fac"), R.ALPHA),
    (Destination(BSDF, "Emission Color"), R.EMISSION),
    (Destination("ShaderNodeEmission", "Color"), R.EMISSION),
    (Destination(BSDF, "Normal", (Hop("ShaderNodeNormalMap", "Color"),)), R.NORMAL),
    (Destination(BSDF, "Coat Normal", (Hop("NodeReroute", "Input"),
                                       Hop("ShaderNodeNormalMap", "Color"))), R.NORMAL),
    (Destination(BSDF, "Normal"), R.NORMAL),
    (Destination(BSDF, "Normal", (Hop("ShaderNodeBump", "Height"),)), R.HEIGHT),
    # A normal map entering a Bump node's Normal input is still a normal map.
    (Destination(BSDF, "Normal", (Hop("ShaderNodeNormalMap", "Color"),
                                  Hop("ShaderNodeBump", "Normal"))), R.NORMAL),
    (Destination(OUTPUT, "Displacement", (Hop("ShaderNodeDisplacement", "Height"),)), R.HEIGHT),
    (Destination(OUTPUT, "Displacement", (Hop("ShaderNodeVectorDisplacement", "Vector"),)),
     R.HEIGHT),
    (Destination(OUTPUT, "Displacement"), R.HEIGHT),
    (Destination(OUTPUT, "Surface"), R.OTHER),
    (Destination(BSDF, "Specular Tint"), R.OTHER),
])
def test_role_of_one_destination(dest, role):
    assert R.role_of_destination(dest) == role


def test_an_image_used_as_colour_and_alpha_is_a_colour_map():
    uses = [Destination(BSDF, "Alpha", output="Alpha"), Destination(BSDF, "Base Color")]
    assert R.classify(uses, "leaves") == R.BASE_COLOR


def test_normal_map_evidence_beats_everything():
    uses = [Destination(BSDF, "Base Color"),
            Destination(BSDF, "Normal", (Hop("ShaderNodeNormalMap", "Color"),))]
    assert R.classify(uses) == R.NORMAL


def test_packed_orm_is_a_data_map():
    sep = (Hop("ShaderNodeSeparateColor", "Color"),)
    uses = [Destination(BSDF, "Roughness", sep), Destination(BSDF, "Metallic", sep)]
    assert R.classify(uses) in R.DATA_ROLES


@pytest.mark.parametrize(("name", "role"), [
    ("rock_Normal.png", R.NORMAL), ("RockNormalGL", R.NORMAL), ("T_Rock_BaseColor", R.BASE_COLOR),
    ("wall_rough", R.ROUGHNESS), ("floor-metalness.jpg", R.METALLIC), ("cliff_disp", R.HEIGHT),
    ("leaf_opacity", R.ALPHA), ("lamp_emissive", R.EMISSION), ("noise", R.OTHER),
])
def test_the_name_decides_only_when_no_link_does(name, role):
    assert R.classify([], name) == role
    assert R.classify([Destination(BSDF, "Metallic")], name) == R.METALLIC


def test_policy_follows_colour_space_for_unrecognised_maps():
    assert R.policy_key(R.OTHER, is_data=True) == R.OTHER_DATA
    assert R.policy_key(R.OTHER, is_data=False) is None
    assert R.policy_key(R.BASE_COLOR, is_data=True) is None
    assert R.policy_key(R.NORMAL, is_data=False) == R.NORMAL


COLOUR = UpscaleParams(upscale_factor=4, preset="creative", strength=0.6, prompt="mossy rock",
                       loras=["model_x"], loras_scale=[0.8], details_enable=True, seed=7,
                       base_model="FLUX.1-Krea-dev")


def test_colour_maps_keep_the_scene_params():
    policy = R.RolePolicy({})
    assert R.params_for(R.BASE_COLOR, False, COLOUR, policy) is COLOUR
    assert R.params_for(R.OTHER, False, COLOUR, policy) is COLOUR


def test_data_maps_default_to_precise_with_low_strength_and_no_prompt():
    params = R.params_for(R.NORMAL, True, COLOUR, R.RolePolicy({}))
    assert params is not None
    assert (params.preset, params.strength, params.prompt, params.loras) == ("precise", 0.2, None, None)
    assert params.details_enable is False
    # What is not about fidelity stays the scene's.
    assert (params.upscale_factor, params.seed, params.base_model) == (4, 7, "FLUX.1-Krea-dev")
    replace(params, image="asset_x").validate()


def test_per_role_choices_and_strength():
    policy = R.RolePolicy({R.ROUGHNESS: R.SKIP, R.METALLIC: R.AS_COLOR, R.OTHER_DATA: R.SKIP},
                          data_strength=0.05)
    assert R.params_for(R.ROUGHNESS, True, COLOUR, policy) is None
    assert R.params_for(R.METALLIC, True, COLOUR, policy) is COLOUR
    assert R.params_for(R.OTHER, True, COLOUR, policy) is None
    assert R.params_for(R.HEIGHT, True, COLOUR, policy).strength == 0.05
    assert not R.uses_style_images(R.HEIGHT, True, policy)
    assert R.uses_style_images(R.METALLIC, True, policy)
    assert "Roughness" in R.skip_reason(R.ROUGHNESS)
