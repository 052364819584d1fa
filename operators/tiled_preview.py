"""scenario.tiled_preview: a 2×2 tiled copy of an image, to judge its seams at a glance."""

from __future__ import annotations

import bpy
from bpy.props import StringProperty

from ..bridge import availability, derived
from ..core import pixels
from ..core.refusal import Refusal


class SCENARIO_OT_tiled_preview(derived.DerivedImageMixin, bpy.types.Operator):
    bl_idname = "scenario.tiled_preview"
    bl_label = "Tiled Preview"
    bl_description = "Show the image repeated 2×2, so seams at its borders stand out"

    image_name: StringProperty(  # type: ignore[valid-type]
        name="Image", description="Empty: the Image Editor's image", options={"SKIP_SAVE"}
    )

    def execute(self, context: bpy.types.Context) -> set[str]:
        image = availability.chosen_image(context, self.image_name)
        if image is None:
            self.report({"ERROR"}, availability.no_image_message(self.image_name))
            return {"CANCELLED"}
        try:
            view = derived.start([image], lambda decoded: pixels.tile_2x2(decoded[0]),
                                 f"{image.name} (2×2)")
        except Refusal as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        self._like = image.name
        return self.follow(context, [view.local_id])
