"""scenario.show_preview: show a preview where its crop lies, A/B it against the crop of the
original at the same size, or go back to the texture."""

from __future__ import annotations

import bpy
from bpy.props import EnumProperty, StringProperty

from ..bridge import previews, rna

MODES = [
    ("PREVIEW", "Preview", "Show this preview in the editor, in place of its crop"),
    ("AB", "A/B", "Switch between the preview and the crop of the original, resampled to the "
                  "same size"),
    ("TEXTURE", "Back to Texture", "Show the whole texture again, as it was framed"),
]

# The preview each editor showed last, by area: A/B returns to it from the original.
_last: dict[int, str] = {}


class SCENARIO_OT_show_preview(bpy.types.Operator):
    bl_idname = "scenario.show_preview"
    bl_label = "Show Preview"
    bl_options = {"INTERNAL"}

    image_name: StringProperty(options={"SKIP_SAVE"})  # type: ignore[valid-type]
    mode: EnumProperty(name="Show", items=MODES, default="PREVIEW")  # type: ignore[valid-type]

    @classmethod
    def description(cls, context: bpy.types.Context, properties: bpy.types.OperatorProperties
                    ) -> str:
        text = next(m[2] for m in MODES if m[0] == properties.mode)
        return f"{text}: {properties.image_name}" if properties.image_name else text

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        if context.area is None or context.area.type != "IMAGE_EDITOR":
            cls.poll_message_set("Works in an Image Editor.")
            return False
        return True

    def execute(self, context: bpy.types.Context) -> set[str]:
        area = context.area
        assert area is not None  # see poll()
        space = rna.image_space(area)
        key = area.as_pointer()
        if self.mode == "TEXTURE":
            if not previews.back_to_texture(context, area):
                self.report({"WARNING"}, "The editor shows no preview.")
                return {"CANCELLED"}
            return {"FINISHED"}
        if self.mode == "AB":
            shown = space.image
            role = shown.get(previews.PREVIEW_ROLE) if shown is not None else None
            if shown is not None and role == "preview":
                target = previews.reference_of(shown)
            elif role == "original":
                target = bpy.data.images.get(_last.get(key, ""))
            else:
                target = None
            if target is None:
                self.report({"WARNING"}, "Show a preview first, then A/B compares it with the "
                                         "original.")
                return {"CANCELLED"}
        else:
            target = bpy.data.images.get(self.image_name)
            if target is None or previews.PREVIEW_OF not in target:
                self.report({"ERROR"}, f"There is no preview named '{self.image_name}'.")
                return {"CANCELLED"}
        if target.get(previews.PREVIEW_ROLE) == "preview":
            _last[key] = target.name
        previews.show(context, area, target)
        return {"FINISHED"}
