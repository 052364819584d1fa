"""core.pixels: conversions, alpha, resampling, normal maps, seams and tiling, with measured values."""

from __future__ import annotations

import numpy as np
import pytest
from scenario_texture_upscale.core import pixels

RNG = np.random.default_rng(7)


def srgb_reference(linear: np.ndarray) -> np.ndarray:
    """IEC 61966-2-1 sRGB encoding in float64, as an independent reference."""
    v = np.clip(np.nan_to_num(linear, nan=0.0), 0.0, 1.0)
    return np.where(v <= 0.0031308, 12.92 * v, 1.055 * v ** (1 / 2.4) - 0.055)


def blender_buffer(top_down_rgba: np.ndarray) -> np.ndarray:
    """What image.pixels gives: flat float32, rows bottom-up."""
    return np.ascontiguousarray(top_down_rgba[::-1], dtype=np.float32).ravel()


def one_row(values: list[float], alpha: float = 1.0) -> np.ndarray:
    row = np.array([[[v, v, v, alpha] for v in values]], dtype=np.float32)
    return blender_buffer(row)


# ------------------------------------------------------------------------- Blender float buffers


def test_float_image_known_points() -> None:
    values = [0.0, 0.5, 1.0, 2.0, -1.0, float("nan"), float("inf"), 0.0031308, 0.18, 0.001]
    out = pixels.blender_float_to_rgba8(
        one_row(values), len(values), 1, is_float_image=True, is_data=False
    )
    assert out.dtype == np.uint8 and out.shape == (1, len(values), 4)
    grey = out[0, :, 0].tolist()
    assert grey[:7] == [0, 188, 255, 255, 0, 0, 255]  # 0.5 linear is 188 in sRGB; >1 clamps
    assert grey[7] == round(0.0031308 * 12.92 * 255)  # the linear toe: 10
    assert grey[8] == 118  # 18% grey
    assert grey[9] == round(0.001 * 12.92 * 255)  # 3
    assert (out[0, :, 3] == 255).all()  # alpha untouched by the transfer function
    assert (out[0, :, 0] == out[0, :, 1]).all() and (out[0, :, 1] == out[0, :, 2]).all()


def test_float_image_matches_reference_curve() -> None:
    linear = np.linspace(-0.1, 1.2, 20_001)
    out = pixels.blender_float_to_rgba8(
        one_row(list(linear)), linear.size, 1, is_float_image=True, is_data=False
    )
    expected = np.floor(srgb_reference(linear) * 255 + 0.5)
    difference = np.abs(out[0, :, 0].astype(int) - expected)
    assert difference.max() <= 1
    assert (difference == 0).mean() > 0.999  # only exact .5 ties may round the other way


def test_alpha_is_linear_and_kept() -> None:
    out = pixels.blender_float_to_rgba8(
        one_row([0.5, 0.5], alpha=0.5), 2, 1, is_float_image=True, is_data=False
    )
    assert out[0, 0].tolist() == [188, 188, 188, 128]


def test_byte_image_values_pass_unchanged() -> None:
    levels = np.arange(256, dtype=np.float32) / 255.0
    out = pixels.blender_float_to_rgba8(
        one_row(list(levels)), 256, 1, is_float_image=False, is_data=False
    )
    assert out[0, :, 0].tolist() == list(range(256))


def test_data_images_are_not_transformed() -> None:
    values = [0.0, 0.25, 0.5, 1.0, 1.5, -0.5]
    for is_float in (True, False):
        out = pixels.blender_float_to_rgba8(
            one_row(values), len(values), 1, is_float_image=is_float, is_data=True
        )
        assert out[0, :, 0].tolist() == [0, 64, 128, 255, 255, 0]


def test_rows_are_flipped_to_top_down(monkeypatch: pytest.MonkeyPatch) -> None:
    height, width = 37, 5
    top_down = np.zeros((height, width, 4), np.float32)
    top_down[:, :, 0] = (np.arange(height) / 255.0)[:, np.newaxis]
    top_down[:, :, 1] = (np.arange(width) / 255.0)[np.newaxis, :]
    top_down[:, :, 3] = 1.0
    buffer = blender_buffer(top_down)
    assert buffer[0] == pytest.approx((height - 1) / 255.0)  # Blender stores the bottom row first
    expected_r = np.repeat(np.arange(height)[:, np.newaxis], width, axis=1)
    expected_g = np.repeat(np.arange(width)[np.newaxis, :], height, axis=0)
    for block in (1 << 22, 4 * width * 3, 1):  # one block, blocks of 3 rows, one row per block
        monkeypatch.setattr(pixels, "_BLOCK_ELEMENTS", block)
        out = pixels.blender_float_to_rgba8(buffer, width, height, is_float_image=False,
                                            is_data=False)
        np.testing.assert_array_equal(out[:, :, 0], expected_r)
        np.testing.assert_array_equal(out[:, :, 1], expected_g)


def test_unpremultiply() -> None:
    buffer = one_row([0.25], alpha=0.5)
    straight = pixels.blender_float_to_rgba8(
        buffer, 1, 1, is_float_image=True, is_data=True, unpremultiply=True
    )
    assert straight[0, 0].tolist() == [128, 128, 128, 128]
    transparent = one_row([0.0], alpha=0.0)
    out = pixels.blender_float_to_rgba8(
        transparent, 1, 1, is_float_image=True, is_data=False, unpremultiply=True
    )
    assert out[0, 0].tolist() == [0, 0, 0, 0]


def test_input_is_not_modified_and_other_dtypes_accepted() -> None:
    buffer = one_row([0.5, 2.0])
    before = buffer.copy()
    pixels.blender_float_to_rgba8(buffer, 2, 1, is_float_image=True, is_data=False)
    np.testing.assert_array_equal(buffer, before)
    as_list = [0.5, 0.5, 0.5, 1.0]
    out = pixels.blender_float_to_rgba8(as_list, 1, 1, is_float_image=True, is_data=False)
    assert out[0, 0].tolist() == [188, 188, 188, 255]


def test_wrong_buffer_size_is_rejected() -> None:
    with pytest.raises(ValueError, match="expected 2x2x4"):
        pixels.blender_float_to_rgba8(np.zeros(15, np.float32), 2, 2, is_float_image=False,
                                      is_data=False)
    with pytest.raises(ValueError):
        pixels.blender_float_to_rgba8(np.zeros(0, np.float32), 0, 0, is_float_image=False,
                                      is_data=False)


# ------------------------------------------------------------------------------------------ alpha


def test_has_meaningful_alpha() -> None:
    rgba = np.full((4, 5, 4), 255, np.uint8)
    assert not pixels.has_meaningful_alpha(rgba)
    rgba[3, 4, 3] = 254
    assert pixels.has_meaningful_alpha(rgba)
    rgba[3, 4, 3] = 255
    rgba[0, 0, 0] = 0  # colour channels do not count
    assert not pixels.has_meaningful_alpha(rgba)
    assert not pixels.has_meaningful_alpha(np.zeros((4, 5, 3), np.uint8))
    assert not pixels.has_meaningful_alpha(np.zeros((4, 5), np.uint8))
    grey_alpha = np.full((2, 2, 2), 255, np.uint8)
    grey_alpha[0, 0, 1] = 0
    assert pixels.has_meaningful_alpha(grey_alpha)
    wide = np.full((2, 2, 4), 65535, np.uint16)
    assert not pixels.has_meaningful_alpha(wide)
    wide[1, 1, 3] = 65534
    assert pixels.has_meaningful_alpha(wide)
    floats = np.ones((2, 2, 4), np.float32)
    assert not pixels.has_meaningful_alpha(floats)
    floats[0, 1, 3] = 0.999
    assert pixels.has_meaningful_alpha(floats)


def test_merge_alpha() -> None:
    rgb = RNG.integers(0, 256, (6, 7, 3), dtype=np.uint8)
    alpha = RNG.integers(0, 256, (6, 7), dtype=np.uint8)
    merged = pixels.merge_alpha(rgb, alpha)
    assert merged.shape == (6, 7, 4) and merged.dtype == np.uint8
    np.testing.assert_array_equal(merged[:, :, :3], rgb)
    np.testing.assert_array_equal(merged[:, :, 3], alpha)
    rgba = np.concatenate([rgb, np.full((6, 7, 1), 9, np.uint8)], axis=2)
    np.testing.assert_array_equal(pixels.merge_alpha(rgba, alpha), merged)  # alpha replaced
    np.testing.assert_array_equal(pixels.merge_alpha(rgb, alpha[:, :, np.newaxis]), merged)


def test_merge_alpha_rescales_between_depths() -> None:
    rgb16 = np.full((2, 3, 3), 1000, np.uint16)
    alpha8 = np.array([[0, 1, 255], [128, 254, 2]], np.uint8)
    merged = pixels.merge_alpha(rgb16, alpha8)
    np.testing.assert_array_equal(merged[:, :, 3], alpha8.astype(np.uint16) * 257)
    rgb8 = np.zeros((2, 3, 3), np.uint8)
    np.testing.assert_array_equal(
        pixels.merge_alpha(rgb8, alpha8.astype(np.uint16) * 257)[:, :, 3], alpha8
    )
    float_alpha = np.array([[0.0, 0.5, 1.0], [0.25, 2.0, -1.0]], np.float32)
    assert pixels.merge_alpha(rgb8, float_alpha)[:, :, 3].tolist() == [[0, 128, 255],
                                                                       [64, 255, 0]]


def test_merge_alpha_rejects_mismatches() -> None:
    with pytest.raises(ValueError, match="does not match"):
        pixels.merge_alpha(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 5), np.uint8))
    with pytest.raises(ValueError):
        pixels.merge_alpha(np.zeros((4, 4), np.uint8), np.zeros((4, 4), np.uint8))


# ------------------------------------------------------------------------------------- resampling


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
@pytest.mark.parametrize("wrap", [False, True])
@pytest.mark.parametrize("target", [(1, 1), (7, 13), (24, 32), (48, 64), (100, 30), (3, 4)])
def test_resample_keeps_constant_images_exact(
    dtype: type, wrap: bool, target: tuple[int, int]
) -> None:
    value = {np.uint8: 201, np.uint16: 51234, np.float32: 0.3}[dtype]
    image = np.full((12, 16), value, dtype=dtype)
    out = pixels.resample(image, *target, wrap=wrap)
    assert out.shape == target and out.dtype == image.dtype
    assert (out == image[0, 0]).all()


def test_resample_same_size_is_identity() -> None:
    image = RNG.integers(0, 256, (9, 11, 3), dtype=np.uint8)
    for wrap in (False, True):
        np.testing.assert_array_equal(pixels.resample(image, 9, 11, wrap=wrap), image)


def test_resample_clamp_versus_wrap_values() -> None:
    row = np.array([[0.0, 100.0]], np.float32)
    clamped = pixels.resample(row, 1, 4)
    wrapped = pixels.resample(row, 1, 4, wrap=True)
    np.testing.assert_allclose(clamped[0], [0, 25, 75, 100])
    np.testing.assert_allclose(wrapped[0], [25, 25, 75, 75])  # the edges blend with each other
    column = pixels.resample(row.T.copy(), 4, 1, wrap=True)
    np.testing.assert_allclose(column[:, 0], [25, 25, 75, 75])


def test_wrap_resample_commutes_with_rolling() -> None:
    # A tileable texture has no edges: shifting then scaling equals scaling then shifting.
    image = RNG.random((16, 20)).astype(np.float32)
    scaled = pixels.resample(image, 64, 80, wrap=True)
    shifted = pixels.resample(np.roll(image, (3, 5), axis=(0, 1)), 64, 80, wrap=True)
    np.testing.assert_allclose(shifted, np.roll(scaled, (12, 20), axis=(0, 1)), atol=1e-5)
    clamped = pixels.resample(np.roll(image, (3, 5), axis=(0, 1)), 64, 80)
    assert np.abs(clamped - np.roll(pixels.resample(image, 64, 80), (12, 20), (0, 1))).max() > 0.1


def test_resample_box_shrink_and_channels() -> None:
    image = np.arange(4 * 6 * 2, dtype=np.float32).reshape(4, 6, 2)
    small = pixels.resample(image, 2, 3)
    expected = image.reshape(2, 2, 3, 2, 2).mean(axis=(1, 3))
    np.testing.assert_allclose(small, expected)
    ints = pixels.resample(np.array([[0, 1], [1, 1]], np.uint8), 1, 1)
    assert ints[0, 0] == 1  # 0.75 rounds to 1


def test_resample_linear_ramp_upscale_interior() -> None:
    ramp = np.tile(np.arange(0, 80, 10, dtype=np.float32), (3, 1))  # 0, 10, ..., 70
    out = pixels.resample(ramp, 3, 32)
    # Away from the clamped borders, bilinear reproduces a linear ramp exactly.
    centres = (np.arange(32) + 0.5) / 4 - 0.5
    interior = (centres >= 0) & (centres <= 7)
    np.testing.assert_allclose(out[0, interior], centres[interior] * 10, atol=1e-4)


def test_resample_blocks_do_not_change_result(monkeypatch: pytest.MonkeyPatch) -> None:
    image = RNG.integers(0, 256, (13, 9), dtype=np.uint8)
    whole = pixels.resample(image, 40, 27, wrap=True)
    monkeypatch.setattr(pixels, "_BLOCK_ELEMENTS", 30)
    np.testing.assert_array_equal(pixels.resample(image, 40, 27, wrap=True), whole)


def test_resample_rejects_bad_sizes() -> None:
    with pytest.raises(ValueError):
        pixels.resample(np.zeros((3, 3)), 0, 3)
    with pytest.raises(ValueError):
        pixels.resample(np.zeros(3), 3, 3)


# ------------------------------------------------------------------------------------ normal maps


def random_normals(count: int) -> np.ndarray:
    vectors = RNG.normal(size=(count, 3))
    vectors[:, 2] = np.abs(vectors[:, 2]) + 0.2  # tangent-space normals point outwards
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def encode_normals(vectors: np.ndarray, dtype: type) -> np.ndarray:
    top = np.iinfo(dtype).max
    return np.clip(np.rint((vectors + 1) / 2 * top), 0, top).astype(dtype)


def decode_normals(encoded: np.ndarray) -> np.ndarray:
    return encoded[..., :3].astype(np.float64) / np.iinfo(encoded.dtype).max * 2 - 1


@pytest.mark.parametrize("dtype,tolerance", [(np.uint8, 0.01), (np.uint16, 0.0002)])
def test_renormalize_brings_lengths_to_one(dtype: type, tolerance: float) -> None:
    unit = random_normals(64 * 64)
    scales = RNG.uniform(0.4, 0.99, size=(unit.shape[0], 1))  # as an upscaler blurs them
    encoded = encode_normals(unit * scales, dtype).reshape(64, 64, 3)
    before_mean, before_dev = pixels.normal_length_stats(encoded)
    assert before_dev > 0.3 and before_mean < 0.8
    fixed = pixels.renormalize_normal_map(encoded)
    assert fixed.dtype == dtype and fixed.shape == encoded.shape
    lengths = np.linalg.norm(decode_normals(fixed), axis=2)
    assert np.abs(lengths - 1).max() < tolerance
    mean, deviation = pixels.normal_length_stats(fixed)
    assert abs(mean - 1) < tolerance and deviation < tolerance
    # Directions kept, and green keeps its sign (the convention is unchanged).
    before = decode_normals(encoded)
    before /= np.linalg.norm(before, axis=2, keepdims=True)
    after = decode_normals(fixed)
    after /= np.linalg.norm(after, axis=2, keepdims=True)
    assert np.einsum("...c,...c->...", before, after).min() > 0.999
    significant = np.abs(before[:, :, 1]) > 0.05
    assert (np.sign(before[:, :, 1]) == np.sign(after[:, :, 1]))[significant].all()


def test_renormalize_keeps_alpha_unit_normals_and_handles_zero() -> None:
    flat = np.array([[[128, 128, 255, 17], [127, 128, 128, 200], [128, 128, 128, 0]]], np.uint8)
    fixed = pixels.renormalize_normal_map(flat)
    assert fixed[0, :, 3].tolist() == [17, 200, 0]
    assert fixed[0, 0, :3].tolist() == [128, 128, 255]  # already unit: unchanged
    assert fixed[0, 1, :3].tolist() == [128, 128, 255]  # ~zero vectors become (0, 0, 1)
    assert fixed[0, 2, :3].tolist() == [128, 128, 255]
    unit = encode_normals(random_normals(900), np.uint8).reshape(30, 30, 3)
    again = pixels.renormalize_normal_map(unit)
    assert np.abs(again.astype(int) - unit).max() <= 1  # near-unit input barely moves
    np.testing.assert_array_equal(pixels.renormalize_normal_map(again), again)  # idempotent


def test_normal_length_stats_values() -> None:
    vectors = np.array([[[1.0, 0, 0], [0, 0, 0.5]]])
    encoded = encode_normals(vectors, np.uint16)
    mean, deviation = pixels.normal_length_stats(encoded)
    assert mean == pytest.approx(0.75, abs=1e-4)
    assert deviation == pytest.approx(0.5, abs=1e-4)


def test_normal_map_validation() -> None:
    with pytest.raises(ValueError):
        pixels.renormalize_normal_map(np.zeros((2, 2), np.uint8))  # type: ignore[type-var]
    with pytest.raises(ValueError):
        pixels.normal_length_stats(np.zeros((2, 2, 3), np.float32))


# ------------------------------------------------------------------------------------------ seams


def tileable_texture(height: int = 96, width: int = 128) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    u, v = 2 * np.pi * x / width, 2 * np.pi * y / height
    red = 128 + 100 * np.sin(3 * u) * np.cos(2 * v)
    green = 128 + 100 * np.cos(u + v)
    blue = 128 + 60 * np.sin(5 * u) + 40 * np.sin(4 * v)
    return np.clip(np.stack([red, green, blue], axis=2), 0, 255).astype(np.uint8)


def test_seam_ratio_near_one_for_tileable_texture() -> None:
    report = pixels.seam_ratio(tileable_texture())
    assert 0.7 < report.horizontal < 1.3
    assert 0.7 < report.vertical < 1.3
    noise = RNG.integers(0, 256, (64, 64, 4), dtype=np.uint8)
    noisy = pixels.seam_ratio(noise)
    assert 0.7 < noisy.horizontal < 1.3 and 0.7 < noisy.vertical < 1.3


def test_seam_ratio_large_when_gradient_breaks_tiling() -> None:
    texture = tileable_texture().astype(np.float64)
    width = texture.shape[1]
    ramp = np.linspace(0, 120, width)[np.newaxis, :, np.newaxis]
    broken = np.clip(texture * 0.5 + ramp, 0, 255).astype(np.uint8)
    report = pixels.seam_ratio(broken)
    assert report.horizontal > 10  # the ramp jumps back by 120 across the seam
    assert report.vertical < 1.3  # columns still wrap fine top to bottom
    assert report.worst == report.horizontal
    pure_ramp = np.tile(np.arange(0, 256, 2, dtype=np.uint8), (8, 1))  # 128 columns
    ramp_report = pixels.seam_ratio(pure_ramp)
    assert ramp_report.horizontal == pytest.approx(127, rel=0.01)  # width - 1
    assert ramp_report.vertical == 1.0  # flat in y: nothing changes, nothing jumps


def test_seam_ratio_flat_images_and_alpha_ignored() -> None:
    flat = np.full((8, 8, 4), 50, np.uint8)
    flat[:, :, 3] = RNG.integers(0, 256, (8, 8))
    assert pixels.seam_ratio(flat) == pixels.SeamReport(1.0, 1.0)
    stripe = np.zeros((8, 8), np.uint8)
    stripe[:, 0] = 255  # the seam jumps by 255; of the 2 x 3 reference pairs, one does too
    assert pixels.seam_ratio(stripe).horizontal == pytest.approx(6.0)
    with pytest.raises(ValueError):
        pixels.seam_ratio(np.zeros((1, 8)))


def test_seam_ratio_reads_only_the_border_bands() -> None:
    image = tileable_texture()
    report = pixels.seam_ratio(image)
    changed = image.copy()
    changed[10:-10, 10:-10] = RNG.integers(0, 256, changed[10:-10, 10:-10].shape)
    assert pixels.seam_ratio(changed) == report
    shifted = np.roll(image, (17, 29), axis=(0, 1))  # still tileable, seam elsewhere
    shifted_report = pixels.seam_ratio(shifted)
    assert 0.6 < min(shifted_report.horizontal, shifted_report.vertical)
    assert shifted_report.worst < 1.5


# ------------------------------------------------------------------------------ tiling and crops


def test_pad_wrap_crop_round_trip() -> None:
    image = RNG.integers(0, 256, (10, 14, 3), dtype=np.uint8)
    padded = pixels.pad_wrap(image, 4)
    assert padded.shape == (18, 22, 3)
    np.testing.assert_array_equal(padded[:4, 4:-4], image[-4:])  # top pad = bottom rows
    np.testing.assert_array_equal(padded[4:-4, :4], image[:, -4:])  # left pad = right columns
    np.testing.assert_array_equal(padded[:4, :4], image[-4:, -4:])  # corners wrap both ways
    np.testing.assert_array_equal(pixels.crop(padded, 4), image)
    # As in seam-safe mode: pad, upscale x2 (nearest here), crop pad * factor.
    upscaled = np.kron(padded, np.ones((2, 2, 1), np.uint8))
    np.testing.assert_array_equal(pixels.crop(upscaled, 8), np.kron(image, np.ones((2, 2, 1))))
    np.testing.assert_array_equal(pixels.pad_wrap(image, 0), image)
    grey = image[:, :, 0]
    assert pixels.pad_wrap(grey, 20).shape == (50, 54)  # pads wider than the image repeat


def test_wrap_padding_removes_seam_effects_of_resampling() -> None:
    texture = tileable_texture(24, 32)
    direct = pixels.resample(texture, 48, 64)  # clamped edges
    padded = pixels.resample(pixels.pad_wrap(texture, 4), 64, 80)
    safe = pixels.crop(padded, 8)
    wrapped = pixels.resample(texture, 48, 64, wrap=True)
    np.testing.assert_array_equal(safe, wrapped)  # padding == sampling across the seam
    assert pixels.seam_ratio(safe).worst < pixels.seam_ratio(direct).worst


def test_crop_rejects_too_large_margins() -> None:
    with pytest.raises(ValueError):
        pixels.crop(np.zeros((10, 10)), 5)
    with pytest.raises(ValueError):
        pixels.pad_wrap(np.zeros((10, 10)), -1)


def test_tile_2x2() -> None:
    image = RNG.integers(0, 256, (5, 7, 4), dtype=np.uint8)
    tiled = pixels.tile_2x2(image)
    assert tiled.shape == (10, 14, 4)
    for y in (0, 5):
        for x in (0, 7):
            np.testing.assert_array_equal(tiled[y : y + 5, x : x + 7], image)
    assert pixels.tile_2x2(image[:, :, 0]).shape == (10, 14)


# ------------------------------------------------------------------------------------ differences


def test_difference_image_values() -> None:
    a = np.zeros((4, 5, 3), np.uint8)
    b = np.full((4, 5, 3), 64, np.uint8)
    grey = pixels.difference_image(a, b, gain=1.0, heat=False)
    assert grey.shape == (4, 5) and grey.dtype == np.uint8 and (grey == 64).all()
    heat = pixels.difference_image(a, b, gain=1.0)
    assert heat.shape == (4, 5, 3)
    assert heat[0, 0].tolist() == [192, 0, 0]  # a quarter of the range: dark-to-red third
    assert pixels.difference_image(a, np.full_like(a, 255), gain=1.0)[0, 0].tolist() == [255] * 3
    assert (pixels.difference_image(b, b) == 0).all()
    amplified = pixels.difference_image(a, np.full_like(a, 16), gain=4.0, heat=False)
    assert (amplified == 64).all()


def test_difference_image_mixed_depths_sizes_and_channels() -> None:
    a = np.full((6, 8, 4), 128, np.uint8)
    b16 = np.full((6, 8, 3), 128 * 257, np.uint16)
    assert (pixels.difference_image(a, b16) == 0).all()  # same colour at another bit depth
    big = np.full((12, 16, 3), 128, np.uint8)
    assert pixels.difference_image(a, big).shape == (6, 8, 3)  # b resampled to a's size
    assert (pixels.difference_image(a, big) == 0).all()
    grey = np.full((6, 8), 0.5, np.float32)
    rgb = np.full((6, 8, 3), 0.75, np.float32)
    assert (pixels.difference_image(grey, rgb, gain=1.0, heat=False) == 64).all()


@pytest.mark.parametrize("shape", [(2, 2, 3), (3, 7, 4), (40, 31, 3), (33, 50), (9, 9, 1)])
def test_borders_gathered_block_by_block_give_the_same_seams(shape):
    image = np.random.default_rng(7).integers(0, 255, shape).astype(np.uint8)
    image[:, -1] = image[:, 0]  # a seamless left/right edge, as in a tiling texture
    collector = pixels.BorderCollector(shape[0], shape[1], image.dtype,
                                       shape[2] if len(shape) == 3 else None)
    for top in range(0, shape[0], 4):
        collector.add(top, image[top : top + 4])
    gathered = collector.borders()
    whole = pixels.borders(image)
    for name in ("top", "bottom", "left", "right"):
        np.testing.assert_array_equal(getattr(gathered, name), getattr(whole, name))
    assert pixels.seam_ratio_of(gathered) == pixels.seam_ratio(image)
