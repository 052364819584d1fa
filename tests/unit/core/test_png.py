"""core.png against Pillow as an independent reference decoder/encoder."""

from __future__ import annotations

import io
import os
import struct
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scenario_texture_upscale.core import png

RNG = np.random.default_rng(20240611)
SIZES = [(1, 1), (1, 9), (9, 1), (3, 5), (17, 33), (64, 64), (131, 70)]


def pillow_png(image: Image.Image, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", **options)
    return buffer.getvalue()


def pillow_decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


def textured(height: int, width: int, channels: int, dtype: type = np.uint8) -> np.ndarray:
    """Noise over gradients: exercises every filter without being incompressible."""
    top = np.iinfo(dtype).max
    y, x = np.mgrid[0:height, 0:width]
    base = (x * 7 + y * 3)[:, :, np.newaxis] * np.arange(1, channels + 1) * (top // 512)
    noise = RNG.integers(0, top // 16 + 1, (height, width, channels))
    return ((base + noise) % (top + 1)).astype(dtype)


def make_png(
    width: int,
    height: int,
    depth: int,
    color_type: int,
    raw: bytes,
    *,
    interlace: int = 0,
    chunks: tuple[tuple[bytes, bytes], ...] = (),
) -> bytes:
    """A minimal PNG written by hand (rows already filtered), for layouts Pillow cannot write."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(data, zlib.crc32(tag))
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, interlace)
    body = b"".join(chunk(tag, data) for tag, data in chunks)
    return (
        png.PNG_SIGNATURE
        + chunk(b"IHDR", ihdr)
        + body
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def chunk_tags(data: bytes) -> list[bytes]:
    tags = []
    position = 8
    while position < len(data):
        length, tag = struct.unpack_from(">I4s", data, position)
        tags.append(tag)
        position += 12 + length
    return tags


def row_filters(data: bytes, height: int, row_bytes: int) -> set[int]:
    """The filter types of a non-interlaced PNG's rows."""
    idat = bytearray()
    position = 8
    while position < len(data):
        length, tag = struct.unpack_from(">I4s", data, position)
        if tag == b"IDAT":
            idat += data[position + 8 : position + 8 + length]
        position += 12 + length
    raw = zlib.decompress(bytes(idat))
    return {raw[y * (row_bytes + 1)] for y in range(height)}


# ------------------------------------------------------------------------------ decode vs Pillow


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA"])
def test_decode_matches_pillow_8bit(mode: str, size: tuple[int, int]) -> None:
    width, height = size
    pixels = textured(height, width, len(mode))
    data = pillow_png(Image.fromarray(pixels[:, :, 0] if mode == "L" else pixels, mode))
    decoded = png.decode_png(data)
    assert decoded.dtype == np.uint8
    assert decoded.shape == (height, width, len(mode))
    np.testing.assert_array_equal(decoded, pixels)
    np.testing.assert_array_equal(decoded.reshape(pillow_decode(data).shape), pillow_decode(data))


@pytest.mark.parametrize("size", SIZES)
def test_decode_matches_pillow_16bit_grey(size: tuple[int, int]) -> None:
    width, height = size
    pixels = textured(height, width, 1, np.uint16)[:, :, 0]
    data = pillow_png(Image.fromarray(pixels))
    decoded = png.decode_png(data)
    assert decoded.dtype == np.uint16
    np.testing.assert_array_equal(decoded[:, :, 0], pixels)


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
@pytest.mark.parametrize("size", [(1, 1), (5, 3), (13, 11), (70, 33)])
def test_decode_palette_matches_pillow(size: tuple[int, int], bits: int) -> None:
    width, height = size
    colours = 1 << bits
    indices = RNG.integers(0, colours, (height, width), dtype=np.uint8)
    image = Image.fromarray(indices, "P")
    image.putpalette(RNG.integers(0, 256, colours * 3, dtype=np.uint8).tobytes())
    data = pillow_png(image, bits=bits)
    decoded = png.decode_png(data)
    assert png.read_png(data).bit_depth == bits
    expected = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    np.testing.assert_array_equal(decoded, expected)


def test_decode_palette_with_transparency_gives_rgba() -> None:
    indices = RNG.integers(0, 16, (9, 14), dtype=np.uint8)
    image = Image.fromarray(indices, "P")
    image.putpalette(RNG.integers(0, 256, 48, dtype=np.uint8).tobytes())
    alphas = bytes(range(0, 160, 20))  # 8 entries: the rest stay opaque
    data = pillow_png(image, transparency=alphas)
    decoded = png.decode_png(data)
    assert decoded.shape == (9, 14, 4)
    expected = np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))
    np.testing.assert_array_equal(decoded, expected)
    assert decoded[:, :, 3][indices >= 8].min() == 255


def test_decode_1bit_grey_matches_pillow() -> None:
    bits = RNG.integers(0, 2, (23, 37)).astype(bool)
    data = pillow_png(Image.fromarray(bits))
    decoded = png.decode_png(data)
    np.testing.assert_array_equal(decoded[:, :, 0], bits.astype(np.uint8) * 255)


@pytest.mark.parametrize("depth", [2, 4])
def test_decode_sub_byte_grey_scaled_to_8_bits(depth: int) -> None:
    width, height = 11, 4
    levels = RNG.integers(0, 1 << depth, (height, width))
    per_byte = 8 // depth
    rows = []
    for row in levels:
        padded = list(row) + [0] * (-len(row) % per_byte)
        packed = bytearray()
        for i in range(0, len(padded), per_byte):
            value = 0
            for level in padded[i : i + per_byte]:
                value = (value << depth) | int(level)
            packed.append(value)
        rows.append(b"\x00" + bytes(packed))
    data = make_png(width, height, depth, 0, b"".join(rows))
    decoded = png.decode_png(data)
    np.testing.assert_array_equal(decoded[:, :, 0], levels * (255 // ((1 << depth) - 1)))
    np.testing.assert_array_equal(decoded[:, :, 0], pillow_decode(data))


def test_decode_ignores_ancillary_chunks_and_reads_paths(tmp_path: Path) -> None:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", "made by a test " * 50, zip=True)
    pixels = textured(20, 30, 3)
    data = pillow_png(Image.fromarray(pixels), pnginfo=info, dpi=(300, 300))
    assert b"zTXt" in chunk_tags(data) and b"pHYs" in chunk_tags(data)
    path = tmp_path / "with chunks.png"
    path.write_bytes(data)
    np.testing.assert_array_equal(png.decode_png(path), pixels)
    np.testing.assert_array_equal(png.decode_png(str(path)), pixels)
    np.testing.assert_array_equal(png.decode_png(bytearray(data)), pixels)


def test_decode_many_idat_chunks() -> None:
    pixels = textured(300, 200, 4)
    data = pillow_png(Image.fromarray(pixels))  # Pillow splits IDAT into 64 KiB chunks
    assert chunk_tags(data).count(b"IDAT") > 1
    np.testing.assert_array_equal(png.decode_png(data), pixels)


@pytest.mark.parametrize("color_type,key", [(0, (77,)), (2, (10, 20, 30))])
def test_transparency_key_is_reported_not_applied(color_type: int, key: tuple[int, ...]) -> None:
    channels = 1 if color_type == 0 else 3
    pixels = np.full((3, 4, channels), 200, dtype=np.uint8)
    pixels[1, 2] = key
    raw = b"".join(b"\x00" + row.tobytes() for row in pixels)
    trns = struct.pack(f">{channels}H", *key)
    data = make_png(4, 3, 8, color_type, raw, chunks=((b"tRNS", trns),))
    result = png.read_png(data)
    assert result.transparent_color == key
    np.testing.assert_array_equal(result.pixels, pixels)


# Pillow cannot write interlaced PNGs nor choose filters, so these files are made by a slow,
# plain-Python reference encoder below (random filter per row) and checked against Pillow's
# decoder as well as against the source pixels.

ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
         (0, 1, 1, 2))
COLOR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}


def reference_filter(rows: list[bytes], bpp: int) -> bytes:
    """PNG row filtering byte by byte, straight from the specification."""
    out = bytearray()
    previous = bytes(len(rows[0]))
    for row in rows:
        kind = int(RNG.integers(0, 5))
        out.append(kind)
        for i, value in enumerate(row):
            a = row[i - bpp] if i >= bpp else 0
            b = previous[i]
            c = previous[i - bpp] if i >= bpp else 0
            if kind == 0:
                predicted = 0
            elif kind == 1:
                predicted = a
            elif kind == 2:
                predicted = b
            elif kind == 3:
                predicted = (a + b) // 2
            else:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                predicted = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            out.append((value - predicted) & 0xFF)
        previous = row
    return bytes(out)


def pack_rows(samples: np.ndarray, depth: int) -> list[bytes]:
    """H x W x C samples -> PNG row bytes (big-endian 16-bit, or packed sub-byte samples)."""
    if depth == 16:
        return [row.astype(">u2").tobytes() for row in samples]
    if depth == 8:
        return [row.astype(np.uint8).tobytes() for row in samples]
    rows = []
    for row in samples.reshape(samples.shape[0], -1):
        bits = "".join(format(int(v), f"0{depth}b") for v in row)
        bits += "0" * (-len(bits) % 8)
        rows.append(int(bits, 2).to_bytes(len(bits) // 8, "big"))
    return rows


def reference_png(
    samples: np.ndarray, depth: int, color_type: int, *, interlace: int,
    chunks: tuple[tuple[bytes, bytes], ...] = (),
) -> bytes:
    height, width, channels = samples.shape
    bpp = max(1, channels * depth // 8)
    if interlace:
        raw = b""
        for x0, y0, dx, dy in ADAM7:
            part = samples[y0::dy, x0::dx]
            if part.shape[0] and part.shape[1]:
                raw += reference_filter(pack_rows(part, depth), bpp)
    else:
        raw = reference_filter(pack_rows(samples, depth), bpp)
    return make_png(width, height, depth, color_type, raw, interlace=interlace, chunks=chunks)


@pytest.mark.parametrize("interlace", [0, 1])
@pytest.mark.parametrize("depth", [8, 16])
@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_decode_reference_files(channels: int, depth: int, interlace: int) -> None:
    dtype = np.uint16 if depth == 16 else np.uint8
    for width, height in [(1, 1), (2, 1), (1, 2), (3, 3), (4, 5), (9, 8), (23, 17)]:
        samples = textured(height, width, channels, dtype)
        data = reference_png(samples, depth, COLOR_TYPES[channels], interlace=interlace)
        result = png.read_png(data)
        assert result.interlaced == bool(interlace)
        np.testing.assert_array_equal(result.pixels, samples)
        if depth == 8 or channels == 1:
            np.testing.assert_array_equal(
                result.pixels.reshape(pillow_decode(data).shape), pillow_decode(data)
            )


@pytest.mark.parametrize("interlace", [0, 1])
@pytest.mark.parametrize("depth", [1, 2, 4, 8])
def test_decode_reference_palette_and_grey(depth: int, interlace: int) -> None:
    for width, height in [(1, 1), (3, 2), (7, 9), (19, 6)]:
        levels = RNG.integers(0, 1 << depth, (height, width, 1))
        palette = RNG.integers(0, 256, (1 << depth) * 3, dtype=np.uint8).tobytes()
        indexed = reference_png(levels, depth, 3, interlace=interlace,
                                chunks=((b"PLTE", palette),))
        expected = np.frombuffer(palette, np.uint8).reshape(-1, 3)[levels[:, :, 0]]
        np.testing.assert_array_equal(png.decode_png(indexed), expected)
        np.testing.assert_array_equal(
            png.decode_png(indexed), np.asarray(Image.open(io.BytesIO(indexed)).convert("RGB"))
        )
        grey = reference_png(levels, depth, 0, interlace=interlace)
        scale = 255 // ((1 << depth) - 1)
        np.testing.assert_array_equal(png.decode_png(grey), levels * scale)
        reference = np.asarray(Image.open(io.BytesIO(grey)).convert("L"))
        np.testing.assert_array_equal(png.decode_png(grey)[:, :, 0], reference)


def test_decode_long_mixed_filter_runs() -> None:
    # Many consecutive Average/Paeth rows mixed with others: the anti-diagonal path.
    samples = textured(150, 61, 3)
    data = reference_png(samples, 8, 2, interlace=0)
    np.testing.assert_array_equal(png.decode_png(data), samples)


# ------------------------------------------------------------------------------ encode vs Pillow


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_encode_8bit_read_by_pillow(channels: int) -> None:
    for height, width in [(1, 1), (2, 3), (19, 7), (40, 65)]:
        pixels = textured(height, width, channels)
        data = png.encode_png(pixels)
        reference = pillow_decode(data)
        np.testing.assert_array_equal(reference.reshape(pixels.shape), pixels)
        np.testing.assert_array_equal(png.decode_png(data), pixels)


def test_encode_chooses_every_filter_type() -> None:
    """The per-row choice picks each of the five filters on some row of the round-trip tests'
    images, so those tests check every filter the encoder writes."""
    seen: set[int] = set()
    for dtype in (np.uint8, np.uint16):
        for channels in (1, 2, 3, 4):
            for height, width in [(2, 3), (19, 7), (40, 65), (23, 31)]:
                pixels = textured(height, width, channels, dtype)
                data = png.encode_png(pixels)
                seen |= row_filters(data, height, width * channels * pixels.itemsize)
                np.testing.assert_array_equal(png.decode_png(data), pixels)
    assert seen == {0, 1, 2, 3, 4}


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_encode_16bit_round_trip(channels: int) -> None:
    pixels = textured(23, 31, channels, np.uint16)
    data = png.encode_png(pixels)
    assert png.read_png(data).bit_depth == 16
    np.testing.assert_array_equal(png.decode_png(data), pixels)
    reference = pillow_decode(data)
    if channels == 1:
        np.testing.assert_array_equal(reference, pixels[:, :, 0])  # Pillow keeps 16 bits: I;16
    else:
        # Pillow reduces 16-bit colour to 8 bits by keeping the high byte.
        high = (pixels >> 8).astype(np.uint8)
        if channels == 2:
            high = np.stack([high[..., 0]] * 3 + [high[..., 1]], axis=2)
        np.testing.assert_array_equal(reference, high)


def test_encode_accepts_2d_and_non_contiguous_arrays() -> None:
    rgba = textured(30, 40, 4)
    rgb_view = rgba[:, :, :3]
    assert not rgb_view.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(png.decode_png(png.encode_png(rgb_view)), rgb_view)
    grey = rgba[::2, ::3, 0]
    np.testing.assert_array_equal(png.decode_png(png.encode_png(grey))[:, :, 0], grey)


def test_encode_bit_depth_conversion() -> None:
    wide = np.array([[0, 128, 129, 257, 32767, 65535]], dtype=np.uint16)
    narrow = png.decode_png(png.encode_png(wide, bit_depth=8))
    assert narrow.dtype == np.uint8
    expected = np.floor(wide[0].astype(np.int64) * 255 / 65535 + 0.5)
    np.testing.assert_array_equal(narrow[0, :, 0], expected)
    np.testing.assert_array_equal(narrow[0, :, 0], [0, 0, 1, 1, 127, 255])
    small = np.array([[0, 1, 128, 255]], dtype=np.uint8)
    widened = png.decode_png(png.encode_png(small, bit_depth=16))
    np.testing.assert_array_equal(widened[0, :, 0], small[0].astype(np.uint16) * 257)


def natural(height: int, width: int, channels: int) -> np.ndarray:
    """Smooth shapes plus mild noise, like a photographed texture."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    layers = [
        128 + 90 * np.sin(x / (17 + 5 * c)) * np.cos(y / (23 + 3 * c)) + RNG.normal(0, 2, x.shape)
        for c in range(channels)
    ]
    return np.clip(np.stack(layers, axis=2), 0, 255).astype(np.uint8)


def test_encode_streams_several_idat_chunks_and_compresses() -> None:
    pixels = natural(1024, 1024, 4)
    data = png.encode_png(pixels)
    assert chunk_tags(data)[0] == b"IHDR" and chunk_tags(data)[-1] == b"IEND"
    assert chunk_tags(data).count(b"IDAT") > 1
    # The same rows with filter None, compressed as the encoder compresses.
    compressor = zlib.compressobj(6, zlib.DEFLATED, 15, 8, zlib.Z_FILTERED)
    unfiltered = b"".join(b"\x00" + row.tobytes() for row in pixels.reshape(1024, -1))
    filter_none = compressor.compress(unfiltered) + compressor.flush()
    assert len(data) < 0.8 * len(filter_none)  # the adaptive filters earn their cost
    assert len(data) < 0.5 * pixels.nbytes
    np.testing.assert_array_equal(png.decode_png(data), pixels)


def test_compress_level_changes_size_not_pixels() -> None:
    pixels = natural(128, 128, 3)
    stored = png.encode_png(pixels, compress_level=0)
    best = png.encode_png(pixels, compress_level=9)
    assert len(stored) > pixels.nbytes  # level 0 stores
    assert len(best) < len(stored) / 2
    np.testing.assert_array_equal(png.decode_png(stored), png.decode_png(best))


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((4, 4, 5), np.uint8),
        np.zeros((4, 4), np.float32),
        np.zeros((0, 4, 3), np.uint8),
        np.zeros((4,), np.uint8),
    ],
)
def test_encode_rejects_bad_arrays(bad: np.ndarray) -> None:
    with pytest.raises(ValueError):
        png.encode_png(bad)


def test_encode_rejects_bad_options() -> None:
    pixels = np.zeros((2, 2, 3), np.uint8)
    with pytest.raises(ValueError):
        png.encode_png(pixels, bit_depth=4)
    with pytest.raises(ValueError):
        png.encode_png(pixels, compress_level=10)


def test_speed_1024_rgba() -> None:
    pixels = textured(1024, 1024, 4)
    start = time.perf_counter()
    data = png.encode_png(pixels)
    encoded = time.perf_counter() - start
    start = time.perf_counter()
    png.decode_png(data)
    decoded = time.perf_counter() - start
    # ~0.25 s each on a developer machine; generous bounds for slow CI.
    assert encoded < 5.0 and decoded < 5.0


# ------------------------------------------------------------------------------------- write_png


def test_write_png_atomic_replace(tmp_path: Path) -> None:
    target = tmp_path / "out.png"
    target.write_bytes(b"")  # a reserved placeholder, as naming.reserve_unique_path leaves
    os.chmod(target, 0o640)
    pixels = textured(50, 60, 4)
    png.write_png(target, pixels)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]  # no temporary left
    np.testing.assert_array_equal(pillow_decode(target.read_bytes()), pixels)
    if os.name == "posix":
        assert target.stat().st_mode & 0o777 == 0o640
    assert target.read_bytes() == png.encode_png(pixels)


def test_write_png_failure_keeps_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "keep.png"
    target.write_bytes(b"old contents")
    calls = {"n": 0}
    original = png._raw_rows

    def failing(block: np.ndarray, depth: int) -> np.ndarray:
        calls["n"] += 1
        if calls["n"] == 2:
            raise MemoryError("simulated")
        return original(block, depth)

    monkeypatch.setattr(png, "_raw_rows", failing)
    with pytest.raises(MemoryError):
        png.write_png(target, textured(600, 600, 4))
    assert target.read_bytes() == b"old contents"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.png"]


def test_write_png_invalid_input_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        png.write_png(tmp_path / "x.png", np.zeros((3, 3), np.float64))
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------- damaged files


def valid_png() -> bytes:
    return png.encode_png(textured(16, 16, 3))


def test_rejects_bad_signature() -> None:
    with pytest.raises(png.PNGError, match="signature"):
        png.decode_png(b"GIF89a" + valid_png()[6:])


def test_rejects_crc_mismatch() -> None:
    data = bytearray(valid_png())
    data[8 + 8 + 13 + 4 + 8 + 5] ^= 0x40  # a byte inside the IDAT payload
    with pytest.raises(png.PNGError, match="CRC"):
        png.decode_png(bytes(data))


@pytest.mark.parametrize("keep", [7, 8, 20, 33, 50, -13, -12, -1])
def test_rejects_truncation(keep: int) -> None:
    data = valid_png()
    with pytest.raises(png.PNGError):
        png.decode_png(data[:keep])


def test_rejects_missing_idat_and_ihdr_problems() -> None:
    ihdr_only = png.PNG_SIGNATURE + valid_png()[8:33] + valid_png()[-12:]
    with pytest.raises(png.PNGError, match="IDAT"):
        png.decode_png(ihdr_only)
    bad_depth = make_png(2, 2, 3, 2, b"\x00" * 14)
    with pytest.raises(png.PNGError, match="bit depth"):
        png.decode_png(bad_depth)
    bad_type = make_png(2, 2, 8, 5, b"\x00" * 14)
    with pytest.raises(png.PNGError, match="colour type"):
        png.decode_png(bad_type)
    zero = make_png(0, 2, 8, 2, b"\x00" * 2)
    with pytest.raises(png.PNGError, match="size"):
        png.decode_png(zero)


def test_rejects_bad_filter_type_and_short_data() -> None:
    rows = b"\x00" + b"\x01" * 6 + b"\x07" + b"\x02" * 6
    with pytest.raises(png.PNGError, match="filter type 7"):
        png.decode_png(make_png(2, 2, 8, 2, rows))
    with pytest.raises(png.PNGError, match="truncated image data"):
        png.decode_png(make_png(2, 2, 8, 2, rows[:-3]))


def test_rejects_garbage_zlib_stream() -> None:
    data = valid_png()
    position = 33
    length = struct.unpack_from(">I", data, position)[0]
    garbage = bytes(RNG.integers(0, 256, length, dtype=np.uint8))
    crc = zlib.crc32(garbage, zlib.crc32(b"IDAT"))
    broken = data[: position + 8] + garbage + struct.pack(">I", crc) + data[position + 12 + length :]
    with pytest.raises(png.PNGError):
        png.decode_png(broken)


def test_rejects_palette_problems() -> None:
    no_plte = make_png(2, 1, 8, 3, b"\x00\x00\x01")
    with pytest.raises(png.PNGError, match="PLTE"):
        png.decode_png(no_plte)
    out_of_range = make_png(2, 1, 8, 3, b"\x00\x00\x05", chunks=((b"PLTE", b"\x00" * 6),))
    with pytest.raises(png.PNGError, match="palette index"):
        png.decode_png(out_of_range)


def test_rejects_unknown_critical_chunk_but_skips_ancillary() -> None:
    raw = b"\x00" + b"\x10" * 6
    fine = make_png(2, 1, 8, 2, raw, chunks=((b"zzZz", b"whatever"),))
    assert png.decode_png(fine).shape == (1, 2, 3)
    critical = make_png(2, 1, 8, 2, raw, chunks=((b"ZZZZ", b"whatever"),))
    with pytest.raises(png.PNGError, match="critical"):
        png.decode_png(critical)


def test_max_pixels_guard() -> None:
    data = png.encode_png(np.zeros((100, 100), np.uint8))
    with pytest.raises(png.PNGError, match="limit"):
        png.decode_png(data, max_pixels=9_999)
    assert png.decode_png(data, max_pixels=10_000).shape == (100, 100, 1)


def test_png_error_is_value_error() -> None:
    assert issubclass(png.PNGError, ValueError)


def test_random_damage_only_raises_png_error() -> None:
    import random

    chooser = random.Random(11)
    palette = Image.fromarray(RNG.integers(0, 4, (9, 11), dtype=np.uint8), "P")
    palette.putpalette(list(range(12)))
    samples = [
        pillow_png(Image.fromarray(textured(13, 17, 3))),
        pillow_png(palette, bits=2, transparency=b"\x00\x80"),
        png.encode_png(textured(7, 5, 2, np.uint16)),
        reference_png(textured(9, 10, 4), 8, 6, interlace=1),
    ]

    def with_valid_crcs(data: bytearray) -> bytes:
        position = 8
        while position + 12 <= len(data):
            length = struct.unpack_from(">I", data, position)[0]
            if position + 12 + length > len(data):
                break
            crc = zlib.crc32(bytes(data[position + 4 : position + 8 + length]))
            struct.pack_into(">I", data, position + 8 + length, crc)
            position += 12 + length
        return bytes(data)

    outcomes = {"decoded": 0, "rejected": 0}
    for _ in range(3000):
        data = bytearray(chooser.choice(samples))
        for _ in range(chooser.randint(1, 4)):
            data[chooser.randrange(8, len(data))] = chooser.randrange(256)
        damaged = with_valid_crcs(data) if chooser.random() < 0.8 else bytes(data)
        if chooser.random() < 0.2:
            damaged = damaged[: chooser.randrange(len(damaged))]
        try:
            png.decode_png(damaged)
            outcomes["decoded"] += 1
        except png.PNGError:
            outcomes["rejected"] += 1
    assert outcomes["rejected"] > 1000  # any other exception type would have failed the test


@pytest.mark.parametrize("depth", [8, 16])
@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_row_streams_give_the_whole_decode_block_by_block(channels: int, depth: int) -> None:
    """Every filter type (the reference files rotate them) across block edges of every size."""
    dtype = np.uint16 if depth == 16 else np.uint8
    for width, height in [(1, 1), (3, 3), (9, 8), (23, 17)]:
        samples = textured(height, width, channels, dtype)
        data = reference_png(samples, depth, COLOR_TYPES[channels], interlace=0)
        stream = png.stream_png(data)
        assert (stream.width, stream.height, stream.channels) == (width, height, channels)
        for rows in (1, 2, 5, None):
            blocks = list(stream.blocks(rows))
            assert [top for top, _ in blocks] == list(range(0, height, rows or height))
            np.testing.assert_array_equal(np.concatenate([b for _, b in blocks]), samples)


def test_row_streams_map_files_and_refuse_what_does_not_stream(tmp_path: Path) -> None:
    samples = textured(6, 5, 3)
    path = tmp_path / "plain.png"
    path.write_bytes(reference_png(samples, 8, 2, interlace=0))
    with png.stream_png(path) as stream:
        np.testing.assert_array_equal(next(stream.blocks())[1], samples)
    assert stream._mapping.closed, "unmapped at once: Windows cannot move a mapped file"
    path.replace(tmp_path / "moved.png")
    assert png.stream_png(reference_png(samples, 8, 2, interlace=1)) is None
    palette = RNG.integers(0, 256, 48, dtype=np.uint8).tobytes()
    indexed = reference_png(RNG.integers(0, 16, (4, 4, 1)), 4, 3, interlace=0,
                            chunks=((b"PLTE", palette),))
    assert png.stream_png(indexed) is None
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(png.PNGError, match="empty"):
        png.stream_png(tmp_path / "empty.png")


def test_a_truncated_row_stream_is_an_error() -> None:
    samples = textured(40, 40, 4)
    raw = reference_filter(pack_rows(samples, 8), 4)
    short = make_png(40, 40, 8, 6, raw[: len(raw) // 2])
    with pytest.raises(png.PNGError, match="truncated image data"):
        list(png.stream_png(short).blocks(4))
