"""Add-on preferences: credentials (stored in Blender's user preferences, never in a .blend)."""

from __future__ import annotations

import bpy
from bpy.props import BoolProperty, FloatProperty, IntProperty, StringProperty

from ..api.constants import MODEL_ID
from ..bridge import ADDON_PACKAGE, connection, runtime
from ..bridge.model_props import model_property
from ..bridge.request import DEFAULT_MAX_SIDE, DEFAULT_OUTPUT_DIR

# Blender 4.5+ warns about '//' in a path property unless it declares blend-relative support.
_BLEND_RELATIVE = {"PATH_SUPPORTS_BLEND_RELATIVE"} if bpy.app.version >= (4, 5, 0) else set()


class ScenarioUpscalePreferences(bpy.types.AddonPreferences):
    bl_idname = ADDON_PACKAGE

    api_key: StringProperty(  # type: ignore[valid-type]
        name="API Key", subtype="PASSWORD",
        description="From Scenario ▸ Project Settings ▸ API Keys. Empty: SCENARIO_SDK_API_KEY",
    )
    api_secret: StringProperty(  # type: ignore[valid-type]
        name="API Secret", subtype="PASSWORD",
        description="Shown once when the key is created. Empty: SCENARIO_SDK_API_SECRET",
    )
    base_url: StringProperty(  # type: ignore[valid-type]
        name="Service URL",
        description="Empty: SCENARIO_BASE_URL, else Scenario's cloud API. HTTPS required except "
                    "for this computer (loopback)",
    )
    model_id: StringProperty(  # type: ignore[valid-type]
        name="Model", default=MODEL_ID,
        description="Scenario's upscale model. Change it only when Scenario has renamed or "
                    "replaced it; Test Connection then checks the new one",
    )
    output_dir: StringProperty(  # type: ignore[valid-type]
        name="Output Folder", subtype="DIR_PATH", default=DEFAULT_OUTPUT_DIR,
        options=_BLEND_RELATIVE,
        description="Where upscaled textures are saved ('//' is the .blend's folder; for an "
                    "unsaved file the add-on's user folder is used)",
    )
    max_output_side: IntProperty(  # type: ignore[valid-type]
        name="Largest Result Side", default=DEFAULT_MAX_SIDE, min=512, max=65536, subtype="PIXEL",
        description="Refuse upscales whose result would be wider or taller than this",
    )
    job_timeout_minutes: IntProperty(  # type: ignore[valid-type]
        name="Give Up Waiting After (min)", default=30, min=1, max=24 * 60,
        description="Minutes to wait for one job; a job still running then is kept in Recent "
                    "Jobs to be recovered later",
    )
    max_concurrent_jobs: IntProperty(  # type: ignore[valid-type]
        name="Parallel Jobs", default=0, min=0, max=16,
        description="How many upscales run at once (0: Blender's network connection limit)",
    )

    show_result_in_editor: BoolProperty(  # type: ignore[valid-type]
        name="Show Result in Editor", default=True,
        description="When an upscale started from an Image Editor ends, that editor shows the "
                    "result (unless another image was opened there meanwhile)",
    )

    default_upscale_factor: model_property(  # type: ignore[valid-type]
        "upscale_factor", "Default Factor", "Factor of files that have not set their own"
    )
    default_preset: model_property(  # type: ignore[valid-type]
        "preset", "Default Preset", "Preset of files that have not set their own"
    )
    default_base_model: model_property(  # type: ignore[valid-type]
        "base_model", "Default Base Model", "Base model of files that have not set their own"
    )
    quote_before_paying: BoolProperty(  # type: ignore[valid-type]
        name="Show Price First", default=True,
        description="Ask Scenario for the price (a free dry run) before every paid upscale",
    )
    confirm_expensive: BoolProperty(  # type: ignore[valid-type]
        name="Confirm Above", default=True,
        description="Wait for your confirmation when an upscale costs more than the limit",
    )
    confirm_above_credits: FloatProperty(  # type: ignore[valid-type]
        name="Credits", default=20.0, min=0.0, soft_max=1000.0,
        description="Upscales priced above this many credits wait for your confirmation",
    )
    never_spend: BoolProperty(  # type: ignore[valid-type]
        name="Never Spend (Rehearsal)", default=False,
        description="Upload and price every upscale, but stop before the paid call",
    )

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        layout.use_property_split = True
        col = layout.column()
        col.prop(self, "api_key")
        col.prop(self, "api_secret")
        source = connection.keys_source()
        if source == "environment":
            col.label(text="Using the keys from the environment variables.", icon="INFO")
        elif source is None:
            col.label(text="No keys yet: without them nothing can be upscaled.", icon="ERROR")
        col.operator("scenario.test_connection", icon="URL")
        if not bpy.app.online_access:
            col.label(text=connection.ONLINE_ACCESS_MESSAGE, icon="ERROR")
        layout.separator()
        col = layout.column()
        col.prop(self, "output_dir")
        col.prop(self, "max_output_side")
        col.prop(self, "max_concurrent_jobs")
        col.prop(self, "job_timeout_minutes")
        col.prop(self, "show_result_in_editor")
        col.prop(self, "base_url")
        col.prop(self, "model_id")
        # Where the jobs are: every copy of the add-on shares it, and uninstalling keeps it.
        folder = col.operator("wm.path_open", text="Open Jobs and Log Folder", icon="FILE_FOLDER")
        folder.filepath = str(runtime.user_folder())
        layout.separator()
        col = layout.column()
        col.prop(self, "default_upscale_factor")
        col.prop(self, "default_preset")
        col.prop(self, "default_base_model")
        layout.separator()
        col = layout.column(heading="Spending")
        col.prop(self, "quote_before_paying")
        row = col.row(align=True)
        row.prop(self, "confirm_expensive")
        sub = row.row()
        sub.enabled = self.confirm_expensive
        sub.prop(self, "confirm_above_credits")
        col.prop(self, "never_spend")


classes = (ScenarioUpscalePreferences,)
