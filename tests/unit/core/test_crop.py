"""The preview's crop: where it lies, and its pixels cut from a PNG or Blender's buffer, exactly,
with the region's origin at the bottom left as Blender stores pixels."""

from __future__ import annotations

import queue
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scenario_texture_upscale.core import crop, png
from scenario_texture_upscale.core.crop import Region
from scenario_texture_upscale.core.scheduler import JobCancelled, JobContext
from scenario_texture_upscale.core.source import BytesSource, FileSource, PixelSource


def test_a_crop_is_centred_on_the_point_and_shifted_inside_the_image() -> None:
    assert crop.around(500, 300, 256, 1024, 1024) == Region(372, 172, 256, 256)
    assert crop.around(10, 1020, 256, 1024, 1024) == Region(0, 768, 256, 256)
    assert crop.around(2000, -50, 512, 1024, 768) == Region(512, 0, 512, 512)
    assert crop.around(40, 40, 512, 100, 60) == Region(0, 0, 100, 60), "never larger than it"


def test_a_region_outside_the_image_or_too_small_is_named() -> None:
    with pytest.raises(ValueError, match=r"does not lie inside the 64×64 px image"):
        crop.check_inside(Region(40, 0, 32, 32), 64, 64)
    with pytest.raises(ValueError, match=r"at least 16×16"):
        crop.check_inside(Region(0, 0, 8, 32), 64, 64)
    crop.check_inside(Region(32, 32, 32, 32), 64, 64)


def noise(height: int, width: int, channels: int, dtype=np.uint8) -> np.ndarray:
    top = 65535 if dtype == np.uint16 else 255
    rng = np.random.default_rng(height * width + channels)
    return rng.integers(0, top, (height, width, channels), dtype=dtype)


@pytest.mark.parametrize("channels,dtype", [(3, np.uint8), (4, np.uint8), (1, np.uint8),
                                            (4, np.uint16)])
def test_a_png_crop_is_exactly_the_region_counted_from_the_bottom(tmp_path, channels,
                                                                   dtype) -> None:
    image = noise(300, 200, channels, dtype)  # top-down, as the file stores it
    source = tmp_path / "src.png"
    png.write_png(source, image)
    region = Region(x=30, y=40, width=64, height=50)

    made = crop.crop_source(FileSource(str(source), "src.png"), region, str(tmp_path / "c.png"))

    cut = png.read_png(made.path)
    # Bottom-left origin: the region's bottom row is image row 300 - 40 - 1 from the top.
    expected = image[300 - 40 - 50:300 - 40, 30:94]
    assert cut.pixels.shape == (50, 64, channels)
    assert np.array_equal(cut.pixels, expected)
    assert cut.bit_depth == (16 if dtype == np.uint16 else 8)


def test_rows_below_the_region_are_never_inflated(tmp_path, monkeypatch) -> None:
    image = noise(2048, 64, 3)
    source = tmp_path / "tall.png"
    png.write_png(source, image)
    seen: list[int] = []
    real = png.RowStream.blocks

    def counting(self, rows=None):
        for top, block in real(self, 64):
            seen.append(top + block.shape[0])
            yield top, block

    monkeypatch.setattr(png.RowStream, "blocks", counting)
    crop.crop_source(FileSource(str(source), "tall.png"), Region(0, 1900, 64, 64),
                     str(tmp_path / "c.png"))

    assert max(seen) <= 256, "a region near the top reads only the rows down to it"


def test_packed_bytes_and_palette_pngs_are_cut_too(tmp_path) -> None:
    rgb = noise(80, 90, 3)
    Image.fromarray(rgb).convert("P", palette=Image.ADAPTIVE).save(tmp_path / "p.png")
    expected = np.asarray(Image.open(tmp_path / "p.png").convert("RGB"))
    data = (tmp_path / "p.png").read_bytes()

    made = crop.crop_source(BytesSource(memoryview(data), "p.png"), Region(10, 5, 40, 30),
                            str(tmp_path / "c.png"))

    assert np.array_equal(png.decode_png(made.path), expected[80 - 35:80 - 5, 10:50])


def test_blender_pixels_are_cut_bottom_up_and_sent_as_an_upscale_would(tmp_path) -> None:
    height, width = 40, 50
    rows = np.arange(height, dtype=np.float32)[:, None] / 100  # row index, bottom-up
    buffer = np.zeros((height, width, 4), dtype=np.float32)
    buffer[:, :, 0] = rows
    buffer[:, :, 1] = np.arange(width, dtype=np.float32)[None, :] / 100
    buffer[:, :, 3] = 1.0
    source = PixelSource(buffer.reshape(-1), width, height, "gen.png")

    made = crop.crop_pixels(source, Region(5, 10, 20, 16), str(tmp_path / "c.png"))

    cut = png.decode_png(made.path)
    assert cut.shape == (16, 20, 3), "opaque: no alpha channel, as an upscale sends it"
    # The crop's top row is Blender's row 10 + 16 - 1; its left column is column 5.
    assert cut[0, 0, 0] == round(25 / 100 * 255) and cut[-1, 0, 0] == round(10 / 100 * 255)
    assert cut[0, 0, 1] == round(5 / 100 * 255)


def test_a_region_outside_a_png_says_the_image_changed(tmp_path) -> None:
    png.write_png(tmp_path / "s.png", noise(32, 32, 3))
    with pytest.raises(ValueError, match="changed since the preview started"):
        crop.crop_source(FileSource(str(tmp_path / "s.png"), "s"), Region(16, 16, 32, 32),
                         str(tmp_path / "c.png"))


def test_only_formats_other_than_png_need_a_helper_blender(tmp_path) -> None:
    png.write_png(tmp_path / "a.png", noise(16, 16, 3))
    Image.fromarray(noise(16, 16, 3)).save(tmp_path / "a.jpg")
    assert not crop.needs_blender(FileSource(str(tmp_path / "a.png"), "a"))
    assert crop.needs_blender(FileSource(str(tmp_path / "a.jpg"), "a"))
    assert crop.needs_blender(BytesSource((tmp_path / "a.jpg").read_bytes(), "a"))
    assert not crop.needs_blender(PixelSource(np.zeros(16 * 16 * 4, np.float32), 16, 16, "g"))


def test_the_stand_in_is_a_valid_png_of_the_size_and_tiny(tmp_path) -> None:
    path = crop.stand_in(3000, 2000, str(tmp_path / "s.png"))
    with Image.open(path) as image:
        image.load()
        assert image.size == (3000, 2000) and image.getextrema() == (128, 128)
    assert Path(path).stat().st_size < 20_000


def test_the_reference_is_the_crop_resampled_to_the_preview_size(tmp_path) -> None:
    png.write_png(tmp_path / "c.png", np.full((32, 48, 3), 77, np.uint8))
    crop.original_like(str(tmp_path / "c.png"), 96, 64, str(tmp_path / "o.png"))
    out = png.decode_png(tmp_path / "o.png")
    assert out.shape == (64, 96, 3) and out.min() == out.max() == 77


def test_a_helper_that_cannot_read_the_file_says_why(tmp_path) -> None:
    helper = [sys.executable, "-c", "print('SCENARIO_CROP_ERROR Blender could not read x.jpg "
              "as an image.'); raise SystemExit(1)"]
    with pytest.raises(crop.CropHelperError, match="Blender could not read x.jpg"):
        crop.crop_with_blender(helper, "x.jpg", Region(0, 0, 16, 16), tmp_path,
                               str(tmp_path / "c.png"), is_data=False, keep_alpha=True)
    with pytest.raises(crop.CropHelperError, match="could not be started"):
        crop.crop_with_blender([str(tmp_path / "no-blender")], "x.jpg", Region(0, 0, 16, 16),
                               tmp_path, str(tmp_path / "c.png"), is_data=False, keep_alpha=True)
    assert not (tmp_path / "c.png").exists() and not list(tmp_path.glob("crop-*.npy"))


@pytest.mark.parametrize("when", ["while it runs", "before it starts"])
def test_a_cancel_stops_the_helper_at_once(tmp_path, when) -> None:
    ctx = JobContext("crop", threading.Event(), queue.Queue())
    helper = [sys.executable, "-c", "import time; time.sleep(60)"]
    if when == "before it starts":
        ctx.cancel()
    else:
        threading.Timer(0.3, ctx.cancel).start()
    started = time.monotonic()
    with pytest.raises(JobCancelled):
        crop.crop_with_blender(helper, "x.jpg", Region(0, 0, 16, 16), tmp_path,
                               str(tmp_path / "c.png"), is_data=False, keep_alpha=True, ctx=ctx)
    assert time.monotonic() - started < 30, "killed, not slept out"
    assert ctx._on_cancel == [], "its kill is no longer called on a cancel"
