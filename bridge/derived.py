"""Images derived from others off the main thread: a 2×2 tiled preview, a difference view.

The main thread takes the sources (file path or pixels), a worker decodes, computes and writes a
PNG into the work folder, and the main thread loads it as a new image.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import bpy

from ..core import fidelity, job_view, png
from ..core.journal import new_job_id
from ..core.scheduler import JobContext
from ..core.source import Source
from ..core.states import Stage, ViewStatus
from . import rna, runtime, snapshot
from .modal import JobModalMixin

PixelOp = Callable[[list[Any]], Any]


def pixel_source(image: bpy.types.Image) -> Source:
    """What a worker can decode: the PNG file or packed bytes as they are, else Blender's pixels."""
    return snapshot.decodable_source(image, snapshot.describe(image))


def start(images: list[bpy.types.Image], operation: PixelOp, title: str) -> job_view.JobView:
    """Runs ``operation`` on the decoded pixels of ``images`` in a worker; the view's result is
    the path of the PNG written."""
    rt = runtime.get()
    sources = [pixel_source(image) for image in images]
    local_id = new_job_id()
    target = rt.work_dir / f"{local_id}.png"

    def work(ctx: JobContext) -> str:
        ctx.progress(Stage.PROCESSING)
        decoded = [fidelity.decode_source(source) for source in sources]
        ctx.check_cancelled()
        target.parent.mkdir(parents=True, exist_ok=True)
        png.write_png(target, operation(decoded))
        return str(target)

    return rt.start(job_view.JobView(local_id, title), work)


def load_result(view: job_view.JobView, name: str, like: bpy.types.Image) -> bpy.types.Image:
    """Loads the PNG a derived job wrote, packed so the work folder can be cleaned."""
    image = bpy.data.images.load(str(view.result), check_existing=False)
    image.name = name
    rna.set_colorspace(image, rna.colorspace(like).name)
    image.pack()
    Path(view.result).unlink(missing_ok=True)
    return image


def show(context: bpy.types.Context, image: bpy.types.Image) -> None:
    space = context.space_data
    if isinstance(space, bpy.types.SpaceImageEditor):
        space.image = image


class DerivedImageMixin(JobModalMixin):
    """For operators that ``start`` one derived job: loads its image and shows it."""

    _like: str = ""  # the image whose colour settings the derived one copies
    _note: str = ""
    _colorspace: str = ""
    _marks: dict[str, str] = {}  # custom properties the derived image carries

    def job_ended(self, context: bpy.types.Context, view: job_view.JobView) -> None:
        self._view = view

    def finish(self, context: bpy.types.Context) -> set[str]:
        view = self._view
        runtime.get().forget(view.local_id)
        if view.status != ViewStatus.READY:
            failed = view.status == ViewStatus.FAILED
            self.report({"ERROR"}, view.failure_report if failed else "Cancelled.")  # type: ignore[attr-defined]
            return {"CANCELLED"}
        image = load_result(view, view.title, bpy.data.images[self._like])
        if self._colorspace:
            rna.set_colorspace(image, self._colorspace)
        for key, value in self._marks.items():
            image[key] = value
        show(context, image)
        self.report({"INFO"}, f"Created '{image.name}'{self._note}.")  # type: ignore[attr-defined]
        return {"FINISHED"}
