"""Pixel maths on numpy arrays: Blender buffers to 8/16-bit, alpha, normal maps, seams, tiling.

Every function is pure (inputs are never modified) and safe to call from worker threads. Images
are top-down H x W x C arrays unless said otherwise. Large images are processed in blocks of rows
so that temporaries stay small next to the images themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, TypeAlias, TypeVar

import numpy as np
import numpy.typing as npt

__all__ = [
    "BorderCollector",
    "borders",
    "Borders",
    "SeamReport",
    "blender_float_to_rgba8",
    "crop",
    "difference_image",
    "has_meaningful_alpha",
    "merge_alpha",
    "normal_length_stats",
    "pad_wrap",
    "renormalize_normal_map",
    "resample",
    "seam_ratio",
    "seam_ratio_of",
    "tile_2x2",
]

U8: TypeAlias = npt.NDArray[np.uint8]
F32: TypeAlias = npt.NDArray[np.float32]
Floats: TypeAlias = npt.NDArray[np.floating[Any]]
AnyArray: TypeAlias = npt.NDArray[np.generic]
IntImage = TypeVar("IntImage", npt.NDArray[np.uint8], npt.NDArray[np.uint16])
ScalarT = TypeVar("ScalarT", bound=np.generic)

# Elements handled per block: ~16 MB of float32 scratch.
_BLOCK_ELEMENTS: Final = 1 << 22
# Decoded normals shorter than this (within ~2 8-bit steps of the mid-grey centre on every axis)
# have no reliable direction; they become the flat normal (0, 0, 1).
_MIN_NORMAL_LENGTH: Final = 0.03
# Column (row) pairs on each side of a wrap seam that serve as its reference (see seam_ratio).
_SEAM_BAND: Final = 4


# ------------------------------------------------------------------------- Blender float buffers


def blender_float_to_rgba8(
    buffer: npt.ArrayLike,
    width: int,
    height: int,
    *,
    is_float_image: bool,
    is_data: bool,
    unpremultiply: bool = False,
) -> U8:
    """Converts Blender's ``image.pixels`` (flat RGBA floats, rows bottom-up) to H x W x 4 uint8
    top-down.

    Byte images already hold their stored values (/255), so they are only scaled. Float images are
    scene-linear, so their RGB gets the sRGB transfer function unless ``is_data`` (Non-Color data
    such as normal or roughness maps must keep their values). Alpha is never transformed. Values
    are clamped to 0..1 (NaN becomes 0) and rounded. ``unpremultiply`` divides RGB by alpha first,
    for buffers holding premultiplied colour.
    """
    if width < 1 or height < 1:
        raise ValueError(f"invalid image size {width}x{height}")
    flat = np.asarray(buffer)
    if flat.size != width * height * 4:
        raise ValueError(
            f"pixel buffer has {flat.size} values, expected {width}x{height}x4 = "
            f"{width * height * 4}"
        )
    source = flat.reshape(height, width, 4)
    out = np.empty((height, width, 4), dtype=np.uint8)
    encode_srgb = is_float_image and not is_data
    rows = max(1, _BLOCK_ELEMENTS // (width * 4))
    scratch = np.empty((min(rows, height), width, 4), dtype=np.float32)
    for y0 in range(0, height, rows):
        y1 = min(height, y0 + rows)
        block = scratch[: y1 - y0]
        # Blender's rows run bottom-up: output rows y0..y1 are source rows h-1-y0 .. h-y1.
        np.copyto(block, source[height - y1 : height - y0][::-1], casting="unsafe")
        if unpremultiply:
            _unpremultiply(block)
        # fmax/fmin rather than clip: they also turn NaN into 0 (and +inf into 1).
        np.fmax(block, 0.0, out=block)
        np.fmin(block, 1.0, out=block)
        if encode_srgb:
            _srgb_encode(block[:, :, :3])
        block *= 255.0
        np.rint(block, out=block)
        np.copyto(out[y0:y1], block, casting="unsafe")
    return out


def _unpremultiply(block: F32) -> None:
    alpha = block[:, :, 3:4]
    with np.errstate(divide="ignore", invalid="ignore"):
        np.divide(block[:, :, :3], alpha, out=block[:, :, :3], where=alpha > 0)


def _srgb_encode(values: F32) -> None:
    """sRGB OETF (IEC 61966-2-1) in place, for values already in 0..1."""
    low = values <= 0.0031308
    linear_part = values * np.float32(12.92)
    np.power(values, np.float32(1.0 / 2.4), out=values)
    values *= np.float32(1.055)
    values -= np.float32(0.055)
    np.copyto(values, linear_part, where=low)


# ------------------------------------------------------------------------------------------ alpha


def has_meaningful_alpha(pixels: AnyArray) -> bool:
    """True if the image has an alpha channel (grey+alpha or RGBA) that is not fully opaque."""
    if pixels.ndim != 3 or pixels.shape[2] not in (2, 4) or pixels.size == 0:
        return False
    opaque = _max_value(pixels.dtype)
    # min() needs no full-size temporary, unlike (alpha < opaque).any().
    return bool(pixels[:, :, -1].min() < opaque)


def merge_alpha(result: IntImage, alpha: AnyArray) -> IntImage:
    """Returns H x W x 4: the RGB of ``result`` (H x W x 3 or 4) with ``alpha`` (H x W, already at
    the result's size, e.g. from :func:`resample`) as its alpha channel.

    ``alpha`` may be uint8, uint16 or float 0..1; it is rescaled to ``result``'s dtype.
    """
    if result.ndim != 3 or result.shape[2] not in (3, 4):
        raise ValueError(f"expected an H x W x 3 or 4 image, got shape {result.shape}")
    if alpha.ndim == 3 and alpha.shape[2] == 1:
        alpha = alpha[:, :, 0]
    if alpha.shape != result.shape[:2]:
        raise ValueError(f"alpha of shape {alpha.shape} does not match image {result.shape[:2]}")
    merged = np.empty(result.shape[:2] + (4,), dtype=result.dtype)
    merged[:, :, :3] = result[:, :, :3]
    merged[:, :, 3] = _rescale(alpha, result.dtype)
    return merged


def _max_value(dtype: np.dtype[Any]) -> float:
    if np.issubdtype(dtype, np.integer):
        return float(np.iinfo(dtype).max)
    return 1.0


def _min_value(dtype: np.dtype[Any]) -> float:
    return float(np.iinfo(dtype).min) if np.issubdtype(dtype, np.integer) else 0.0


def _rescale(values: AnyArray, dtype: np.dtype[Any]) -> AnyArray:
    """Converts samples between uint8 / uint16 / float 0..1 ranges, rounding."""
    if values.dtype == dtype:
        return values
    if values.dtype == np.uint8 and dtype == np.uint16:
        return values.astype(np.uint16) * np.uint16(257)
    source_max = _max_value(values.dtype)
    target_max = _max_value(dtype)
    scaled = values.astype(np.float32) * np.float32(target_max / source_max)
    if np.issubdtype(dtype, np.integer):
        np.rint(scaled, out=scaled)
        np.clip(scaled, 0.0, target_max, out=scaled)
    return scaled.astype(dtype)


# ------------------------------------------------------------------------------------- resampling


def resample(
    channel: npt.NDArray[ScalarT], new_height: int, new_width: int, *, wrap: bool = False
) -> npt.NDArray[ScalarT]:
    """Bilinear resize of an H x W (or H x W x C) array to new_height x new_width, same dtype.

    Pixel centres are aligned (the usual image convention), so a constant image stays exactly
    constant. ``wrap=True`` samples across the opposite edge instead of clamping, for tileable
    textures, so the result tiles seamlessly too. Shrinking by a whole factor averages each
    factor x factor box instead, which bilinear sampling would alias.
    """
    if new_height < 1 or new_width < 1:
        raise ValueError(f"invalid target size {new_width}x{new_height}")
    if channel.ndim not in (2, 3) or channel.shape[0] < 1 or channel.shape[1] < 1:
        raise ValueError(f"expected an H x W or H x W x C array, got shape {channel.shape}")
    height, width = channel.shape[:2]
    work_type = np.float64 if channel.dtype == np.float64 else np.float32
    out = np.empty((new_height, new_width) + channel.shape[2:], dtype=channel.dtype)
    columns = _axis_plan(width, new_width, wrap)
    row_plan = _axis_plan(height, new_height, wrap)
    rows_per_block = max(1, _BLOCK_ELEMENTS // max(1, out[0].size + channel[0].size))
    for y0 in range(0, new_height, rows_per_block):
        y1 = min(new_height, y0 + rows_per_block)
        vertical = _apply_plan(channel, row_plan, y0, y1, axis=0, work_type=work_type)
        block = _apply_plan(vertical, columns, 0, new_width, axis=1, work_type=work_type)
        if np.issubdtype(channel.dtype, np.integer):
            np.rint(block, out=block)
            np.clip(block, _min_value(channel.dtype), _max_value(channel.dtype), out=block)
        np.copyto(out[y0:y1], block, casting="unsafe")
    return out


# Per axis: (kind, box factor, first source index, second source index, weight of the second):
# "box" averages `factor` samples (exact whole-factor shrink), "lerp" blends two samples.
_Plan: TypeAlias = tuple[str, int, npt.NDArray[np.intp], npt.NDArray[np.intp], F32]


def _axis_plan(size: int, new_size: int, wrap: bool) -> _Plan:
    empty = np.empty(0, dtype=np.intp)
    if new_size < size and size % new_size == 0:
        return ("box", size // new_size, empty, empty, np.empty(0, dtype=np.float32))
    position = (np.arange(new_size, dtype=np.float64) + 0.5) * (size / new_size) - 0.5
    first = np.floor(position)
    fraction = (position - first).astype(np.float32)
    index0 = first.astype(np.intp)
    index1 = index0 + 1
    if wrap:
        index0 %= size
        index1 %= size
    else:
        np.clip(index0, 0, size - 1, out=index0)
        np.clip(index1, 0, size - 1, out=index1)
    return ("lerp", 1, index0, index1, fraction)


def _apply_plan(
    data: AnyArray,
    plan: _Plan,
    start: int,
    stop: int,
    *,
    axis: int,
    work_type: type[np.floating[Any]],
) -> Floats:
    """Output indices [start, stop) along ``axis`` (0 or 1), as floats."""
    kind, factor, index0, index1, fraction = plan
    if kind == "box":
        part = (
            data[start * factor : stop * factor]
            if axis == 0
            else data[:, start * factor : stop * factor]
        )
        shape = part.shape[:axis] + (stop - start, factor) + part.shape[axis + 1 :]
        # float64 sums keep constant regions exact.
        boxed: Floats = part.reshape(shape).mean(axis=axis + 1, dtype=np.float64)
        return boxed
    i0 = index0[start:stop]
    i1 = index1[start:stop]
    t = fraction[start:stop].astype(work_type)
    a = np.take(data, i0, axis=axis).astype(work_type)
    b = np.take(data, i1, axis=axis).astype(work_type)
    # a + (b - a) * t keeps constant regions exactly constant (b - a == 0).
    weight = t.reshape((-1,) + (1,) * (data.ndim - 1)) if axis == 0 else t.reshape(
        (1, -1) + (1,) * (data.ndim - 2)
    )
    b -= a
    b *= weight
    a += b
    return a


# ------------------------------------------------------------------------------------ normal maps


def renormalize_normal_map(pixels: IntImage) -> IntImage:
    """Rescales every normal of an 8/16-bit normal map (H x W x 3 or 4) back to unit length.

    Upscalers treat normal maps as pictures, so the decoded vectors (2 * v / max - 1) drift off
    unit length. (Near-)zero vectors become (0, 0, 1). Alpha is kept. The vector length does not
    depend on the sign of green, so OpenGL and DirectX maps are treated the same way and keep
    their convention.
    """
    _check_normal_map(pixels)
    maximum = float(np.iinfo(pixels.dtype).max)
    out = pixels.copy()
    for y0, y1 in _row_blocks(pixels):
        vectors = _decode_normals(pixels[y0:y1], maximum)
        length = np.sqrt(np.einsum("...c,...c->...", vectors, vectors))
        degenerate = length < _MIN_NORMAL_LENGTH
        length[degenerate] = 1.0
        vectors /= length[..., np.newaxis]
        vectors[degenerate] = (0.0, 0.0, 1.0)
        vectors += 1.0
        vectors *= np.float32(maximum / 2.0)
        np.rint(vectors, out=vectors)
        np.clip(vectors, 0.0, maximum, out=vectors)
        np.copyto(out[y0:y1, :, :3], vectors, casting="unsafe")
    return out


def normal_length_stats(pixels: AnyArray) -> tuple[float, float]:
    """(mean length, largest |length - 1|) of the normals decoded from an 8/16-bit normal map."""
    _check_normal_map(pixels)
    maximum = _max_value(pixels.dtype)
    total = 0.0
    worst = 0.0
    for y0, y1 in _row_blocks(pixels):
        vectors = _decode_normals(pixels[y0:y1], maximum)
        length = np.sqrt(np.einsum("...c,...c->...", vectors, vectors))
        total += float(length.sum(dtype=np.float64))
        worst = max(worst, float(np.abs(length - 1.0).max()))
    return total / (pixels.shape[0] * pixels.shape[1]), worst


def _check_normal_map(pixels: AnyArray) -> None:
    if pixels.ndim != 3 or pixels.shape[2] not in (3, 4):
        raise ValueError(f"expected an H x W x 3 or 4 normal map, got shape {pixels.shape}")
    if pixels.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"expected uint8 or uint16 normal map, got {pixels.dtype}")


def _decode_normals(block: AnyArray, maximum: float) -> F32:
    vectors = block[:, :, :3].astype(np.float32)
    vectors *= np.float32(2.0 / maximum)
    vectors -= 1.0
    return vectors


def _row_blocks(pixels: AnyArray) -> list[tuple[int, int]]:
    height = pixels.shape[0]
    per_row = max(1, pixels[0].size)
    rows = max(1, _BLOCK_ELEMENTS // per_row)
    return [(y0, min(height, y0 + rows)) for y0 in range(0, height, rows)]


# ------------------------------------------------------------------------------------------ seams


@dataclass(frozen=True)
class SeamReport:
    """How visible the wrap-around seams of a texture are (see :func:`seam_ratio`).

    ``horizontal``: the seam met when tiling side by side (last column against first column).
    ``vertical``: the seam met when tiling top to bottom (last row against first row).
    """

    horizontal: float
    vertical: float

    @property
    def worst(self) -> float:
        return max(self.horizontal, self.vertical)


def seam_ratio(pixels: AnyArray) -> SeamReport:
    """Measures how tileable an image is.

    For each direction: the mean absolute difference across the wrap seam (last column against
    first column, or last row against first row) divided by the mean absolute difference between
    neighbouring columns (rows) inside the image next to the seam (up to 4 pairs on each side).
    A tileable texture changes across its seam about as much as just beside it, so the ratio is
    about 1; a visible seam gives a ratio well above 1 (a left-to-right ramp gives about the image
    width). The reference is taken next to the seam rather than over the whole image, so smooth
    textures whose slope happens to be steep at the border still score about 1 (and only the
    border bands are read). Colour channels are used (the first three, or the grey channel);
    alpha is ignored. A flat border band gives 1.0 if the seam is flat too, else infinity.
    Needs at least 2 x 2 pixels.
    """
    if pixels.ndim not in (2, 3) or pixels.shape[0] < 2 or pixels.shape[1] < 2:
        raise ValueError(f"expected an image of at least 2x2 pixels, got shape {pixels.shape}")
    return seam_ratio_of(borders(pixels))


def borders(pixels: AnyArray) -> Borders:
    """The image's :class:`Borders` (views, no copies)."""
    height, width = pixels.shape[:2]
    top, left = _border_lines(height), _border_lines(width)
    return Borders(pixels[:top], pixels[height - top:], pixels[:, :left], pixels[:, width - left:])


@dataclass
class Borders:
    """The lines along an image's edges that :func:`seam_ratio` reads: its first and last rows
    (``top``, ``bottom``) and columns (``left``, ``right``), as many as ``_border_lines`` says."""

    top: AnyArray
    bottom: AnyArray
    left: AnyArray
    right: AnyArray


class BorderCollector:
    """Gathers the :class:`Borders` of an image that arrives a block of rows at a time."""

    def __init__(self, height: int, width: int, dtype: np.dtype[Any], channels: int | None) -> None:
        self.height = height
        self._rows = _border_lines(height)
        columns = _border_lines(width)
        extra = () if channels is None else (channels,)
        self._borders = Borders(*(np.empty(shape + extra, dtype) for shape in (
            (self._rows, width), (self._rows, width), (height, columns), (height, columns))))
        self._columns = columns

    def add(self, top: int, block: AnyArray) -> None:
        bottom = top + block.shape[0]
        b = self._borders
        b.left[top:bottom] = block[:, : self._columns]
        b.right[top:bottom] = block[:, block.shape[1] - self._columns :]
        if top < self._rows:
            b.top[top : min(bottom, self._rows)] = block[: self._rows - top]
        first = self.height - self._rows
        if bottom > first:
            start = max(top, first)
            b.bottom[start - first : bottom - first] = block[start - top :]

    def borders(self) -> Borders:
        return self._borders


def seam_ratio_of(borders: Borders) -> SeamReport:
    """:func:`seam_ratio` from the image's :class:`Borders` alone."""
    def colour(lines: AnyArray) -> AnyArray:
        return lines if lines.ndim == 2 else lines[:, :, : 3 if lines.shape[2] >= 3 else 1]

    return SeamReport(_seam(colour(borders.left), colour(borders.right), axis=1),
                      _seam(colour(borders.top), colour(borders.bottom), axis=0))


def _border_lines(size: int) -> int:
    """Lines read on each side of a seam: the seam line and up to _SEAM_BAND beside it."""
    return max(1, min(_SEAM_BAND, (size - 1) // 2)) + 1


def _seam(head: AnyArray, tail: AnyArray, axis: int) -> float:
    """``head``/``tail``: the first and last lines along ``axis``, the seam lines outermost."""
    first, last = (head.astype(np.float64), tail.astype(np.float64))
    inside = (np.abs(np.diff(first, axis=axis)).mean() + np.abs(np.diff(last, axis=axis)).mean()) / 2
    end = last.shape[axis] - 1
    across = np.abs(np.take(last, [end], axis=axis) - np.take(first, [0], axis=axis)).mean()
    return _ratio(float(across), float(inside))


def _ratio(seam: float, inner: float) -> float:
    if inner > 0.0:
        return seam / inner
    return 1.0 if seam == 0.0 else float("inf")


# ------------------------------------------------------------------------------ tiling and crops


def pad_wrap(pixels: npt.NDArray[ScalarT], pad: int) -> npt.NDArray[ScalarT]:
    """Surrounds the image with ``pad`` pixels taken from its own opposite edges (as if tiled).

    For the seam-safe mode: the upscaler then sees the texture's continuation at every border, and
    :func:`crop` removes ``pad * factor`` pixels from the result.
    """
    if pad < 0:
        raise ValueError(f"pad must be >= 0, got {pad}")
    if pixels.ndim not in (2, 3):
        raise ValueError(f"expected an H x W or H x W x C array, got shape {pixels.shape}")
    widths = ((pad, pad), (pad, pad)) + ((0, 0),) * (pixels.ndim - 2)
    padded: npt.NDArray[ScalarT] = np.pad(pixels, widths, mode="wrap")
    return padded


def crop(pixels: npt.NDArray[ScalarT], margin: int) -> npt.NDArray[ScalarT]:
    """Removes ``margin`` pixels from every side (a view; copy it if it must outlive the input)."""
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    height, width = pixels.shape[:2]
    if 2 * margin >= height or 2 * margin >= width:
        raise ValueError(f"cannot crop {margin} pixels from each side of a {width}x{height} image")
    cropped: npt.NDArray[ScalarT] = pixels[margin : height - margin, margin : width - margin]
    return cropped


def tile_2x2(pixels: npt.NDArray[ScalarT]) -> npt.NDArray[ScalarT]:
    """The image repeated twice across and twice down, to preview how it tiles."""
    if pixels.ndim not in (2, 3):
        raise ValueError(f"expected an H x W or H x W x C array, got shape {pixels.shape}")
    tiled: npt.NDArray[ScalarT] = np.tile(pixels, (2, 2) + (1,) * (pixels.ndim - 2))
    return tiled


# ------------------------------------------------------------------------------------ differences


def difference_image(
    a: AnyArray, b: AnyArray, *, gain: float = 4.0, heat: bool = True
) -> U8:
    """Visualises where ``b`` differs from ``a``: H x W x 3 heat map (black, red, yellow, white as
    the difference grows) or, with ``heat=False``, H x W grey levels.

    Both images are read as 0..1 (uint8, uint16 or float); ``b`` is resampled to ``a``'s size if
    needed. The per-pixel difference is the mean absolute difference of the colour channels
    (RGB when both have them, else luminance-like means), multiplied by ``gain`` and clamped.
    """
    if a.ndim not in (2, 3) or b.ndim not in (2, 3):
        raise ValueError("expected H x W or H x W x C images")
    if b.shape[:2] != a.shape[:2]:
        b = resample(b, a.shape[0], a.shape[1])
    height, width = a.shape[:2]
    out = np.empty((height, width, 3) if heat else (height, width), dtype=np.uint8)
    for y0, y1 in _row_blocks(a):
        first, second = _align(_colour(a[y0:y1]), _colour(b[y0:y1]))
        diff = np.abs(first - second)
        level = diff.mean(axis=2) if diff.ndim == 3 else diff
        level *= np.float32(gain)
        np.clip(level, 0.0, 1.0, out=level)
        if heat:
            ramp = np.stack([level * 3.0, level * 3.0 - 1.0, level * 3.0 - 2.0], axis=2)
            np.clip(ramp, 0.0, 1.0, out=ramp)
            np.copyto(out[y0:y1], np.rint(ramp * 255.0), casting="unsafe")
        else:
            np.copyto(out[y0:y1], np.rint(level * 255.0), casting="unsafe")
    return out


def _colour(block: AnyArray) -> F32:
    """0..1 float32; H x W x 3 for RGB(A) input, else H x W (grey or mean of channels)."""
    values = block.astype(np.float32)
    values *= np.float32(1.0 / _max_value(block.dtype))
    if values.ndim == 2:
        return values
    if values.shape[2] >= 3:
        return values[:, :, :3]
    return values[:, :, 0]


def _align(a: F32, b: F32) -> tuple[F32, F32]:
    """Grey against colour: compares with the colour image's channel mean."""
    if a.ndim == b.ndim:
        return a, b
    if a.ndim == 3:
        return a.mean(axis=2), b
    return a, b.mean(axis=2)
