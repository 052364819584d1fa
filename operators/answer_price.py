"""scenario.answer_price: pay, or not, for an upscale (or a batch) priced above the
confirmation limit."""

from __future__ import annotations

import bpy
from bpy.props import BoolProperty, StringProperty

from ..bridge import batch_conclude, runtime


class SCENARIO_OT_answer_price(bpy.types.Operator):
    bl_idname = "scenario.answer_price"
    bl_label = "Answer Price"
    bl_options = {"INTERNAL"}

    local_id: StringProperty(options={"SKIP_SAVE"})  # type: ignore[valid-type]
    batch_id: StringProperty(  # type: ignore[valid-type]
        options={"SKIP_SAVE"}, description="A batch priced whole: the answer is for all of it",
    )
    pay: BoolProperty(name="Pay", options={"SKIP_SAVE"})  # type: ignore[valid-type]

    @classmethod
    def description(cls, context: bpy.types.Context, properties: bpy.types.OperatorProperties
                    ) -> str:
        if properties.pay:
            return "Pay the price shown and start the upscale"
        return "Stop without paying anything: nothing is sent to be upscaled"

    def execute(self, context: bpy.types.Context) -> set[str]:
        rt = runtime.peek()
        if rt is None:
            answered = False
        elif self.batch_id:
            batch = rt.batches.get(self.batch_id)
            answered = batch is not None and batch_conclude.answer(rt, batch, self.pay)
        else:
            answered = rt.answer(self.local_id, self.pay)
        if not answered:
            self.report({"WARNING"}, "That upscale is no longer waiting for an answer.")
            return {"CANCELLED"}
        return {"FINISHED"}
