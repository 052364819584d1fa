"""scenario.answer_price: pay, or not, for an upscale priced above the confirmation limit."""

from __future__ import annotations

import bpy
from bpy.props import BoolProperty, StringProperty

from ..bridge import runtime


class SCENARIO_OT_answer_price(bpy.types.Operator):
    bl_idname = "scenario.answer_price"
    bl_label = "Answer Price"
    bl_description = "Pay the quoted credits and start the upscale, or stop without paying"
    bl_options = {"INTERNAL"}

    local_id: StringProperty(options={"SKIP_SAVE"})  # type: ignore[valid-type]
    pay: BoolProperty(name="Pay", options={"SKIP_SAVE"})  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> set[str]:
        rt = runtime.peek()
        if rt is None or not rt.answer(self.local_id, self.pay):
            self.report({"WARNING"}, "That job is no longer waiting for an answer.")
            return {"CANCELLED"}
        return {"FINISHED"}
