"""scenario.upscale_image: upscale one image and switch the nodes in scope to the result."""

from __future__ import annotations

from typing import TYPE_CHECKING

import bpy
from bpy.props import EnumProperty, StringProperty

from ..api.errors import ScenarioError
from ..bridge import addon_data, apply, availability, editor_view, quotes, request, result_image, runtime
from ..bridge.modal import OperatorMixin, PaidJobModal
from ..bridge.settings import SCOPE_ITEMS
from ..core.estimate import describe_output
from ..core.job_view import JobView
from ..core.refusal import Refusal

if TYPE_CHECKING:
    from bpy.stub_internal.rna_enums import OperatorReturnItems


class ForAnImage(OperatorMixin):
    """Mixed into an operator on one image: greyed out with the reason when it cannot be sent;
    a click runs it at once (no dialog)."""

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return availability.allows(cls, availability.why_cannot_upscale(context))

    def invoke(self, context: bpy.types.Context,
               event: bpy.types.Event) -> set[OperatorReturnItems]:
        return self.execute(context)


class SCENARIO_OT_upscale_image(ForAnImage, PaidJobModal, bpy.types.Operator):
    bl_idname = "scenario.upscale_image"
    bl_label = "Upscale with Scenario"
    bl_description = (
        "Upscale the image with Scenario (it costs credits: Check Price says how many first), "
        "save the result in the output folder (by default textures/upscaled beside the .blend) "
        "and use it in the materials in scope. The original image and its file never change"
    )
    image_name: StringProperty(  # type: ignore[valid-type]
        name="Image", description="Image to upscale; empty means the Image Editor's image",
        options={"SKIP_SAVE"},
    )
    scope: EnumProperty(  # type: ignore[valid-type]
        name="Apply To", items=SCOPE_ITEMS, default="SELECTED_OBJECTS", options={"SKIP_SAVE"}
    )

    def execute(self, context: bpy.types.Context) -> set[str]:
        image = availability.chosen_image(context, self.image_name)
        if image is None:
            self.report({"ERROR"}, availability.no_image_message(self.image_name))
            return {"CANCELLED"}
        scope_name = availability.chosen_scope(self, addon_data.upscale_settings(context.scene))
        rt = runtime.get()
        try:
            prepared = request.prepare(context, image, scope_name, rt.user_dir, rt.work_dir)
        except (Refusal, ScenarioError) as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        assert image is not None  # prepare refuses None
        for note in prepared.facts.notes:
            self.report({"INFO"}, note)
        quotes.reuse(rt, quotes.key_of(image, addon_data.upscale_settings(context.scene)), prepared.job,
                     prepared.connection)
        view = rt.start_upscale(prepared.job, prepared.connection.connect, prepared.facts.name)
        view.estimate = describe_output(*prepared.output_size)
        self._editor = editor_view.of(context) if self._shown_in_editor(context, image) else None
        return self.follow(context, [view.local_id])

    def _shown_in_editor(self, context: bpy.types.Context, image: bpy.types.Image) -> bool:
        """Whether the editor it was started from shows this image, or a result of it (the
        panel's button then upscales the original): that editor then shows the new result."""
        shown = availability.editor_image(context)
        if shown is None:
            return False
        found = result_image.pair(shown)
        return shown == image or (found is not None and found[0] == image)

    def job_ended(self, context: bpy.types.Context, view: JobView) -> None:
        self._outcome = apply.conclude(runtime.get(), view)
        self.report({self._outcome.level}, self._outcome.message)
        if self._outcome.applied is not None and self._editor is not None:
            editor_view.show(self._editor, self._outcome.applied.image_name)

    def finish(self, context: bpy.types.Context) -> set[str]:
        return {"FINISHED"} if self._outcome.applied else {"CANCELLED"}
