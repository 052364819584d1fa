"""Heavy pixel work in a child process: same results as in the thread, cancellable, and a clear
error (or the thread as before) when the child cannot do it."""

import mmap
import os
import pickle
import queue
import subprocess
import sys
import threading
import time
import traceback

import numpy as np
import pytest
from scenario_texture_upscale.core import fidelity, offload, offload_wire, png
from scenario_texture_upscale.core.scheduler import JobCancelled, JobContext
from scenario_texture_upscale.core.source import BytesSource, FileSource, PixelSource

from .test_fidelity import tileable_rgba, write


@pytest.fixture
def every_image_offloaded(monkeypatch):
    monkeypatch.setattr(offload, "OFFLOAD_MIN_PIXELS", 1)
    yield
    offload.set_enabled(True)


def test_small_images_stay_in_the_thread():
    assert offload.call(os.getpid, pixels=offload.OFFLOAD_MIN_PIXELS - 1) == os.getpid()


def test_big_images_go_to_another_process():
    child = offload.call(os.getpid, pixels=offload.OFFLOAD_MIN_PIXELS)
    assert child != os.getpid()
    assert offload.unavailable_reason() == ""


@pytest.mark.usefixtures("every_image_offloaded")
def test_the_child_gives_the_threads_analysis_and_result(tmp_path):
    source = tileable_rgba(64)
    src = FileSource(str(write(tmp_path / "s.png", source)), "s.png")
    plan = fidelity.FidelityPlan()
    here = fidelity.analyse_source(src, plan)
    there = offload.call(fidelity.analyse_source, src, plan, pixels=64 * 64)
    assert there.seam == here.seam and there.alpha_tileable == here.alpha_tileable
    assert np.array_equal(there.alpha, here.alpha)

    upscaled = source.repeat(2, 0).repeat(2, 1)[:, :, :3]
    in_thread, in_child = write(tmp_path / "a.png", upscaled), write(tmp_path / "b.png", upscaled)
    report_here = fidelity.finish_result(in_thread, plan, here, 2)
    report_there = offload.call(fidelity.finish_result, in_child, plan, there, 2, pixels=128 * 128)
    assert report_there == report_here and report_there.alpha_rebuilt
    assert in_child.read_bytes() == in_thread.read_bytes()


@pytest.mark.usefixtures("every_image_offloaded")
def test_packed_bytes_in_a_mapping_cross_whole(tmp_path):
    data = write(tmp_path / "s.png", tileable_rgba(48)).read_bytes()
    buffer = mmap.mmap(-1, len(data))
    buffer[:] = data
    src = BytesSource(memoryview(buffer), "packed.png")
    analysis = offload.call(fidelity.analyse_source, src, fidelity.FidelityPlan(), pixels=48 * 48)
    assert np.array_equal(analysis.alpha, tileable_rgba(48)[:, :, 3])


def test_converted_pixels_leave_the_float_buffer_behind():
    buffer = np.linspace(0, 1, 256 * 256 * 4, dtype=np.float32)
    src = PixelSource(buffer, 256, 256, "g.png")
    before = len(pickle.dumps(src, protocol=5))
    src.rgba8  # noqa: B018
    after = pickle.loads(pickle.dumps(src, protocol=5))  # noqa: S301
    assert before > buffer.nbytes
    assert after.buffer.size == 0 and np.array_equal(after.rgba8, src.rgba8)


@pytest.mark.usefixtures("every_image_offloaded")
def test_pixel_sources_are_encoded_and_analysed_in_the_child(tmp_path):
    rgba = tileable_rgba(32)
    floats = (rgba[::-1].reshape(-1) / 255).astype(np.float32)  # Blender's rows run bottom-up
    src = PixelSource(floats, 32, 32, "painted")
    src.rgba8  # noqa: B018
    upload, analysis = offload.call(fidelity.prepare_pixels, src, fidelity.FidelityPlan(),
                                    tmp_path, pixels=32 * 32)
    assert np.array_equal(png.decode_png(upload.path), rgba)
    assert np.array_equal(analysis.alpha, rgba[:, :, 3])


@pytest.mark.usefixtures("every_image_offloaded")
def test_errors_come_back_as_themselves(tmp_path):
    (tmp_path / "broken.png").write_bytes(png.PNG_SIGNATURE + b"\0" * 40)
    with pytest.raises(png.PNGError):
        offload.call(png.decode_png, str(tmp_path / "broken.png"), pixels=1)


@pytest.mark.usefixtures("every_image_offloaded")
def test_errors_carry_the_childs_traceback(tmp_path):
    (tmp_path / "broken.png").write_bytes(png.PNG_SIGNATURE + b"\0" * 40)
    with pytest.raises(png.PNGError) as info:
        offload.call(png.decode_png, str(tmp_path / "broken.png"), pixels=1)
    [note] = info.value.__notes__
    assert note.startswith("Raised in the pixel helper process:\nTraceback")
    assert "png.py" in note and "decode_png" in note
    assert "Raised in the pixel helper process" in "".join(traceback.format_exception(info.value))


def test_cancelling_kills_the_child():
    ctx = JobContext("pixels", threading.Event(), queue.Queue())
    threading.Timer(0.3, ctx.cancel).start()
    started = time.monotonic()
    with pytest.raises(JobCancelled):
        offload.call(time.sleep, 60, pixels=offload.OFFLOAD_MIN_PIXELS, ctx=ctx)
    assert time.monotonic() - started < 30, "killed, not slept out"
    assert ctx._on_cancel == [], "its kill is no longer called on a cancel"


def test_a_child_that_dies_is_an_error_that_says_so():
    with pytest.raises(offload.OffloadError, match="exit code 7"):
        offload.call(os._exit, 7, pixels=offload.OFFLOAD_MIN_PIXELS)
    assert offload.unavailable_reason() == ""


@pytest.mark.parametrize("python", ["/nonexistent/python3", "/bin/false"])
def test_without_a_usable_python_the_work_stays_in_the_thread(monkeypatch, python):
    monkeypatch.setattr(sys, "executable", python)
    try:
        assert offload.call(os.getpid, pixels=offload.OFFLOAD_MIN_PIXELS) == os.getpid()
        assert python in offload.unavailable_reason()
        assert offload.call(os.getpid, pixels=offload.OFFLOAD_MIN_PIXELS) == os.getpid()
    finally:
        offload.set_enabled(True)


def test_the_child_exits_when_blender_goes_away():
    child = subprocess.Popen(
        [sys.executable, "-I", offload._CHILD_SCRIPT, offload.ADDON_PACKAGE, offload._ROOT],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert child.stdout.read(1) == offload_wire.READY
    offload_wire.send(child.stdin, (time.sleep, (60,)))
    child.stdin.flush()
    child.stdin.close()  # what Blender's exit does to the pipe
    assert child.wait(timeout=20) == 3
    child.stdout.close()


def test_the_child_imports_the_add_on_under_an_installed_extensions_name():
    name = "bl_ext.user_default.scenario_texture_upscale"
    child = subprocess.Popen([sys.executable, "-I", offload._CHILD_SCRIPT, name, offload._ROOT],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert child.stdout.read(1) == offload_wire.READY, "its imports worked"
    offload_wire.send(child.stdin, (os.getpid, ()))
    child.stdin.flush()
    assert offload_wire.receive(child.stdout) == ("ok", child.pid)
    child.stdin.close()
    child.wait(timeout=20)
    child.stdout.close()
