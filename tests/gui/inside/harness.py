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
import numpy as np
from headers import closed_chevrons

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

    def screen_point(self, region: bpy.types.Region, x: float, y: float,
                     window: bpy.types.Window | None = None) -> tuple[int, int]:
        """Region coordinates (from its bottom left) to X screen coordinates (from top left),
        in the main window or ``window`` (found on screen by its title, as X placed it)."""
        window = window or self.window()
        left, top = self.window_origin(window)
        return int(left + region.x + x), int(top + window.height - (region.y + y))

    def window_origin(self, window: bpy.types.Window) -> tuple[int, int]:
        """Where X put ``window`` (see ``place``)."""
        if window == self.window():
            return 0, 0  # opened at the screen's top left (launcher.GEOMETRY)
        values = self._x_window(window)[1]
        return int(values["X"]), int(values["Y"])

    def place(self, window: bpy.types.Window, x: int, y: int) -> None:
        """Moves another Blender window (the Preferences) to ``x``, ``y`` on the screen: X
        may have put it partly off the screen."""
        self.xdotool("windowmove", self._x_window(window)[0], str(x), str(y))

    _x_ids: dict[int, str] = {}

    def _x_window(self, window: bpy.types.Window) -> tuple[str, dict[str, str]]:
        """The top-level X window of ``window`` (found once by its size: Blender's windows
        are the only ones here) and its geometry."""
        known = self._x_ids.get(window.as_pointer())
        ids = [known] if known else subprocess.run(
            ["xdotool", "search", "--onlyvisible", "--name", ""], capture_output=True,
            text=True, timeout=10).stdout.split()
        for found in ids:
            geometry = subprocess.run(["xdotool", "getwindowgeometry", "--shell", found],
                                      capture_output=True, text=True, timeout=10).stdout
            values = dict(line.split("=", 1) for line in geometry.split() if "=" in line)
            if known or (int(values.get("WIDTH", -1)), int(values.get("HEIGHT", -1))) == (
                    window.width, window.height):
                self._x_ids[window.as_pointer()] = found
                return found, values
        raise AssertionError(f"no X window of {window.width}×{window.height} px among {ids}")

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

    def screenshot(self, name: str, region: bpy.types.Region | None = None,
                   window: bpy.types.Window | None = None) -> Path:
        """The screen, or only ``region`` of it, as ``name``.png in the case folder."""
        path = self.case / f"{name}.png"
        subprocess.run(["import", "-window", "root", *self._crop(region, window), str(path)],
                       check=True, timeout=30)
        self.findings.setdefault("screenshots", []).append(str(path))
        return path

    def _crop(self, region: bpy.types.Region | None,
              window: bpy.types.Window | None = None) -> list[str]:
        if region is None:
            return []
        x, y = self.screen_point(region, 0, region.height, window)
        return ["-crop", f"{region.width}x{region.height}+{x}+{y}"]

    def gray(self, region: bpy.types.Region, window: bpy.types.Window | None = None
             ) -> np.ndarray:
        """``region`` as it is on screen, grey levels, rows from the top."""
        raw = subprocess.run(["import", "-window", "root", *self._crop(region, window), "-depth",
                              "8", "gray:-"], check=True, timeout=30, capture_output=True).stdout
        return np.frombuffer(raw, dtype=np.uint8).reshape(region.height, region.width)

    # --- panels: scrolled, photographed whole, opened by a click on their header -------------
    def view_top(self, region: bpy.types.Region) -> float:
        """Where the region's view starts (changes when it scrolls)."""
        return float(region.view2d.region_to_view(0, region.height)[1])

    def wheel(self, area: bpy.types.Area, kind: str, clicks: int,
              window: bpy.types.Window | None = None) -> Steps:
        """Mouse-wheel clicks over the region, down (up when negative), as an artist
        scrolls: the pointer at the panels' left margin, clear of the region's resize edge
        and of lists (which would scroll instead). view2d.scroll_down does not move a
        temporary window's region (the Preferences), the wheel does everywhere."""
        region = self.region(area, kind)
        margin = 10 * bpy.context.preferences.view.ui_scale
        x, y = self.screen_point(region, margin, region.height / 2, window)
        self.xdotool("mousemove", str(x), str(y))
        yield 0.2
        self.xdotool("click", "--repeat", str(abs(clicks)), "--delay", "10",
                     "5" if clicks > 0 else "4")
        # Blender may take a while through a hundred clicks: until the view stops moving.
        top, still = self.view_top(region), 0
        for _check in range(40):
            yield 0.15
            now = self.view_top(region)
            still = still + 1 if now == top else 0
            top = now
            if still >= 2:
                break

    def photograph(self, area: bpy.types.Area, name: str, kind: str = "UI",
                   window: bpy.types.Window | None = None, start: float = 0.0) -> Steps:
        """The whole region: from its top (or about ``start`` pixels below it), then about
        half a region lower at a time until its end (pages overlap, so every line is whole
        in one of them), as ``name``, ``name``_1, …"""
        region = self.region(area, kind)
        wheel_px = 40 * bpy.context.preferences.view.ui_scale  # one wheel click scrolls this
        step = max(1, int(0.5 * region.height / wheel_px))
        yield from self.wheel(area, kind, -100, window)
        if start >= wheel_px:
            yield from self.wheel(area, kind, int(start // wheel_px), window)
        for page in range(12):
            self.screenshot(name if page == 0 else f"{name}_{page}", region, window)
            top = self.view_top(region)
            yield from self.wheel(area, kind, step, window)
            if self.view_top(region) == top:
                break  # at its end
        yield from self.wheel(area, kind, -100, window)

    @contextmanager
    def drawing(self, owner: Any, name: str = "draw") -> Iterator[list[int]]:
        """Counts the calls of ``owner.name`` (a panel's draw): whether it is open."""
        calls: list[int] = []
        plain = getattr(owner, name)

        def counting(*args: Any) -> Any:
            calls.append(1)
            return plain(*args)

        # Blender passes as many arguments as a draw function names: spelled out.
        if name == "draw":
            def draw(self: Any, context: bpy.types.Context) -> Any:
                return counting(self, context)
            setattr(owner, name, draw)
        else:
            setattr(owner, name, counting)
        try:
            yield calls
        finally:
            setattr(owner, name, plain)

    def open_panel(self, area: bpy.types.Area, calls: list[int], what: str, kind: str = "UI",
                   window: bpy.types.Window | None = None, alone: bool = False) -> Steps:
        """Opens the closed panel ``what`` with a click on its header, as an artist does. No
        API says where a header is drawn: the region is scrolled to its end, its closed
        chevrons are found in its pixels, and they are clicked from the end up until the
        panel draws (``calls``, from ``drawing``); a header that opens another panel is
        clicked again to close it. ``alone``: Ctrl+click, which folds every other panel."""
        region = self.region(area, kind)
        scale = bpy.context.preferences.view.ui_scale
        for _twice in range(2):  # a region just drawn longer may not scroll all the way at once
            yield from self.wheel(area, kind, 100, window)
        calls.clear()
        region.tag_redraw()
        yield 0.6
        if calls:  # open already (a region keeps its panels' state)
            self.findings.setdefault("open_already", []).append(what)
            yield from self.wheel(area, kind, -100, window)
            return
        tried: list[tuple[int, int]] = []
        for _attempt in range(12):
            found = [c for c in closed_chevrons(self.gray(region, window), scale)
                     if c not in tried]
            if not found:
                break
            x, y = found[-1]
            tried.append((x, y))
            point = self.screen_point(region, x, region.height - y, window)
            calls.clear()
            self.click(*point)
            yield 0.8  # beyond the double-click time
            if calls:
                if alone:  # Ctrl+click on it: the only panel open (the modifier held first)
                    self.xdotool("keydown", "Control_L")
                    yield 0.2
                    self.xdotool("click", "1")
                    yield 0.2
                    self.xdotool("keyup", "Control_L")
                    yield 0.8
                    calls.clear()
                    region.tag_redraw()
                    yield 0.5
                    if not calls:
                        raise AssertionError(f"Ctrl+click folded {what} too")
                self.findings.setdefault("opened", []).append(what)
                yield from self.wheel(area, kind, -100, window)
                return
            self.click(*point)  # another panel's: closed again
            yield 0.8
        self.screenshot(f"not_opened_{what.replace(' ', '_')}", region, window)
        raise AssertionError(f"no header on screen opens {what} (tried {tried})")

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
