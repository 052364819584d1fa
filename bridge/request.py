"""Main thread: gather everything one upscale needs into plain data for the worker.

Every check that can refuse happens here, before anything is uploaded or spent.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import bpy

from ..api.params import FIELD_SPECS, UpscaleParams
from ..core import roles
from ..core.fidelity import FidelityPlan, seam_pad_for
from ..core.journal import JobRecord, new_job_id
from ..core.naming import sanitize_stem
from ..core.refusal import Refusal
from ..core.result_check import DEFAULT_MAX_SIDE, ResultLimits
from ..core.source import PixelSource
from ..core.spend_policy import SpendPolicy
from ..core.udim_set import SetJob
from ..core.upscale_job import UpscaleJob
from . import addon_data, connection, runtime, scope, snapshot, texture_graph, udim_request

if TYPE_CHECKING:
    from ..ui.preferences import ScenarioUpscalePreferences
    from .settings import ScenarioUpscaleSettings

DEFAULT_OUTPUT_DIR = "//textures/upscaled/"


@dataclass
class Prepared:
    job: UpscaleJob | SetJob
    connection: connection.Connection
    facts: snapshot.ImageFacts
    output_size: tuple[int, int]


def params_from_settings(settings: ScenarioUpscaleSettings) -> UpscaleParams:
    loras = [item.model.strip() for item in settings.loras if item.model.strip()]
    scales = [float(item.scale) for item in settings.loras if item.model.strip()]
    return UpscaleParams(
        upscale_factor=int(settings.upscale_factor),
        preset=settings.preset,
        base_model=settings.base_model,
        prompt=settings.prompt or None,
        strength=round(float(settings.strength), 4),
        controlnet_conditioning_scale=round(float(settings.controlnet_conditioning_scale), 4),
        num_inference_steps=int(settings.num_inference_steps),
        details_enable=bool(settings.details_enable),
        seed=None if settings.random_seed else int(settings.seed),
        image_prompt_strength=(
            round(float(settings.image_prompt_strength), 4) if _style_images(settings) else None
        ),
        loras=loras or None,
        loras_scale=scales or None,
    )


def output_folder(prefs: ScenarioUpscalePreferences | None, user_dir: Path) -> Path:
    """The folder results are written to: beside the .blend, or the add-on's user folder."""
    wanted = ((prefs.output_dir if prefs is not None else "") or DEFAULT_OUTPUT_DIR).strip()
    if wanted.startswith("//") and not bpy.data.filepath:
        return user_dir / "upscaled"
    return Path(bpy.path.abspath(wanted))


def ensure_writable(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise Refusal(
            f"Cannot write to the output folder {folder} ({exc.strerror or exc}). "
            "Choose another folder in the add-on preferences."
        ) from exc


def prepare(context: bpy.types.Context, image: bpy.types.Image | None, scope_name: str,
            user_dir: Path, work_dir: Path, *, params: UpscaleParams | None = None,
            materials: list[str] | None = None, styles: bool = True,
            facts: snapshot.ImageFacts | None = None, local_id: str = "",
            folder_checked: bool = False) -> Prepared:
    """Everything one upscale needs. ``params`` overrides the scene settings (a batch sets them
    per texture role); ``materials`` overrides the materials in scope; ``styles`` False leaves
    the scene's style images out; ``facts`` is ``image`` already described; ``local_id`` the
    job's id when it was given one while queued; ``folder_checked`` says the caller has just
    tried writing to the output folder (a batch, once for all its images)."""
    if image is None:
        raise Refusal("No image to upscale: open a texture in the Image Editor first.")
    settings = addon_data.upscale_settings(context.scene)
    prefs = addon_data.preferences()
    if params is None:
        params = params_from_settings(settings)
    # The asset id comes after the upload; everything else is checked before anything is sent.
    replace(params, image="pending-upload").validate()
    style_images = _style_images(settings) if styles else []
    check_style_count(len(style_images))
    facts = facts or snapshot.describe(image)
    max_side = result_limits(prefs).max_side
    factor = int(params.upscale_factor or 2)
    if facts.tiles:
        udim_request.check_memory(facts, factor)
    output_size = snapshot.check_output_size(udim_request.largest(facts) if facts.tiles else facts,
                                             factor, max_side)
    plan = fidelity_plan(image, facts, settings)
    if plan.seam_pad:
        padded = replace(facts, width=facts.width + 2 * plan.seam_pad,
                         height=facts.height + 2 * plan.seam_pad)
        snapshot.check_output_size(padded, factor, max_side)
    conn = connection.connection()
    folder = output_folder(prefs, user_dir)
    if not folder_checked:
        ensure_writable(folder)  # a file written and removed: disk work on the main thread
    # Seam-safe pads the pixels before upload, so the worker must be able to decode them.
    source = (None if facts.tiles else snapshot.decodable_source(image, facts) if plan.seam_pad
              else snapshot.take_source(image, facts))
    style_sources = [snapshot.take_source(i, snapshot.describe(i)) for i in style_images]
    record = JobRecord(
        local_id=local_id or new_job_id(),
        source_image=image.name,
        source_session_uid=image.session_uid,
        session=runtime.SESSION,
        blend_file=bpy.data.filepath,
        scope=scope_name,
        target_materials=(materials if materials is not None
                          else scope.scope_materials(context, scope_name)),
        # A float source went up as sRGB-encoded PNG: its result is sRGB, not scene-linear.
        source_colorspace=("sRGB" if isinstance(source, PixelSource) and facts.is_float
                           and not facts.is_data else facts.colorspace),
        source_alpha_mode=facts.alpha_mode,
        source_size=[facts.width, facts.height],
        base_url=conn.base_url,
        params=params.to_body(),
        output_dir=str(folder),
        output_stem=sanitize_stem(image.name),
    )
    job = UpscaleJob(record=record, params=params, work_dir=work_dir / record.local_id,
                     source=source, style_sources=style_sources, timeout_s=timeout_seconds(prefs),
                     fidelity=plan, limits=result_limits(prefs), spend=spend_policy(prefs))
    if facts.tiles:
        return Prepared(udim_request.build(image, facts, job, work_dir),
                        conn, facts, output_size)
    return Prepared(job, conn, facts, output_size)


def fidelity_plan(image: bpy.types.Image, facts: snapshot.ImageFacts,
                  settings: ScenarioUpscaleSettings) -> FidelityPlan:
    normal = settings.normal_map == "YES" or (
        settings.normal_map == "AUTO" and texture_graph.role_of(image) == roles.NORMAL)
    # A UDIM tile's edges meet the next tile, not its own opposite edge: no seam-safe padding.
    seam_safe = bool(settings.seam_safe) and not facts.tiles
    return FidelityPlan(
        keep_alpha=bool(settings.keep_alpha),
        normal_map=normal,
        check_tiling=bool(settings.check_tiling),
        seam_pad=seam_pad_for(facts.width, facts.height) if seam_safe else 0,
    )


def spend_policy(prefs: ScenarioUpscalePreferences | None) -> SpendPolicy:
    can_ask = not bpy.app.background
    if prefs is None:  # not enabled: the price first, and every paid upscale confirmed
        return SpendPolicy(quote=True, never_spend=False, confirm_above=0.0, can_ask=can_ask)
    return SpendPolicy(
        quote=bool(prefs.quote_before_paying),
        never_spend=bool(prefs.never_spend),
        confirm_above=float(prefs.confirm_above_credits) if prefs.confirm_expensive else None,
        can_ask=can_ask,
    )



def result_limits(prefs: ScenarioUpscalePreferences | None) -> ResultLimits:
    """How large a result may be, checked before the upload and again on its header."""
    return ResultLimits(max_side=max_result_side(prefs))


def max_result_side(prefs: ScenarioUpscalePreferences | None) -> int:
    """The Largest Result Side preference (its default when not enabled)."""
    return int((prefs.max_output_side if prefs is not None else 0) or DEFAULT_MAX_SIDE)


def timeout_seconds(prefs: ScenarioUpscalePreferences | None) -> float:
    return 60.0 * float((prefs.job_timeout_minutes if prefs is not None else 30) or 30)


def check_style_count(count: int) -> None:
    """A script can fill the list past the panel's limit: refused, never cut short unsaid."""
    limit = FIELD_SPECS["image_prompt"].max_items or count
    if count > limit:
        raise Refusal(
            f"{count} style images are set, but Scenario takes at most {limit}: remove "
            f"{count - limit} from Style Images (scene.scenario_upscale.image_prompts), then "
            "try again."
        )


def _style_images(settings: ScenarioUpscaleSettings) -> list[bpy.types.Image]:
    return [item.image for item in settings.image_prompts if item.image is not None]
