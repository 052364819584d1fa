"""scenario.price_image: what an upscale of the image would cost, asked before paying."""

from __future__ import annotations

import bpy
from bpy.props import StringProperty

from ..api.errors import ScenarioError
from ..api.prices import credits_text
from ..bridge import addon_data, availability, quotes, request, runtime
from ..bridge.modal import JobModalMixin
from ..core.job_view import JobView
from ..core.refusal import Refusal
from ..core.states import ViewStatus
from .upscale_image import ForAnImage


class SCENARIO_OT_price_image(ForAnImage, JobModalMixin, bpy.types.Operator):
    bl_idname = "scenario.price_image"
    bl_label = "Check Price"
    bl_description = (
        "Ask Scenario what upscaling this image with these settings costs, paying nothing: the "
        "image is uploaded and priced (both free), and the upscale that follows reuses the upload"
    )
    bl_options = set()  # nothing to undo, nothing to repeat

    image_name: StringProperty(  # type: ignore[valid-type]
        name="Image", description="Image to price; empty means the Image Editor's image",
        options={"SKIP_SAVE"},
    )

    def execute(self, context: bpy.types.Context) -> set[str]:
        image = (bpy.data.images.get(self.image_name) if self.image_name
                 else availability.editor_image(context))
        settings = addon_data.upscale_settings(context.scene)
        rt = runtime.get()
        try:
            prepared = request.prepare(context, image, "NONE", rt.user_dir, rt.work_dir)
        except (Refusal, ScenarioError) as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        assert image is not None  # prepare refuses None
        quotes.check_only(prepared.job)
        self._check = (quotes.key_of(image, settings), prepared.job, prepared.connection)
        self._name, self._factor = image.name, int(settings.upscale_factor)
        view = rt.start_price(prepared.job, prepared.connection.connect, prepared.facts.name)
        self._priced = False
        return self.follow(context, [view.local_id])

    def job_ended(self, context: bpy.types.Context, view: JobView) -> None:
        rt = runtime.get()
        # A price check buys nothing: it is no job for Recent Jobs, whatever its end.
        rt.forget(view.local_id)
        if view.status == ViewStatus.PRICED:
            key, job, conn = self._check
            quote = quotes.remember(rt, key, job, view.result, conn)
            self._priced = True
            price = "an unknown price" if quote.cost is None else credits_text(quote.cost)
            self.report({"INFO"}, f"Upscaling '{self._name}' ×{self._factor} costs {price}; "
                                  "nothing was spent. Upscale with Scenario reuses the upload.")
        elif view.status == ViewStatus.CANCELLED:
            self.report({"INFO"}, "The price check was cancelled; nothing was spent.")
        else:
            self.report({"ERROR"}, view.failure_report)

    def finish(self, context: bpy.types.Context) -> set[str]:
        return {"FINISHED"} if self._priced else {"CANCELLED"}
