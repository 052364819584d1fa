"""scenario.preview_upscale: upscale a small crop of a texture (with up to four values of one
setting), to see the look before paying for the whole texture. Never changes a material."""

from __future__ import annotations

import bpy
from bpy.props import IntProperty, IntVectorProperty, StringProperty

from ..api.errors import ScenarioError
from ..api.wording import counted
from ..bridge import addon_data, availability, preview_frame, preview_request, previews, runtime
from ..bridge.modal import PaidJobModal
from ..core import crop, job_view
from ..core.refusal import Refusal


class SCENARIO_OT_preview_upscale(PaidJobModal, bpy.types.Operator):
    bl_idname = "scenario.preview_upscale"
    bl_label = "Preview"
    bl_description = (
        "Upscale only the framed crop of the texture with the panel's settings (or with each "
        "value of Compare), to see the look before paying for the whole texture. Priced and "
        "confirmed like an upscale; no material changes"
    )
    image_name: StringProperty(  # type: ignore[valid-type]
        name="Image", description="Texture to preview; empty means the Image Editor's image",
        options={"SKIP_SAVE"},
    )
    region: IntVectorProperty(  # type: ignore[valid-type]
        name="Region", size=4, options={"SKIP_SAVE"},
        description="x, y, width, height of the crop in the texture's pixels, from its bottom "
                    "left; unset: centred on the Image Editor's view (or the middle), with the "
                    "Preview Size",
    )
    tile: IntProperty(  # type: ignore[valid-type]
        name="UDIM Tile", options={"SKIP_SAVE"}, min=0,
        description="For a UDIM image: the tile to preview; 0: the one under the view (or the "
                    "first)",
    )

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return availability.allows(cls, availability.why_cannot_preview(context))

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        return self.execute(context)

    def execute(self, context: bpy.types.Context) -> set[str]:
        image = availability.chosen_image(context, self.image_name)
        if image is None:
            self.report({"ERROR"}, availability.no_image_message(self.image_name))
            return {"CANCELLED"}
        region = crop.Region(*self.region) if self.properties.is_property_set("region") else None
        tile, center = self.tile, None
        framed = self._framed(context, image) if region is None and not self.image_name else None
        if framed is not None:  # what the frame over the image shows
            region, tile = framed.region, framed.tile or tile
        rt = runtime.get()
        try:
            prepared = preview_request.prepare(context, image, region, rt.user_dir, rt.work_dir,
                                               tile=tile, center=center)
        except (Refusal, ScenarioError) as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        job = prepared.job
        view = preview_request.start(rt, prepared, f"{prepared.facts.name} (previews)")
        factor = job.record.factor
        box = job.region
        where = f" of tile {prepared.tile}" if prepared.tile else ""
        view.estimate = (f"Crop {box.width}×{box.height} at ({box.x}, {box.y}){where} → "
                         f"{box.width * factor}×{box.height * factor}, "
                         f"{counted(len(job.variants), 'preview')}",)
        return self.follow(context, [view.local_id])

    @staticmethod
    def _framed(context: bpy.types.Context, image: bpy.types.Image | None
                ) -> preview_frame.ViewCrop | None:
        area = context.area
        if image is None or area is None or area.type != "IMAGE_EDITOR":
            return None
        window = next((r for r in area.regions if r.type == "WINDOW"), None)
        if window is None or not window.width:
            return None
        size = int(addon_data.upscale_settings(context.scene).preview_size)
        return preview_frame.view_crop(window, image, size, area)

    def job_ended(self, context: bpy.types.Context, view: job_view.JobView) -> None:
        self._outcome = previews.conclude(runtime.get(), view)
        self.report({self._outcome.level}, self._outcome.message)

    def finish(self, context: bpy.types.Context) -> set[str]:
        return {"FINISHED"} if self._outcome.level != "ERROR" else {"CANCELLED"}
