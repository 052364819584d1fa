"""Batch settings per scene (``Scene.scenario_batch``) and the list the panels draw
(``WindowManager.scenario_batch``: runtime state, never saved in a .blend)."""

from __future__ import annotations

import bpy
from bpy.props import CollectionProperty, EnumProperty, FloatProperty, IntProperty, StringProperty

from ..core import roles

BATCH_SCOPE_ITEMS = [
    ("SELECTED_OBJECTS", "Selected Objects", "Every texture of the materials of the selected objects"),
    ("ACTIVE_MATERIAL", "Active Material", "Every texture of the active object's active material"),
    ("ALL_MATERIALS", "All Materials", "Every texture of every material in the file"),
]
DATA_MAP_ITEMS = [
    (roles.PRECISE, "Precise", "Preset precise with the data-map strength: closest to the source"),
    (roles.AS_COLOR, "Same as Color", "The same settings as colour maps"),
    (roles.SKIP, "Skip", "Do not upscale these maps"),
]


def _data_map(name: str, what: str) -> EnumProperty:  # type: ignore[valid-type]
    return EnumProperty(  # type: ignore[valid-type]
        name=name, items=DATA_MAP_ITEMS, default=roles.PRECISE,
        description=f"How {what} are upscaled in a batch",
    )


class ScenarioBatchSettings(bpy.types.PropertyGroup):
    scope: EnumProperty(  # type: ignore[valid-type]
        name="Textures Of", items=BATCH_SCOPE_ITEMS, default="SELECTED_OBJECTS",
        description="Which materials' textures a batch upscales",
    )
    normal: _data_map("Normal", "normal maps")  # type: ignore[valid-type]
    roughness: _data_map("Roughness", "roughness maps")  # type: ignore[valid-type]
    metallic: _data_map("Metallic", "metallic maps")  # type: ignore[valid-type]
    height: _data_map("Height", "height, bump and displacement maps")  # type: ignore[valid-type]
    alpha: _data_map("Alpha", "alpha and opacity masks")  # type: ignore[valid-type]
    other_data: _data_map(  # type: ignore[valid-type]
        "Other Data", "unrecognised maps in a non-colour space (masks, AO, ...)")
    data_strength: FloatProperty(  # type: ignore[valid-type]
        name="Data Strength", default=roles.DEFAULT_DATA_STRENGTH, min=0.0, max=1.0,
        description="Strength (creativity) for data maps upscaled as Precise: low keeps the "
                    "measured values",
    )


def role_policy(settings: ScenarioBatchSettings, override: str = "") -> roles.RolePolicy:
    """The scene's per-role choices; ``override`` (PRECISE, COLOR or SKIP) sets every data role."""
    keys = [*roles.DATA_ROLES, roles.OTHER_DATA]
    choices = {key: override or str(getattr(settings, key)) for key in keys}
    return roles.RolePolicy(choices, float(settings.data_strength))


class ScenarioBatchRow(bpy.types.PropertyGroup):
    """One image of the current batch; its live status is read from the runtime when drawn."""

    image: StringProperty(name="Image")  # type: ignore[valid-type]
    role: StringProperty(name="Role")  # type: ignore[valid-type]
    local_id: StringProperty(name="Job")  # type: ignore[valid-type]


class ScenarioBatchList(bpy.types.PropertyGroup):
    batch_id: StringProperty()  # type: ignore[valid-type]
    rows: CollectionProperty(type=ScenarioBatchRow)  # type: ignore[valid-type]
    active: IntProperty()  # type: ignore[valid-type]


classes = (ScenarioBatchSettings, ScenarioBatchRow, ScenarioBatchList)
