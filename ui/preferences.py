"""Add-on preferences, grouped as Blender's own are: Account (the keys, stored in Blender's user
preferences, never in a .blend), Output, Jobs, Spending, Advanced."""

from __future__ import annotations

from collections.abc import Callable

import bpy
from bpy.props import BoolProperty, FloatProperty, IntProperty, StringProperty

from ..api.constants import MODEL_ID
from ..api.wording import counted
from ..bridge import ADDON_PACKAGE, connection, runtime
from ..bridge.model_props import model_property
from ..bridge.request import DEFAULT_OUTPUT_DIR
from ..core import spending
from ..core.result_check import DEFAULT_MAX_SIDE
from ..core.spending import STOP_BEFORE_PAYING
from .lines import label_lines
from .widgets import Icon, button, fold

# Blender 4.5+ warns about '//' in a path property unless it declares blend-relative support.
_BLEND_RELATIVE = {"PATH_SUPPORTS_BLEND_RELATIVE"} if bpy.app.version >= (4, 5, 0) else set()


def _is_automatic(prefs: ScenarioUpscalePreferences) -> bool:
    return int(prefs.max_concurrent_jobs) == 0


def _set_automatic(prefs: ScenarioUpscalePreferences, on: bool) -> None:
    """Off: the number that was automatic stays, now the artist's to change."""
    prefs.max_concurrent_jobs = 0 if on else runtime.concurrency()


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
        name="Parallel Jobs", default=0, min=0, soft_min=1, max=16,
        description="How many upscales run at once (0: as many as Blender's own network "
                    "connection limit allows)",
    )
    parallel_automatic: BoolProperty(  # type: ignore[valid-type]
        name="Automatic", get=_is_automatic, set=_set_automatic,
        description="As many upscales at once as Blender's network connection limit allows "
                    "(Preferences ▸ System ▸ Network)",
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
        name=STOP_BEFORE_PAYING, default=False,
        description="For a rehearsal: every upscale is uploaded and priced (free), then stops "
                    "before Scenario is paid. Nothing is spent while this is on",
    )

    def draw(self, context: bpy.types.Context) -> None:
        """Grouped under headings, as Blender's own preferences are; the groups fold."""
        layout = self.layout
        if layout is None:
            return
        layout.use_property_split = True
        layout.use_property_decorate = False
        for idname, title, draw, closed in GROUPS:
            header, body = fold(layout, f"scenario_prefs_{idname}", default_closed=closed)
            header.label(text=title)
            if body is not None:
                draw(self, body, context)


def _account(prefs: ScenarioUpscalePreferences, layout: bpy.types.UILayout,
             context: bpy.types.Context) -> None:
    col = layout.column()
    col.prop(prefs, "api_key")
    col.prop(prefs, "api_secret")
    source = connection.keys_source()
    if source == "environment":
        label_lines(layout, context, "Using the keys from the environment variables.",
                    icon="INFO")
    elif source is None:
        label_lines(layout, context, KEYS_HELP, icon="ERROR")
        button(layout, "wm.url_open", text="Open app.scenario.com", icon="URL").url = SCENARIO_APP
    layout.operator("scenario.test_connection", icon="URL")
    tested = connection.last_test
    if tested is not None:
        for level, text in tested.lines:
            label_lines(layout, context, text, icon=TEST_ICONS.get(level, "INFO"))
    if not bpy.app.online_access:
        label_lines(layout, context, connection.ONLINE_ACCESS_MESSAGE, icon="ERROR")


def _output(prefs: ScenarioUpscalePreferences, layout: bpy.types.UILayout,
            context: bpy.types.Context) -> None:
    col = layout.column()
    col.prop(prefs, "output_dir")
    col.operator("scenario.open_folder", icon="FILE_FOLDER")
    col.prop(prefs, "show_result_in_editor")
    col.prop(prefs, "max_output_side")


def _jobs(prefs: ScenarioUpscalePreferences, layout: bpy.types.UILayout,
          context: bpy.types.Context) -> None:
    row = layout.row(heading="Parallel Jobs")
    row.prop(prefs, "parallel_automatic")
    if prefs.max_concurrent_jobs:
        row.prop(prefs, "max_concurrent_jobs", text="")
    else:
        row.label(text=f"{counted(runtime.concurrency(), 'job')} at once")
    layout.prop(prefs, "job_timeout_minutes")
    col = layout.column()
    col.prop(prefs, "default_upscale_factor")
    col.prop(prefs, "default_preset")
    col.prop(prefs, "default_base_model")


def _spending(prefs: ScenarioUpscalePreferences, layout: bpy.types.UILayout,
              context: bpy.types.Context) -> None:
    rt = runtime.peek()
    if rt is not None:
        label_lines(layout, context, f"This computer: {spending.spent(rt.recent).text}",
                    icon="INFO")
    col = layout.column()
    col.prop(prefs, "quote_before_paying")
    row = col.row(heading="Confirm Above")
    row.prop(prefs, "confirm_expensive", text="")
    sub = row.row()
    sub.enabled = prefs.confirm_expensive
    sub.prop(prefs, "confirm_above_credits")
    col.prop(prefs, "never_spend")


def _advanced(prefs: ScenarioUpscalePreferences, layout: bpy.types.UILayout,
              context: bpy.types.Context) -> None:
    col = layout.column()
    col.prop(prefs, "base_url")
    col.prop(prefs, "model_id")
    # Where the jobs are: every copy of the add-on shares it, and uninstalling keeps it.
    folder = button(col, "wm.path_open", text="Open Jobs and Log Folder", icon="FILE_FOLDER")
    folder.filepath = str(runtime.user_folder())


Draw = Callable[[ScenarioUpscalePreferences, bpy.types.UILayout, bpy.types.Context], None]
# (id, heading, what it draws, folded at first)
GROUPS: tuple[tuple[str, str, Draw, bool], ...] = (
    ("account", "Account", _account, False),
    ("output", "Output", _output, False),
    ("jobs", "Jobs", _jobs, False),
    ("spending", "Spending", _spending, False),
    ("advanced", "Advanced", _advanced, True),
)
SCENARIO_APP = "https://app.scenario.com"
KEYS_HELP = ("No keys yet: without them nothing can be upscaled. Create a key in Scenario "
             "(app.scenario.com ▸ Project Settings ▸ API Keys), then paste the key and its "
             "secret here.")
TEST_ICONS: dict[str, Icon] = {"INFO": "CHECKMARK", "WARNING": "ERROR", "ERROR": "CANCEL"}


classes = (ScenarioUpscalePreferences,)
