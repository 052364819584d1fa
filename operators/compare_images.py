"""scenario.compare_images: A/B between an upscaled result and its original, or their difference."""

from __future__ import annotations

import bpy
from bpy.props import EnumProperty, StringProperty

from ..bridge import availability, derived
from ..bridge.result_image import PROVENANCE_DIFFERENCE, pair
from ..core import pixels
from ..core.refusal import Refusal

MODES = [
    ("ORIGINAL", "Original", "Show the original image"),
    ("RESULT", "Result", "Show the upscaled result"),
    ("DIFFERENCE", "Difference", "Show where the result differs from the original (heat map)"),
]


class SCENARIO_OT_compare_images(derived.DerivedImageMixin, bpy.types.Operator):
    bl_idname = "scenario.compare_images"
    bl_label = "Compare"
    bl_description = "Switch between the original and the upscaled result, or show their difference"

    mode: EnumProperty(name="Show", items=MODES, default="ORIGINAL")  # type: ignore[valid-type]
    image_name: StringProperty(  # type: ignore[valid-type]
        name="Image", description="Empty: the Image Editor's image", options={"SKIP_SAVE"}
    )

    def execute(self, context: bpy.types.Context) -> set[str]:
        image = availability.chosen_image(context, self.image_name)
        found = pair(image) if image is not None else None
        if found is None:
            self.report({"ERROR"}, "Open an upscaled result (or its original) to compare.")
            return {"CANCELLED"}
        original, result = found
        if self.mode != "DIFFERENCE":
            derived.show(context, original if self.mode == "ORIGINAL" else result)
            return {"FINISHED"}
        try:
            view = derived.start([result, original],
                                 lambda decoded: pixels.difference_image(decoded[0], decoded[1]),
                                 f"{result.name} (difference)")
        except Refusal as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        self._like, self._colorspace = result.name, "sRGB"
        self._marks = {PROVENANCE_DIFFERENCE: result.name}
        self._note = ": bright where the result differs"
        return self.follow(context, [view.local_id])
