"""scenario.revert_image: put the original back wherever an upscaled result was swapped in."""

from __future__ import annotations

import bpy
from bpy.props import EnumProperty, StringProperty

from ..api.wording import counted, verb
from ..bridge import availability, result_image, scope
from ..bridge.settings import SCOPE_ITEMS


class SCENARIO_OT_revert_image(bpy.types.Operator):
    bl_idname = "scenario.revert_image"
    bl_label = "Revert to Original"
    bl_description = "Use the original image again wherever its upscaled result is used"
    bl_options = {"REGISTER", "UNDO"}

    image_name: StringProperty(  # type: ignore[valid-type]
        name="Image", description="The result or the original; empty means the Image Editor's image",
        options={"SKIP_SAVE"},
    )
    scope: EnumProperty(  # type: ignore[valid-type]
        name="Scope", items=SCOPE_ITEMS, default="ALL_USERS", options={"SKIP_SAVE"}
    )

    def execute(self, context: bpy.types.Context) -> set[str]:
        name = self.image_name
        if not name:
            image = availability.editor_image(context)
            # A difference view stands for its result.
            name = str(image.get(result_image.PROVENANCE_DIFFERENCE, image.name)) if image else ""
        if not name:
            self.report({"ERROR"}, "No image to revert: open the upscaled image first.")
            return {"CANCELLED"}
        try:
            original, switched = result_image.revert(
                name, self.scope, scope.scope_materials(context, self.scope)
            )
        except LookupError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        space = context.space_data
        if isinstance(space, bpy.types.SpaceImageEditor) and not self.image_name:
            space.image = bpy.data.images[original]
        self.report({"INFO"}, f"{counted(switched, 'node')} {verb(switched, 'uses', 'use')} "
                              f"'{original}' again.")
        return {"FINISHED"}
