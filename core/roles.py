"""What a texture is for (its role in the material) and how a batch upscales each role.

Pure rules over a plain description of where a texture's outputs lead in the node tree: the
Blender side walks the links and hands over ``Destination``s; nothing here knows bpy.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from ..api.params import UpscaleParams

BASE_COLOR = "base_color"
NORMAL = "normal"
ROUGHNESS = "roughness"
METALLIC = "metallic"
HEIGHT = "height"
ALPHA = "alpha"
EMISSION = "emission"
OTHER = "other"

ROLE_LABELS = {
    BASE_COLOR: "Base Color", NORMAL: "Normal", ROUGHNESS: "Roughness", METALLIC: "Metallic",
    HEIGHT: "Height", ALPHA: "Alpha", EMISSION: "Emission", OTHER: "Other",
}
# When one image feeds several sockets, the strongest evidence of what it holds wins: a Normal
# Map node proves a normal map; a colour socket beats the greyscale ones (an albedo's alpha
# channel feeding Alpha is still an albedo).
PRIORITY = (NORMAL, HEIGHT, BASE_COLOR, EMISSION, METALLIC, ROUGHNESS, ALPHA, OTHER)
# Maps that hold measurements, not pictures: re-imagined detail would change the shading.
DATA_ROLES = (NORMAL, ROUGHNESS, METALLIC, HEIGHT, ALPHA)
# The policy key of an unrecognised map in a non-colour space (a mask, an AO map, ...).
OTHER_DATA = "other_data"

# What a batch does with a data map.
PRECISE = "PRECISE"   # closest to the source: preset precise, low strength, no prompt or style
AS_COLOR = "COLOR"    # the same settings as colour maps
SKIP = "SKIP"         # not upscaled
DEFAULT_DATA_STRENGTH = 0.2


@dataclass(frozen=True)
class Hop:
    """A node a texture's value passes through on its way, and the input it enters by."""

    node: str    # bl_idname, e.g. ShaderNodeNormalMap
    socket: str  # input name, e.g. Height


@dataclass(frozen=True)
class Destination:
    """Where one path from a texture output ends: an input of a shader or the material output."""

    node: str
    socket: str
    via: tuple[Hop, ...] = ()
    output: str = "Color"  # the texture output the path starts from


_SOCKET_ROLES = {
    "base color": BASE_COLOR,
    "color": BASE_COLOR,
    "subsurface color": BASE_COLOR,
    "emission color": EMISSION,
    "emission": EMISSION,
    "roughness": ROUGHNESS,
    "coat roughness": ROUGHNESS,
    "sheen roughness": ROUGHNESS,
    "specular roughness": ROUGHNESS,
    "metallic": METALLIC,
    "alpha": ALPHA,
    "normal": NORMAL,
    "coat normal": NORMAL,
    "clearcoat normal": NORMAL,
    "displacement": HEIGHT,
}
_EMISSION_NODES = {"ShaderNodeEmission"}
_HEIGHT_NODES = {"ShaderNodeDisplacement", "ShaderNodeVectorDisplacement"}
# A Mix Shader's factor that blends a surface with a transparent one is an opacity mask.
_MASK_INPUTS = {("ShaderNodeMixShader", "fac")}


def role_of_destination(dest: Destination) -> str:
    for hop in dest.via:
        if hop.node == "ShaderNodeNormalMap":
            return NORMAL
        if hop.node == "ShaderNodeBump" and hop.socket.lower() == "height":
            return HEIGHT
        if hop.node in _HEIGHT_NODES:
            return HEIGHT
    socket = dest.socket.lower()
    if (dest.node, socket) in _MASK_INPUTS:
        return ALPHA
    if dest.node in _EMISSION_NODES and socket == "color":
        return EMISSION
    if dest.node == "ShaderNodeOutputMaterial":
        return HEIGHT if socket == "displacement" else OTHER
    return _SOCKET_ROLES.get(socket, OTHER)


# Common texture-set suffixes, only consulted when the node tree says nothing.
_NAME_HINTS = (
    (NORMAL, ("normal", "nrm", "nor", "nmap", "normalgl", "normaldx")),
    (HEIGHT, ("height", "disp", "displacement", "bump", "depth")),
    (ROUGHNESS, ("rough", "roughness", "rgh")),
    (METALLIC, ("metal", "metallic", "metalness", "mtl")),
    (ALPHA, ("alpha", "opacity", "mask", "transparency")),
    (EMISSION, ("emission", "emissive", "emit", "glow")),
    (BASE_COLOR, ("albedo", "basecolor", "base", "diffuse", "diff", "color", "colour", "col")),
)


def role_from_name(name: str) -> str:
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)  # RockNormal → Rock Normal
    tokens = [t for t in re.split(r"[^a-z0-9]+", spaced.lower()) if t]
    for role, words in _NAME_HINTS:
        if any(token in words for token in tokens):
            return role
    return OTHER


def classify(destinations: Iterable[Destination], name: str = "") -> str:
    """The role of an image from every place its outputs lead (all nodes using it); the image
    name only decides when no link does."""
    found = {role_of_destination(d) for d in destinations}
    for role in PRIORITY:
        if role in found and role != OTHER:
            return role
    return role_from_name(name) if name else OTHER


def policy_key(role: str, is_data: bool) -> str | None:
    """Which data-map setting applies to ``role``; None when it is upscaled as a colour map.
    An unrecognised map follows its colour space."""
    if role in DATA_ROLES:
        return role
    if role == OTHER and is_data:
        return OTHER_DATA
    return None


@dataclass(frozen=True)
class RolePolicy:
    """The user's choice per data role (PRECISE, COLOR or SKIP) and the data-map strength."""

    choices: Mapping[str, str]
    data_strength: float = DEFAULT_DATA_STRENGTH

    def choice(self, role: str, is_data: bool) -> str:
        key = policy_key(role, is_data)
        if key is None:
            return AS_COLOR
        return self.choices.get(key, PRECISE)


def params_for(role: str, is_data: bool, colour: UpscaleParams, policy: RolePolicy
               ) -> UpscaleParams | None:
    """The params one texture is sent with; None when its role is set to be skipped."""
    choice = policy.choice(role, is_data)
    if choice == SKIP:
        return None
    if choice == AS_COLOR:
        return colour
    return precise_params(colour, policy.data_strength)


def precise_params(colour: UpscaleParams, strength: float) -> UpscaleParams:
    """Data maps stay as close to the source as the model allows: the colour prompt, LoRAs and
    added detail describe a picture and would invent structure in a normal or height map."""
    return replace(
        colour, preset="precise", strength=round(float(strength), 4), prompt=None, loras=None,
        loras_scale=None, details_enable=False, image_prompt=None, image_prompt_strength=None,
    )


def uses_style_images(role: str, is_data: bool, policy: RolePolicy) -> bool:
    return policy.choice(role, is_data) == AS_COLOR


def skip_reason(role: str) -> str:
    return f"{ROLE_LABELS.get(role, role)} maps are set to Skip in the batch settings."
