"""A stand-in for Blender's UILayout, so panels can be drawn headless: it records what is drawn
and checks every property and operator name against the real RNA, as Blender would."""

from __future__ import annotations

from types import SimpleNamespace

import bpy


def draw(panel_class, image: bpy.types.Image | None) -> list:
    """What an Image Editor panel draws with ``image`` open."""
    log: list = []
    context = SimpleNamespace(
        scene=bpy.context.scene, preferences=bpy.context.preferences, screen=None,
        window_manager=bpy.context.window_manager,
        space_data=SimpleNamespace(type="IMAGE_EDITOR", image=image),
    )
    panel_class.draw(SimpleNamespace(layout=FakeLayout(log)), context)
    return log


def texts(log: list) -> str:
    return " | ".join(str(e[1]) for e in log if isinstance(e, tuple) and e[0] != "enabled")


def operators(log: list) -> list[str]:
    return [e.idname for e in log if isinstance(e, FakeOperator)]


def enabled_when_drawn(log: list, idname: str) -> list[bool]:
    """For each button of operator ``idname``: whether its layout was left enabled."""
    states, enabled = [], True
    for entry in log:
        if isinstance(entry, tuple) and entry[0] == "enabled":
            enabled = entry[1]
        elif isinstance(entry, FakeOperator):
            if entry.idname == idname:
                states.append(enabled)
            enabled = True
    return states


class FakeLayout:
    """Records what a panel draws, checking property and operator names as Blender would."""

    def __init__(self, log: list) -> None:
        self.log = log

    def __setattr__(self, name: str, value) -> None:
        if name == "enabled":  # recorded: the next button drawn is greyed out when False
            self.log.append(("enabled", value))
        object.__setattr__(self, name, value)

    def _child(self, *args, **kwargs) -> FakeLayout:
        return FakeLayout(self.log)

    column = row = split = box = grid_flow = _child

    def panel(self, idname: str, default_closed: bool = False) -> tuple[FakeLayout, FakeLayout]:
        return FakeLayout(self.log), FakeLayout(self.log)

    def label(self, text: str = "", icon: str = "NONE") -> None:
        self.log.append(("label", text))

    def separator(self) -> None:
        pass

    def progress(self, factor: float = 0.0, type: str = "BAR", text: str = "") -> None:
        assert 0.0 <= factor <= 1.0
        self.log.append(("progress", text))

    def prop(self, data, name: str, text: str | None = None, **options) -> None:
        assert name in data.bl_rna.properties, name
        self.log.append(("prop", name))

    def template_icon(self, icon_value: int = 0, scale: float = 1.0) -> None:
        self.log.append(("template_icon", scale))

    def icon(self, data) -> int:
        assert isinstance(data, bpy.types.ID), data
        return 0

    def operator(self, idname: str, text: str = "", icon: str = "NONE",
                 depress: bool = False) -> FakeOperator:
        category, name = idname.split(".")
        rna = getattr(getattr(bpy.ops, category), name).get_rna_type()
        props = FakeOperator(rna, idname)
        object.__setattr__(props, "text", text)  # as the button reads ("": the operator's label)
        self.log.append(props)
        return props

    def template_list(self, list_type: str, list_id: str, data, prop: str, active_data,
                      active_prop: str, rows: int = 5) -> None:
        ui_list = getattr(bpy.types, list_type)
        self.log.append(("list", list_type))
        for index, item in enumerate(getattr(data, prop)):
            ui_list.draw_item(None, bpy.context, self, data, item, 0, active_data, active_prop,
                              index)


class FakeOperator:
    def __init__(self, rna, idname: str) -> None:
        object.__setattr__(self, "rna", rna)
        object.__setattr__(self, "idname", idname)
        object.__setattr__(self, "values", {})

    def __setattr__(self, name: str, value) -> None:
        assert name in self.rna.properties, name
        self.values[name] = value


class Drawing:
    """``self`` for a draw method: the stand-in layout, and the real object's properties."""

    def __init__(self, layout: FakeLayout, target: object = None) -> None:
        object.__setattr__(self, "layout", layout)
        object.__setattr__(self, "_target", target)

    def __getattr__(self, name: str) -> object:
        return getattr(self._target, name)
