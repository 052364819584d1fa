"""scenario.clear_previews: remove a texture's previews, their images and their files."""

from __future__ import annotations

import bpy
from bpy.props import StringProperty

from ..api.wording import counted
from ..bridge import availability, previews, snapshot


class SCENARIO_OT_clear_previews(bpy.types.Operator):
    bl_idname = "scenario.clear_previews"
    bl_label = "Clear Previews"
    bl_description = "Remove this texture's previews: their images and their files"
    bl_options = set()  # files are deleted: an undo could not bring them back

    image_name: StringProperty(  # type: ignore[valid-type]
        name="Texture", description="Empty: the texture of the Image Editor's image",
        options={"SKIP_SAVE"},
    )

    def execute(self, context: bpy.types.Context) -> set[str]:
        image = availability.chosen_image(context, self.image_name)
        texture = previews.texture_of(image) if image is not None else None
        name = texture.name if texture is not None else (
            str(image.get(snapshot.PREVIEW_OF)) if image is not None else "")
        if not name:
            self.report({"ERROR"}, "Open a texture with previews first.")
            return {"CANCELLED"}
        area = context.area
        if area is not None and area.type == "IMAGE_EDITOR" and image is not texture:
            previews.back_to_texture(context, area)
        images, files = previews.clear(name)
        if not images and not files:
            self.report({"INFO"}, f"'{name}' has no previews.")
            return {"CANCELLED"}
        self.report({"INFO"}, f"Removed {counted(images, 'preview image')} of '{name}' and "
                              f"{counted(files, 'file')}.")
        return {"FINISHED"}
