"""Role rules: where a texture's outputs lead (and its colour space) → what it is → its params."""

from dataclasses import replace

import pytest
from scenario_texture_upscale.api.params import UpscaleParams
from scenario_texture_upscale.core import roles
from scenario_texture_upscale.core.roles import Destination, Hop

BSDF = "ShaderNodeBsdfPrincipled"
OUTPUT = "ShaderNodeOutputMaterial"


@pytest.mark.parametrize(("dest", "role"), [
    (Destination(BSDF, "Base Color"), roles.BASE_COLOR),
    (Destination(BSDF, "Base Color", (Hop("ShaderNodeMix", "B"),)), roles.BASE_COLOR),
    (Destination("ShaderNodeBsdfDiffuse", "Color"), roles.BASE_COLOR),
    (Destination(BSDF, "Roughness"), roles.ROUGHNESS),
    (Destination(BSDF, "Roughness", (Hop("ShaderNodeSeparateColor", "Color"),)), roles.ROUGHNESS),
    (Destination(BSDF, "Metallic"), roles.METALLIC),
    (Destination(BSDF, "Alpha", output="Alpha"), roles.ALPHA),
    (Destination("ShaderNodeMixShader", "Fac"), roles.ALPHA),
    (Destination(BSDF, "Emission Color"), roles.EMISSION),
    (Destination("ShaderNodeEmission", "Color"), roles.EMISSION),
    (Destination(BSDF, "Normal", (Hop("ShaderNodeNormalMap", "Color"),)), roles.NORMAL),
    (Destination(BSDF, "Coat Normal", (Hop("NodeReroute", "Input"),
                                       Hop("ShaderNodeNormalMap", "Color"))), roles.NORMAL),
    (Destination(BSDF, "Normal"), roles.NORMAL),
    (Destination(BSDF, "Normal", (Hop("ShaderNodeBump", "Height"),)), roles.HEIGHT),
    # A normal map entering a Bump node's Normal input is still a normal map.
    (Destination(BSDF, "Normal", (Hop("ShaderNodeNormalMap", "Color"),
                                  Hop("ShaderNodeBump", "Normal"))), roles.NORMAL),
    (Destination(OUTPUT, "Displacement", (Hop("ShaderNodeDisplacement", "Height"),)), roles.HEIGHT),
    (Destination(OUTPUT, "Displacement", (Hop("ShaderNodeVectorDisplacement", "Vector"),)),
     roles.HEIGHT),
    (Destination(OUTPUT, "Displacement"), roles.HEIGHT),
    (Destination(OUTPUT, "Surface"), roles.OTHER),
    (Destination(BSDF, "Specular Tint"), roles.OTHER),
])
def test_role_of_one_destination(dest, role):
    assert roles.role_of_destination(dest) == role


def test_an_image_used_as_colour_and_alpha_is_a_colour_map():
    uses = [Destination(BSDF, "Alpha", output="Alpha"), Destination(BSDF, "Base Color")]
    assert roles.classify(uses, "leaves") == roles.BASE_COLOR


def test_normal_map_evidence_beats_everything():
    uses = [Destination(BSDF, "Base Color"),
            Destination(BSDF, "Normal", (Hop("ShaderNodeNormalMap", "Color"),))]
    assert roles.classify(uses) == roles.NORMAL


def test_packed_orm_is_a_data_map():
    sep = (Hop("ShaderNodeSeparateColor", "Color"),)
    uses = [Destination(BSDF, "Roughness", sep), Destination(BSDF, "Metallic", sep)]
    assert roles.classify(uses) in roles.DATA_ROLES


@pytest.mark.parametrize(("name", "role"), [
    ("rock_Normal.png", roles.NORMAL), ("RockNormalGL", roles.NORMAL), ("T_Rock_BaseColor", roles.BASE_COLOR),
    ("wall_rough", roles.ROUGHNESS), ("floor-metalness.jpg", roles.METALLIC), ("cliff_disp", roles.HEIGHT),
    ("leaf_opacity", roles.ALPHA), ("lamp_emissive", roles.EMISSION), ("noise", roles.OTHER),
])
def test_the_name_decides_only_when_no_link_does(name, role):
    assert roles.classify([], name) == role
    assert roles.classify([Destination(BSDF, "Metallic")], name) == roles.METALLIC


def test_policy_follows_colour_space_for_unrecognised_maps():
    assert roles.policy_key(roles.OTHER, is_data=True) == roles.OTHER_DATA
    assert roles.policy_key(roles.OTHER, is_data=False) is None
    assert roles.policy_key(roles.BASE_COLOR, is_data=True) is None
    assert roles.policy_key(roles.NORMAL, is_data=False) == roles.NORMAL


COLOUR = UpscaleParams(upscale_factor=4, preset="creative", strength=0.6, prompt="mossy rock",
                       loras=["model_x"], loras_scale=[0.8], details_enable=True, seed=7,
                       base_model="FLUX.1-Krea-dev")


def test_colour_maps_keep_the_scene_params():
    policy = roles.RolePolicy({})
    assert roles.params_for(roles.BASE_COLOR, False, COLOUR, policy) is COLOUR
    assert roles.params_for(roles.OTHER, False, COLOUR, policy) is COLOUR


def test_data_maps_default_to_precise_with_low_strength_and_no_prompt():
    params = roles.params_for(roles.NORMAL, True, COLOUR, roles.RolePolicy({}))
    assert params is not None
    assert (params.preset, params.strength, params.prompt, params.loras) == ("precise", 0.2, None, None)
    assert params.details_enable is False
    # What is not about fidelity stays the scene's.
    assert (params.upscale_factor, params.seed, params.base_model) == (4, 7, "FLUX.1-Krea-dev")
    replace(params, image="asset_x").validate()


def test_per_role_choices_and_strength():
    policy = roles.RolePolicy({roles.ROUGHNESS: roles.SKIP, roles.METALLIC: roles.AS_COLOR,
                               roles.OTHER_DATA: roles.SKIP}, data_strength=0.05)
    assert roles.params_for(roles.ROUGHNESS, True, COLOUR, policy) is None
    assert roles.params_for(roles.METALLIC, True, COLOUR, policy) is COLOUR
    assert roles.params_for(roles.OTHER, True, COLOUR, policy) is None
    assert roles.params_for(roles.HEIGHT, True, COLOUR, policy).strength == 0.05
    assert not roles.uses_style_images(roles.HEIGHT, True, policy)
    assert roles.uses_style_images(roles.METALLIC, True, policy)
    assert "Roughness" in roles.skip_reason(roles.ROUGHNESS)
