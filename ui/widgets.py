"""Typed ways to the UILayout calls the stubs (fake-bpy-module) type loosely: icon names, a
button whose operator properties are set, and a folding sub-panel."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

import bpy

if TYPE_CHECKING:
    from typing import Unpack

    from bpy.stub_internal.rna_enums import IconItems as Icon  # the names Blender knows
else:
    Icon = str


class ButtonOptions(TypedDict, total=False):
    """What this add-on passes to ``UILayout.operator()`` besides the operator."""

    text: str
    icon: Icon
    depress: bool


def button(layout: bpy.types.UILayout, operator: str,
           **options: Unpack[ButtonOptions]) -> bpy.types.OperatorProperties:
    """``layout.operator(operator, ...)``, for a button whose properties are then set. Blender
    hands back None only for an operator it does not know: these are all registered."""
    properties = layout.operator(operator, **options)
    assert properties is not None, operator
    return properties


def fold(layout: bpy.types.UILayout, idname: str,
         default_closed: bool) -> tuple[bpy.types.UILayout, bpy.types.UILayout | None]:
    """``layout.panel()``: the header, and the body or None while folded."""
    header: bpy.types.UILayout
    body: bpy.types.UILayout | None
    # The 4.2 stubs say panel() returns None.
    header, body = layout.panel(idname, default_closed=default_closed)  # type: ignore[misc]
    return header, body


__all__ = ["ButtonOptions", "Icon", "button", "fold"]
