"""Runs inside a windowed Blender: steps one test case from persistent timers, as a user's
session would go, and writes what it saw to JSON for pytest on the host to assert.

A case is a generator ``steps(h)`` that yields the seconds to wait before its next step.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import traceback
import urllib.request
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import bpy

MODULE = "bl_ext.user_default.scenario_texture_upscale"
Steps = Generator[float, None, None]


class Harness:
    def __init__(self, case: Path, result: Path) -> None:
        self.case = case
        self.result = result
        self.findings: dict[str, Any] = {"errors": [], "reports": []}
        self.started = time.monotonic()

    # --- what the case found ---------------------------------------------------------------
    def note(self, key: str, value: Any) -> None:
        self.findings[key] = value

    def save(self) -> None:
        self.result.write_text(json.dumps(self.findings, indent=1, default=str))

    # --- the add-on ------------------------------------------------------------------------
    def addon(self, name: str = "") -> Any:
        """The installed add-on's package, or one of its modules ("bridge.runtime")."""
        return sys.modules[f"{MODULE}.{name}" if name else MODULE]

    def runtime(self) -> Any:
        return self.addon("bridge.runtime").peek()

    def jobs(self) -> list[Any]:
        rt = self.runtime()
        return list(rt.jobs.values()) if rt else []

    # --- the window ------------------------------------------------------------------------
    def window(self) -> bpy.types.Window:
        return bpy.context.window_manager.windows[0]

    def image_editor(self, image: bpy.types.Image | None = None) -> bpy.types.Area:
        """The window's largest area turned into an Image Editor with its sidebar shown."""
        screen = self.window().screen
        area = next((a for a in screen.areas if a.type == "IMAGE_EDITOR"), None)
        if area is None:
            area = max(screen.areas, key=lambda a: a.width * a.height)
            area.type = "IMAGE_EDITOR"
        space = area.spaces.active
        space.show_region_ui = True
        if image is not None:
            space.image = image
        return area

    def shader_editor(self) -> bpy.types.Area:
        """The window's largest area other than the Image Editor as a Shader Editor, its
        sidebar hidden (it would cover a small area): it shows the active object's active
        material."""
        screen = self.window().screen
        area = next((a for a in screen.areas if a.type == "NODE_EDITOR"), None)
        if area is None:
            others = [a for a in screen.areas if a.type != "IMAGE_EDITOR"]
            area = max(others, key=lambda a: a.width * a.height)
            area.type = "NODE_EDITOR"
        space = area.spaces.active
        space.tree_type = "ShaderNodeTree"
        space.show_region_ui = False
        return area

    def region(self, area: bpy.types.Area, kind: str = "WINDOW") -> bpy.types.Region:
        return next(r for r in area.regions if r.type == kind)

    @contextmanager
    def over(self, area: bpy.types.Area, kind: str = "WINDOW") -> Iterator[None]:
        """The context a click in ``area``'s ``kind`` region gives. Operators called in it
        should be called as ``ui_call`` does."""
        window = self.window()
        with bpy.context.temp_override(window=window, screen=window.screen, area=area,
                                       region=self.region(area, kind)):
            yield

    def invoke(self, area: bpy.types.Area, call: Callable[..., set[str]], kind: str = "WINDOW",
               **props: Any) -> set[str]:
        """``call`` as a click on its button in ``area`` runs it."""
        with self.over(area, kind):
            return ui_call(call, "INVOKE_DEFAULT", **props)

    def screen_point(self, region: bpy.types.Region, x: float, y: float) -> tuple[int, int]:
        """Region coordinates (from its bottom left) to X screen coordinates (from top left)."""
        return int(region.x + x), int(self.window().height - (region.y + y))

    def xdotool(self, *args: str) -> None:
        subprocess.run(["xdotool", *args], check=True, timeout=10)

    def click(self, x: int, y: int) -> None:
        self.xdotool("mousemove", str(x), str(y), "click", "1")

    def key(self, area: bpy.types.Area, name: str) -> None:
        """A real key press with the pointer over ``area``."""
        region = self.region(area)
        self.xdotool("mousemove", *map(str, self.screen_point(region, region.width / 2,
                                                               region.height / 2)))
        self.xdotool("key", name)

    def search(self, area: bpy.types.Area, text: str) -> Steps:
        """Menu search (what F3 runs) over ``area``, ``text`` typed, Enter: the first match
        runs, as for an artist. Opened by its operator, not the key: the first search of a
        session can take a while to open, and keys typed before it is open would go to the
        editor as shortcuts."""
        with self.over(area):
            ui_call(bpy.ops.wm.search_menu, "INVOKE_DEFAULT")
        yield 1.5
        self.xdotool("type", "--delay", "30", text)
        yield 0.8
        self.screenshot(f"search_{text.replace(' ', '_')}")
        self.xdotool("key", "Return")
        yield 0.5

    def reports(self) -> list[str]:
        """This session's reports, as the Info editor lists them, copied with its own
        operator (through the clipboard)."""
        screen = self.window().screen
        area = min(screen.areas, key=lambda a: a.width * a.height)
        kind = area.type
        area.type = "INFO"
        try:
            with self.over(area):
                bpy.ops.info.select_all(action="SELECT")
                bpy.ops.info.report_copy()
        finally:
            area.type = kind
        return bpy.context.window_manager.clipboard.splitlines()

    def sidebar_tab(self, area: bpy.types.Area, category: str) -> Steps:
        """Clicks down the sidebar's tab strip until ``category`` is the active tab."""
        ui = self.region(area, "UI")
        for step in range(40):
            if ui.active_panel_category == category:
                return
            x, y = self.screen_point(ui, ui.width - 9, ui.height - 30 - step * 18)
            self.click(x, y)
            yield 0.5  # beyond the double-click time: two quick clicks fold the tab
        raise AssertionError(f"no sidebar tab '{category}' (active: {ui.active_panel_category})")

    def screenshot(self, name: str, region: bpy.types.Region | None = None) -> Path:
        """The screen, or only ``region`` of it, as ``name``.png in the case folder."""
        path = self.case / f"{name}.png"
        crop = []
        if region is not None:
            x, y = self.screen_point(region, 0, region.height)
            crop = ["-crop", f"{region.width}x{region.height}+{x}+{y}"]
        subprocess.run(["import", "-window", "root", *crop, str(path)], check=True, timeout=30)
        self.findings.setdefault("screenshots", []).append(str(path))
        return path

    # --- waiting ---------------------------------------------------------------------------
    def wait_for(self, predicate: Callable[[], Any], what: str, timeout: float = 60.0,
                 every: float = 0.05) -> Steps:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
            yield every

    # --- the emulator ----------------------------------------------------------------------
    def emulator(self, path: str, body: Any = None) -> Any:
        root = os.environ["SCENARIO_BASE_URL"].rsplit("/v1", 1)[0]
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(root + path, data=data, method="GET" if data is None
                                         else "POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def requests(self) -> list[dict[str, Any]]:
        """The emulator's request log."""
        got = self.emulator("/_emulator/requests")
        return got if isinstance(got, list) else got["requests"]

    def paid_generates(self) -> int:
        return sum(1 for r in self.requests() if r["method"] == "POST"
                   and r["path"].startswith("/v1/generate") and r["status"] == 200
                   and "dryRun" not in (r.get("query") or {}))

    def requests_count(self) -> int:
        return len(self.requests())


def ui_call(call: Callable[..., set[str]], how: str = "EXEC_DEFAULT", **props: Any) -> set[str]:
    """An operator called as the UI calls it. From Python, Blender holds back the undo pushes
    of the operator and of everything it runs (a redo's re-execution too) unless the call says
    otherwise: the ``True``."""
    return call(how, True, **props)


def failing(error: str) -> Callable[[Harness], Steps]:
    """A case that could not even be loaded: it reports why and ends."""
    def steps(h: Harness) -> Steps:
        h.findings["errors"].append(error)
        yield 0.0
    return steps


def run(steps: Callable[[Harness], Steps], case: Path, result: Path) -> None:
    """Steps the case from a persistent timer (it survives file loads); quits when done."""
    h = Harness(case, result)
    generator = steps(h)

    def tick() -> float | None:
        try:
            wait = next(generator)
        except StopIteration:
            wait = None
        except Exception:  # the case failed: say where, then quit like any other end
            h.findings["errors"].append(traceback.format_exc())
            wait = None
        if wait is not None:
            return wait
        h.findings["seconds"] = time.monotonic() - h.started
        h.save()
        if h.findings.get("quit", True):
            bpy.ops.wm.quit_blender()
        return None

    bpy.app.timers.register(tick, first_interval=1.0, persistent=True)
