"""The upscale itself: size, channels, tiling, tonal shift, awkward input modes."""

from __future__ import annotations

import numpy as np
import pytest
from emulator_support import png_bytes, seam_ratio, tileable_texture, vertical_seam_ratio
from PIL import Image


@pytest.mark.parametrize("factor", [2, 3, 8])
def test_result_is_exactly_factor_times_the_source(api, factor):
    result = api.upscale(Image.new("RGB", (24, 16), (120, 130, 140)), upscaleFactor=factor)
    assert result.size == (24 * factor, 16 * factor)


def test_alpha_is_dropped_by_default(api):
    source = Image.new("RGBA", (16, 16), (200, 100, 50, 90))
    result = api.upscale(source)
    assert result.mode == "RGB"


def test_alpha_is_kept_with_keep_alpha(make_api):
    api = make_api(keep_alpha=True)
    pixels = np.zeros((16, 16, 4), dtype=np.uint8)
    pixels[..., :3] = 150
    pixels[..., 3] = np.linspace(0, 255, 16, dtype=np.uint8)[None, :]
    result = api.upscale(Image.fromarray(pixels, "RGBA"))
    assert result.mode == "RGBA" and result.size == (32, 32)
    alpha = np.asarray(result)[..., 3].astype(int)
    assert alpha.min() < 40 and alpha.max() > 215
    # Opaque input stays RGB even with keep_alpha.
    assert api.upscale(Image.new("RGB", (8, 8))).mode == "RGB"


def test_tiling_is_preserved(api):
    source = tileable_texture(48)
    result = np.asarray(api.upscale(Image.fromarray(source, "RGB"), upscaleFactor=4))
    source_ratio = seam_ratio(source)
    assert 0.5 < source_ratio < 2.0
    assert 0.5 < seam_ratio(result) < 2.0
    assert 0.5 < vertical_seam_ratio(result) < 2.0
    # A plain (clamped-edge) resize of the same source is clearly worse at the seam.
    naive = np.asarray(Image.fromarray(source).resize((192, 192), Image.Resampling.BICUBIC))
    assert seam_ratio(result) < seam_ratio(naive)


def test_break_tiling_adds_a_seam(make_api):
    api = make_api(break_tiling=True)
    source = tileable_texture(48)
    result = np.asarray(api.upscale(Image.fromarray(source, "RGB"), upscaleFactor=2))
    assert seam_ratio(result) > 5.0


def test_tonal_shift_is_small_but_present(api):
    source = tileable_texture(32, seed=3)
    result = np.asarray(api.upscale(Image.fromarray(source, "RGB"), upscaleFactor=2))
    back = np.asarray(Image.fromarray(result).resize((32, 32), Image.Resampling.BOX))
    difference = back.astype(float) - source.astype(float)
    assert 0.1 < np.abs(difference).mean() < 6.0
    assert abs(result.astype(float).mean() - source.astype(float).mean()) < 5.0


def test_flat_colour_matches_the_documented_curve(api):
    result = np.asarray(api.upscale(Image.new("RGB", (8, 8), (0, 100, 255))))
    assert tuple(result[4, 4]) == (2, 100, 252)  # round(v * 0.98 + 2)


def _grey16() -> Image.Image:
    return Image.fromarray(np.full((16, 16), 0x8000, dtype=np.uint16))


def _palette_with_transparency() -> Image.Image:
    image = Image.new("P", (16, 16), 1)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.paste(0, (0, 0, 8, 16))
    image.info["transparency"] = 0
    return image


@pytest.mark.parametrize("make, fmt, expected_grey", [
    (lambda: Image.new("L", (16, 16), 128), "PNG", 127),
    (_grey16, "PNG", 127),
    (lambda: Image.new("LA", (16, 16), (128, 200)), "PNG", 127),
    (lambda: Image.new("1", (16, 16), 1), "PNG", 252),
    (lambda: Image.new("I", (16, 16), 40000), "TIFF", 155),
])
def test_greyscale_and_deep_inputs_come_back_as_rgb(api, make, fmt, expected_grey):
    source = make()
    asset = api.upload(png_bytes(source, fmt))
    assert asset["properties"]["width"] == 16
    job = api.wait_job(api.start_job(asset["id"])["jobId"])
    result = api.result_image(job)
    assert result.mode == "RGB" and result.size == (32, 32)
    assert abs(int(np.asarray(result)[16, 16, 0]) - expected_grey) <= 1


def test_palette_and_cmyk_inputs(make_api):
    api = make_api(keep_alpha=True)
    result = api.upscale(_palette_with_transparency())
    assert result.mode == "RGBA"
    alpha = np.asarray(result)[..., 3]
    # Interior columns only: the edges blend with the opposite side, as tiling demands.
    assert alpha[:, 4:12].max() == 0 and alpha[:, 20:28].min() == 255
    cmyk = Image.new("CMYK", (16, 16), (0, 255, 255, 0))
    result = api.upscale(png_bytes(cmyk, "JPEG"))
    assert result.mode == "RGB" and result.size == (32, 32)


@pytest.mark.parametrize(("size", "mode", "factor"), [((300, 200), "RGB", 3), ((90, 171), "RGBA", 2),
                                                       ((40, 30), "RGB", 8)])
def test_rendering_in_strips_gives_one_whole_image_resize(size, mode, factor):
    """Strips keep the emulator's memory small; the pixels are those of one resize, bit for bit."""
    import io

    from emulator import imaging

    rng = np.random.default_rng(5)
    pixels = rng.integers(0, 255, (size[1], size[0], len(mode)), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels, mode).save(out, "PNG")
    strips = np.asarray(Image.open(io.BytesIO(imaging.upscale(
        out.getvalue(), factor, keep_alpha=True, break_tiling=False))))
    pad = imaging._WRAP_PAD
    whole = imaging._wrapped(Image.fromarray(pixels, mode)).resize(
        (size[0] * factor, size[1] * factor), Image.Resampling.BICUBIC,
        box=(pad, pad, pad + size[0], pad + size[1])).point(imaging._tone_curve(mode))
    assert strips.shape[0] > imaging._ROW_CHUNK or factor == 8, "more than one strip"
    assert np.array_equal(strips, np.asarray(whole))


@pytest.mark.parametrize("shape", [(40, 33, 3), (5, 7, 4), (1, 1, 3)])
def test_the_wrapped_border_repeats_the_opposite_edges(shape):
    from emulator import imaging

    pixels = np.random.default_rng(6).integers(0, 255, shape, dtype=np.uint8)
    pad = imaging._WRAP_PAD
    padded = np.asarray(imaging._wrapped(Image.fromarray(pixels)))
    assert np.array_equal(padded, np.pad(pixels, ((pad, pad), (pad, pad), (0, 0)), mode="wrap"))
