"""scenario.upscale_image: upscale one image and switch the nodes in scope to the result."""

from __future__ import annotations

import bpy
from bpy.props import EnumProperty, StringProperty

from ..api.errors import ScenarioError
from ..bridge import apply, availability, request, runtime
from ..bridge.modal import JobModalMixin
from ..bridge.settings import SCOPE_ITEMS
from ..core import journal as J
from ..core.refusal import Refusal


class SCENARIO_OT_upscale_image(JobModalMixin, bpy.types.Operator):
    bl_idname = "scenario.upscale_image"
    bl_label = "Upscale with Scenario"
    bl_description = (
        "Upscale the image with Scenario, save the result beside the .blend and use it in the "
        "materials in scope. The original image and its file are never changed"
    )
    bl_options = {"REGISTER", "UNDO"}

    image_name: StringProperty(  # type: ignore[valid-type]
        name="Image", description="Image to upscale; empty means the Image Editor's image",
        options={"SKIP_SAVE"},
    )
    scope: EnumProperty(  # type: ignore[valid-type]
        name="Apply To", items=SCOPE_ITEMS, default="SELECTED_OBJECTS", options={"SKIP_SAVE"}
    )

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        reason = availability.why_cannot_upscale(context)
        if reason:
            cls.poll_message_set(reason)
        return reason is None

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        return self.execute(context)

    def execute(self, context: bpy.types.Context) -> set[str]:
        if self.image_name:
            image = bpy.data.images.get(self.image_name)
            if image is None:
                self.report({"ERROR"}, f"There is no image named '{self.image_name}'.")
                return {"CANCELLED"}
        else:
            image = availability.editor_image(context)
        if self.properties.is_property_set("scope"):
            scope_name = self.scope
        else:
            scope_name = context.scene.scenario_upscale.scope
        rt = runtime.get()
        try:
            prepared = request.prepare(context, image, scope_name, rt.user_dir, rt.work_dir)
        except (Refusal, ScenarioError) as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        for note in prepared.facts.notes:
            self.report({"INFO"}, note)
        view = rt.start_upscale(prepared.job, prepared.connection.connect, prepared.facts.name)
        return self.follow(context, view.local_id)

    def conclude(self, context: bpy.types.Context, view: runtime.JobView) -> set[str]:
        record = view.record
        assert record is not None
        if view.status == runtime.READY:
            try:
                done = apply.finish(runtime.get(), view)
            except (OSError, RuntimeError) as exc:
                view.status, view.message = runtime.FAILED, str(exc)
                self.report({"ERROR"}, f"The result was saved to {record.result_path} but could "
                                       f"not be loaded into Blender: {exc}")
                return {"CANCELLED"}
            self.report({"INFO"}, (
                f"Upscaled '{record.source_image}' to {done.width}×{done.height} px in "
                f"{view.elapsed:.0f} s: {done.nodes_switched} node(s) now use '{done.image_name}', "
                f"saved to {done.path}."
            ))
            return {"FINISHED"}
        if view.status == runtime.CANCELLED:
            if record.state == J.ABANDONED:
                self.report({"WARNING"}, (
                    f"Stopped waiting for Scenario job {record.job_id}. Scenario cannot cancel it, "
                    "so it may still finish and be charged: collect the result later from "
                    "Recent jobs."
                ))
            else:
                self.report({"WARNING"}, record.error or "Cancelled; nothing was charged.")
            return {"CANCELLED"}
        self.report({"ERROR"}, view.message or "The upscale failed.")
        return {"CANCELLED"}
