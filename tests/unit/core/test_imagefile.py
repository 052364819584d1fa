"""core.imagefile: format sniffing and header reading, on files made by Pillow or by hand."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scenario_texture_upscale.core import imagefile
from scenario_texture_upscale.core.imagefile import (
    ImageHeaderError,
    ImageInfo,
    check_whole,
    read_image_header,
    sniff_format,
)

RNG = np.random.default_rng(3)


def pillow_bytes(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def noise(width: int, height: int, mode: str) -> Image.Image:
    channels = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4, "CMYK": 4}[mode]
    shape = (height, width) if channels == 1 else (height, width, channels)
    return Image.fromarray(RNG.integers(0, 256, shape, dtype=np.uint8), mode)


def palette_image(width: int, height: int) -> Image.Image:
    image = Image.fromarray(RNG.integers(0, 16, (height, width), dtype=np.uint8), "P")
    image.putpalette(RNG.integers(0, 256, 48, dtype=np.uint8).tobytes())
    return image


class CountingReader(io.BytesIO):
    """Counts the bytes actually read, to prove the header reader stays cheap."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


# -------------------------------------------------------------------------------------- sniffing


@pytest.mark.parametrize(
    "head,expected",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "jpeg"),
        (b"\xff\xd8\xff\xe1\x00\x10Exif\x00", "jpeg"),
        (b"GIF87a\x01\x00", "gif"),
        (b"GIF89a\x01\x00", "gif"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "webp"),
        (b"II*\x00\x08\x00\x00\x00", "tiff"),
        (b"MM\x00*\x00\x00\x00\x08", "tiff"),
        (b"II+\x00\x08\x00\x00\x00", "tiff"),
        (b"v/1\x01\x02\x00\x00\x00", "exr"),
        (b"#?RADIANCE\n", "hdr"),
        (b"#?RGBE\n", "hdr"),
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", "avif"),
        (b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1avifmiaf", "avif"),  # brand listed later
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "heif"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic", "heif"),
        (b"BM" + b"\x00" * 12 + struct.pack("<I", 40), "bmp"),
        (b"BM" + b"\x00" * 12 + struct.pack("<I", 124), "bmp"),
    ],
)
def test_sniff_format(head: bytes, expected: str) -> None:
    assert sniff_format(head) == expected


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"\x89PN",
        b"\x00\x00\x02\x00\x00",  # TGA: no signature, never recognised
        b"\x00\x00\x00\x18ftypisom\x00\x00\x00\x00isomiso2mp41",  # an MP4 video
        b"BM" + b"\x00" * 12 + struct.pack("<I", 7),  # "BM" text, not a bitmap
        b"RIFF\x24\x00\x00\x00WAVEfmt ",
        b"<svg xmlns=",
        b"%PDF-1.7",
    ],
)
def test_sniff_format_unknown(head: bytes) -> None:
    assert sniff_format(head) is None


def test_tables_are_consistent() -> None:
    assert imagefile.SCENARIO_UPLOAD_FORMATS == {
        "png", "jpeg", "webp", "gif", "avif", "tiff", "heif"
    }
    assert imagefile.SCENARIO_UPLOAD_FORMATS <= set(imagefile.MIME_TYPES)
    assert set(imagefile.FILE_EXTENSIONS) == set(imagefile.MIME_TYPES)
    assert imagefile.MIME_TYPES["jpeg"] == "image/jpeg"
    assert imagefile.MIME_TYPES["png"] == "image/png"
    assert all(mime.startswith("image/") for mime in imagefile.MIME_TYPES.values())
    assert ImageInfo("webp", 1, 1).mime_type == "image/webp"


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF", "TIFF", "BMP", "AVIF"])
def test_sniff_pillow_files(fmt: str) -> None:
    data = pillow_bytes(noise(9, 7, "RGB"), fmt)
    assert sniff_format(data[:64]) == {"WEBP": "webp", "JPEG": "jpeg"}.get(fmt, fmt.lower())


# ------------------------------------------------------------------------------------------- PNG


@pytest.mark.parametrize(
    "make,channels,depth",
    [
        (lambda: noise(123, 45, "L"), 1, 8),
        (lambda: noise(123, 45, "LA"), 2, 8),
        (lambda: noise(123, 45, "RGB"), 3, 8),
        (lambda: noise(123, 45, "RGBA"), 4, 8),
        (lambda: palette_image(123, 45), 3, 8),
        (lambda: Image.fromarray(RNG.integers(0, 65536, (45, 123), dtype=np.uint16)), 1, 16),
        (lambda: Image.fromarray(RNG.integers(0, 2, (45, 123)).astype(bool)), 1, 1),
    ],
)
def test_png_header(make: object, channels: int, depth: int) -> None:
    data = pillow_bytes(make(), "PNG")  # type: ignore[operator]
    assert read_image_header(data) == ImageInfo("png", 123, 45, channels, depth)


def test_png_palette_with_transparency_counts_alpha() -> None:
    data = pillow_bytes(palette_image(20, 10), "PNG", transparency=3)
    assert read_image_header(data).channels == 4


def test_png_large_dimensions_and_path(tmp_path: Path) -> None:
    # Only the header is read: a 40000 x 30000 header with no pixel data is enough.
    from scenario_texture_upscale.core import png

    tiny = png.encode_png(np.zeros((1, 1, 3), np.uint8))
    ihdr = struct.pack(">IIBBBBB", 40000, 30000, 8, 6, 0, 0, 0)
    import zlib

    chunk = struct.pack(">I", 13) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    path = tmp_path / "huge.png"
    path.write_bytes(tiny[:8] + chunk + tiny[33:])
    assert read_image_header(path) == ImageInfo("png", 40000, 30000, 4, 8)
    assert read_image_header(str(path)).width == 40000


def test_png_damaged_header() -> None:
    data = bytearray(pillow_bytes(noise(8, 8, "RGB"), "PNG"))
    data[20] ^= 0xFF  # inside IHDR
    with pytest.raises(ImageHeaderError, match="CRC"):
        read_image_header(bytes(data))
    with pytest.raises(ImageHeaderError, match="truncated"):
        read_image_header(bytes(data[:20]))


# ----------------------------------------------------------------------------- whole PNG files


def many_chunk_png(chunks: int) -> bytes:
    """A valid PNG whose image data is split into ``chunks`` IDAT chunks, as libpng writes."""
    import zlib

    whole = pillow_bytes(noise(64, 64, "RGB"), "PNG", compress_level=0)
    ihdr_end = 33
    idat_at = whole.index(b"IDAT") - 4
    (length,) = struct.unpack(">I", whole[idat_at : idat_at + 4])
    data = whole[idat_at + 8 : idat_at + 8 + length]
    step = -(-len(data) // chunks)
    parts = [data[i : i + step] for i in range(0, len(data), step)]
    body = b"".join(
        struct.pack(">I", len(part)) + b"IDAT" + part + struct.pack(">I", zlib.crc32(b"IDAT" + part))
        for part in parts
    )
    return whole[:ihdr_end] + body + whole[idat_at + 12 + length :]


def test_a_whole_png_passes_from_a_path_bytes_or_a_buffer(tmp_path: Path) -> None:
    data = many_chunk_png(20)
    path = tmp_path / "brick.png"
    path.write_bytes(data)
    for source in (path, str(path), data, bytearray(data), memoryview(data)):
        check_whole(source)
    assert read_image_header(memoryview(data)).width == 64
    check_whole(data + b"trailing bytes after IEND are ignored")


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.999])
def test_a_png_cut_short_is_damaged(keep: float) -> None:
    data = many_chunk_png(20)
    cut = data[: int(len(data) * keep)]
    assert read_image_header(cut).width == 64, "its header alone looks fine"
    with pytest.raises(ImageHeaderError, match="runs past the end of the file|without its IEND"):
        check_whole(cut)


def test_a_png_without_iend_or_with_a_bad_chunk_is_damaged() -> None:
    data = many_chunk_png(4)
    with pytest.raises(ImageHeaderError, match="without its IEND"):
        check_whole(data[:-12])
    broken = bytearray(data)
    broken[37:41] = b"\x00\x01\x02\x03"  # the first IDAT's type
    with pytest.raises(ImageHeaderError, match="no valid chunk at byte 33"):
        check_whole(bytes(broken))
    longer = bytearray(data)
    longer[33:37] = struct.pack(">I", len(data))  # the first IDAT's length
    with pytest.raises(ImageHeaderError, match="IDAT chunk at byte 33 runs past the end of the file"):
        check_whole(bytes(longer))


def test_the_whole_check_reads_chunk_headers_only() -> None:
    data = many_chunk_png(200)
    reader = CountingReader(data)
    check_whole(reader)
    assert reader.bytes_read <= 64 + 8 * 203, f"{reader.bytes_read} of {len(data)} bytes read"


def test_other_formats_are_not_checked() -> None:
    jpeg = pillow_bytes(noise(16, 16, "RGB"), "JPEG")
    check_whole(jpeg[: len(jpeg) // 2])
    check_whole(b"not an image at all")


# ------------------------------------------------------------------------------------------ JPEG


@pytest.mark.parametrize(
    "mode,options,channels",
    [
        ("L", {}, 1),
        ("RGB", {}, 3),
        ("RGB", {"progressive": True}, 3),
        ("RGB", {"subsampling": 0, "quality": 95}, 3),
        ("CMYK", {}, 4),
    ],
)
def test_jpeg_header(mode: str, options: dict[str, object], channels: int) -> None:
    data = pillow_bytes(noise(321, 123, mode), "JPEG", **options)
    assert read_image_header(data) == ImageInfo("jpeg", 321, 123, channels, 8)


def test_progressive_jpeg_uses_sof2() -> None:
    data = pillow_bytes(noise(40, 30, "RGB"), "JPEG", progressive=True)
    assert b"\xff\xc2" in data and b"\xff\xc0" not in data
    assert read_image_header(data).width == 40


def test_jpeg_with_big_exif_and_icc_is_read_cheaply() -> None:
    exif = Image.Exif()
    exif[0x010E] = "x" * 60_000  # ImageDescription: a ~60 KB APP1 segment
    icc = b"\x00" * 300_000  # split by Pillow into several APP2 segments
    data = pillow_bytes(noise(640, 480, "RGB"), "JPEG", exif=exif.tobytes(), icc_profile=icc)
    sof = data.find(b"\xff\xc0")
    assert sof > 300_000  # the frame header really is far from the start
    reader = CountingReader(data)
    assert read_image_header(reader) == ImageInfo("jpeg", 640, 480, 3, 8)
    assert reader.bytes_read < 512  # segment lengths only, not the segments
    # Pillow's own thumbnail-in-EXIF or scan data must not confuse the marker walk.
    assert Image.open(io.BytesIO(data)).size == (640, 480)


def test_jpeg_damaged() -> None:
    data = pillow_bytes(noise(16, 16, "RGB"), "JPEG")
    sof = data.find(b"\xff\xc0")
    with pytest.raises(ImageHeaderError):
        read_image_header(data[: sof + 4])
    no_frame = b"\xff\xd8\xff\xda\x00\x08" + b"\x00" * 20
    with pytest.raises(ImageHeaderError, match="frame header"):
        read_image_header(no_frame)
    garbage = b"\xff\xd8\xff\xe0\x00\x04\x00\x00\x12\x34"
    with pytest.raises(ImageHeaderError, match="marker"):
        read_image_header(garbage)


# ------------------------------------------------------------------------------------------ WebP


@pytest.mark.parametrize(
    "mode,options,channels,chunk",
    [
        ("RGB", {"quality": 80}, 3, b"VP8 "),
        ("RGB", {"lossless": True}, 3, b"VP8L"),
        ("RGBA", {"lossless": True}, 4, b"VP8L"),
        ("RGBA", {"quality": 80}, 4, b"VP8X"),
    ],
)
def test_webp_header(mode: str, options: dict[str, object], channels: int, chunk: bytes) -> None:
    image = noise(333, 77, mode)
    if mode == "RGBA":
        array = np.asarray(image).copy()
        array[:10, :10, 3] = 0  # make the alpha matter so the encoder keeps it
        image = Image.fromarray(array, "RGBA")
    data = pillow_bytes(image, "WEBP", **options)
    assert data[12:16] == chunk
    assert read_image_header(data) == ImageInfo("webp", 333, 77, channels, 8)


def test_webp_extended_with_exif() -> None:
    exif = Image.Exif()
    exif[0x010E] = "described"
    data = pillow_bytes(noise(64, 48, "RGB"), "WEBP", exif=exif.tobytes())
    assert data[12:16] == b"VP8X"
    assert read_image_header(data) == ImageInfo("webp", 64, 48, 3, 8)


def test_webp_large_width() -> None:
    data = pillow_bytes(noise(9000, 2, "RGB"), "WEBP", lossless=True)
    assert read_image_header(data).width == 9000


# ------------------------------------------------------------------------------------------- GIF


def test_gif_header() -> None:
    data = pillow_bytes(palette_image(300, 200), "GIF")
    assert read_image_header(data) == ImageInfo("gif", 300, 200, 3, 8)
    transparent = pillow_bytes(palette_image(30, 20), "GIF", transparency=2)
    assert read_image_header(transparent) == ImageInfo("gif", 30, 20, 4, 8)
    frames = [palette_image(50, 40) for _ in range(3)]
    animated = pillow_bytes(frames[0], "GIF", save_all=True, append_images=frames[1:], loop=0)
    assert read_image_header(animated) == ImageInfo("gif", 50, 40, 3, 8)


# ------------------------------------------------------------------------------ BMP, TIFF, others


def test_bmp_header() -> None:
    assert read_image_header(pillow_bytes(noise(31, 17, "RGB"), "BMP")) == ImageInfo(
        "bmp", 31, 17, 3, 8
    )
    assert read_image_header(pillow_bytes(noise(31, 17, "RGBA"), "BMP")).channels == 4
    top_down = bytearray(pillow_bytes(noise(5, 6, "RGB"), "BMP"))
    struct.pack_into("<i", top_down, 22, -6)  # negative height: rows stored top-down
    assert read_image_header(bytes(top_down)).height == 6


@pytest.mark.parametrize(
    "image,channels,depth",
    [
        (lambda: noise(70, 50, "RGB"), 3, 8),
        (lambda: noise(70, 50, "RGBA"), 4, 8),
        (lambda: noise(70, 50, "L"), 1, 8),
        (lambda: noise(70, 50, "CMYK"), 4, 8),
        (lambda: Image.fromarray(RNG.integers(0, 65536, (50, 70), dtype=np.uint16)), 1, 16),
    ],
)
def test_tiff_header(image: object, channels: int, depth: int) -> None:
    for compression in (None, "tiff_lzw"):
        data = pillow_bytes(image(), "TIFF", compression=compression)  # type: ignore[operator]
        assert read_image_header(data) == ImageInfo("tiff", 70, 50, channels, depth)


def tiff_entry(order: str, tag: int, kind: int, count: int, value: int) -> bytes:
    if kind == 3 and count <= 2:  # fits in the entry: left-justified 16-bit value
        return struct.pack(order + "HHIHH", tag, kind, count, value, 0)
    return struct.pack(order + "HHII", tag, kind, count, value)


def test_big_endian_tiff_by_hand() -> None:
    entries = [
        tiff_entry(">", 256, 4, 1, 5000),
        tiff_entry(">", 257, 3, 1, 300),
        tiff_entry(">", 258, 3, 3, 8 + 2 + 4 * 12 + 4),  # 3 values: stored after the IFD
        tiff_entry(">", 277, 3, 1, 3),
    ]
    ifd = struct.pack(">H", len(entries)) + b"".join(entries) + b"\x00\x00\x00\x00"
    data = b"MM\x00*" + struct.pack(">I", 8) + ifd + struct.pack(">HHH", 16, 16, 16)
    assert read_image_header(data) == ImageInfo("tiff", 5000, 300, 3, 16)


def test_bigtiff_by_hand() -> None:
    def entry(tag: int, kind: int, value: int) -> bytes:
        fmt = {3: "<HHQHxxxxxx", 4: "<HHQIxxxx", 16: "<HHQQ"}[kind]
        return struct.pack(fmt, tag, kind, 1, value)

    entries = [entry(256, 16, 70000), entry(257, 4, 123), entry(277, 3, 4), entry(258, 3, 8)]
    ifd = struct.pack("<Q", len(entries)) + b"".join(entries) + b"\x00" * 8
    data = b"II+\x00" + struct.pack("<HHQ", 8, 0, 16) + ifd
    assert read_image_header(data) == ImageInfo("tiff", 70000, 123, 4, 8)


def test_avif_header_from_pillow() -> None:
    assert read_image_header(pillow_bytes(noise(123, 45, "RGB"), "AVIF")) == ImageInfo(
        "avif", 123, 45, 3, 8
    )
    rgba = pillow_bytes(noise(64, 32, "RGBA"), "AVIF")
    assert read_image_header(rgba) == ImageInfo("avif", 64, 32, 4, 8)


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def full_box(kind: bytes, payload: bytes) -> bytes:
    return box(kind, b"\x00\x00\x00\x00" + payload)


def test_heif_grid_by_hand() -> None:
    # A grid image: each 512 x 512 tile has an ispe, and so has the 1920 x 1080 whole.
    ipco = box(
        b"ipco",
        full_box(b"ispe", struct.pack(">II", 512, 512))
        + full_box(b"pixi", bytes([3, 10, 10, 10]))
        + full_box(b"ispe", struct.pack(">II", 1920, 1080)),
    )
    meta = full_box(b"meta", full_box(b"hdlr", b"\x00" * 4 + b"pict" + b"\x00" * 13)
                    + box(b"iprp", ipco + full_box(b"ipma", b"\x00" * 4)))
    data = box(b"ftyp", b"heic\x00\x00\x00\x00mif1heic") + meta + box(b"mdat", b"\x00" * 32)
    assert read_image_header(data) == ImageInfo("heif", 1920, 1080, 3, 10)


def test_heif_without_size_is_an_error() -> None:
    data = box(b"ftyp", b"heic\x00\x00\x00\x00mif1heic") + box(b"mdat", b"\x00" * 8)
    with pytest.raises(ImageHeaderError, match="meta"):
        read_image_header(data)


def exr_attribute(name: bytes, kind: bytes, value: bytes) -> bytes:
    return name + b"\x00" + kind + b"\x00" + struct.pack("<i", len(value)) + value


def test_exr_header_by_hand() -> None:
    channels = b"".join(
        name + b"\x00" + struct.pack("<iB3xii", 1, 0, 1, 1) for name in (b"A", b"B", b"G", b"R")
    ) + b"\x00"
    header = (
        b"v/1\x01" + struct.pack("<I", 2)
        + exr_attribute(b"channels", b"chlist", channels)
        + exr_attribute(b"compression", b"compression", b"\x03")
        + exr_attribute(b"dataWindow", b"box2i", struct.pack("<iiii", 0, 0, 2047, 1023))
        + exr_attribute(b"displayWindow", b"box2i", struct.pack("<iiii", 0, 0, 2047, 1023))
        + b"\x00"
    )
    assert read_image_header(header) == ImageInfo("exr", 2048, 1024, 4, 16)
    offset = header.replace(struct.pack("<iiii", 0, 0, 2047, 1023), struct.pack("<iiii", 10, 20,
                            109, 69), 1)
    assert read_image_header(offset) == ImageInfo("exr", 100, 50, 4, 16)


def test_hdr_header_by_hand() -> None:
    data = b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\nEXPOSURE=1.0\n\n-Y 512 +X 1024\n" + b"\x02" * 16
    assert read_image_header(data) == ImageInfo("hdr", 1024, 512, 3, None)
    rotated = data.replace(b"-Y 512 +X 1024", b"+X 300 -Y 200")
    assert read_image_header(rotated) == ImageInfo("hdr", 300, 200, 3, None)


# ---------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "data",
    [b"", b"hello world", b"\x00\x00\x02\x00" + b"\x00" * 40, b"GIF89a\x01"],
)
def test_unknown_or_truncated(data: bytes) -> None:
    with pytest.raises(ImageHeaderError):
        read_image_header(data)


def test_missing_file_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        read_image_header(tmp_path / "missing.png")


def test_header_error_is_value_error() -> None:
    assert issubclass(ImageHeaderError, ValueError)


def test_random_damage_only_raises_header_error() -> None:
    import random

    chooser = random.Random(2)
    rgb, rgba = noise(17, 13, "RGB"), noise(17, 13, "RGBA")
    samples = [
        pillow_bytes(rgb, "JPEG"),
        pillow_bytes(rgb, "JPEG", progressive=True),
        pillow_bytes(rgb, "WEBP"),
        pillow_bytes(rgba, "WEBP", lossless=True),
        pillow_bytes(palette_image(17, 13), "GIF", transparency=1),
        pillow_bytes(rgb, "TIFF"),
        pillow_bytes(rgba, "AVIF"),
        pillow_bytes(rgb, "BMP"),
        pillow_bytes(rgb, "PNG"),
    ]
    read = 0
    for _ in range(5000):
        data = bytearray(chooser.choice(samples))
        for _ in range(chooser.randint(1, 3)):
            data[chooser.randrange(4, min(len(data), 400))] = chooser.randrange(256)
        if chooser.random() < 0.3:
            data = data[: chooser.randrange(len(data))]
        try:
            info = read_image_header(bytes(data))
            assert info.width > 0 and info.height > 0
            read += 1
        except ImageHeaderError:
            pass
    assert read > 1000
