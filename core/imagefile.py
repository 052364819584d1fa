"""Image file formats: recognise a file from its first bytes and read its size from the header.

Nothing here decodes pixels. :func:`read_image_header` reads a few hundred bytes for most formats;
for JPEG it hops from marker to marker with seeks, so a frame header placed after a large EXIF or
ICC block is found without reading the blocks themselves. :func:`check_whole` hops the same way
from chunk to chunk of a PNG, to find a file cut short without reading its image data.
"""

from __future__ import annotations

import io
import os
import re
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Final, TypeAlias, TypeVar

# One table of formats for the project: the client's (api may not import core).
from ..api.image_complete import png_end_problem
from ..api.image_types import FILE_EXTENSIONS, MIME_TYPES, SCENARIO_UPLOAD_FORMATS, sniff_format

__all__ = [
    "FILE_EXTENSIONS",
    "MIME_TYPES",
    "SCENARIO_UPLOAD_FORMATS",
    "ImageHeaderError",
    "ImageInfo",
    "check_whole",
    "read_image_header",
    "sniff_format",
]

Source: TypeAlias = str | os.PathLike[str] | bytes | bytearray | memoryview
T = TypeVar("T")

# JPEG start-of-frame markers (C4 = DHT, C8 = JPG extension and CC = DAC are not frames).
_JPEG_SOF: Final = frozenset(
    {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
)
_JPEG_STANDALONE: Final = frozenset({0x01, *range(0xD0, 0xD8)})
_MAX_SEGMENTS: Final = 10_000


class ImageHeaderError(ValueError):
    """The header is unknown, truncated or damaged."""


@dataclass(frozen=True)
class ImageInfo:
    """What an image file's header says.

    ``channels``: colour channels after decoding (alpha included; palette images count as RGB, or
    RGBA when they have transparency; CMYK JPEGs are 4); None when the header does not tell.
    ``bit_depth``: bits per sample as stored (8 for palette images), None when not applicable.
    """

    format: str
    width: int
    height: int
    channels: int | None = None
    bit_depth: int | None = None

    @property
    def mime_type(self) -> str:
        return MIME_TYPES.get(self.format, "application/octet-stream")


def read_image_header(source: Source | BinaryIO) -> ImageInfo:
    """Reads the format, size and (when the header says) channels and bit depth of an image.

    ``source`` is a file path, the file's bytes, or a seekable binary file object (read from
    wherever needed; its position is left undefined). Supports PNG, JPEG (baseline, progressive,
    lossless, greyscale, CMYK), WebP (lossy, lossless, extended), GIF, BMP, TIFF (and BigTIFF),
    AVIF/HEIF (largest 'ispe' property), OpenEXR and Radiance HDR. Raises
    :class:`ImageHeaderError` for unknown or damaged headers, OSError if the file cannot be read.
    """
    return _with_reader(source, _read_header, buffered=True)


def check_whole(source: Source | BinaryIO) -> None:
    """Raises :class:`ImageHeaderError` when a PNG is cut short or its chunks do not add up: every
    chunk must lie inside the file, up to an IEND chunk. Reads 8 bytes per chunk, by seeking, so
    a 16K texture costs no more memory than a small one. Other formats are not checked.
    """
    _with_reader(source, _check_whole, buffered=False)


def _with_reader(source: Source | BinaryIO, use: Callable[[_Reader], T], buffered: bool) -> T:
    if isinstance(source, (str, os.PathLike)):
        # Unbuffered for hops: a buffered file would read 8 KiB at every seek.
        with open(source, "rb", buffering=-1 if buffered else 0) as handle:
            return use(_Reader(handle))
    if isinstance(source, (bytes, bytearray, memoryview)):
        return use(_Reader(memoryview(source).cast("B")))
    return use(_Reader(source))


class _Reader:
    """Random access reads that fail loudly on truncation, from a file or a buffer (not copied)."""

    def __init__(self, source: BinaryIO | io.RawIOBase | memoryview) -> None:
        if isinstance(source, memoryview):
            self._handle: BinaryIO | io.RawIOBase | None = None
            self._data = source
            self.size = source.nbytes
            return
        self._handle = source
        source.seek(0, os.SEEK_END)
        self.size = source.tell()

    def read(self, offset: int, count: int) -> bytes:
        """Exactly ``count`` bytes at ``offset``."""
        data = self.read_up_to(offset, count)
        if len(data) != count:
            raise ImageHeaderError("truncated file")
        return data

    def read_up_to(self, offset: int, count: int) -> bytes:
        if offset < 0 or offset >= self.size:
            return b""
        if self._handle is None:
            return bytes(self._data[offset : offset + count])
        self._handle.seek(offset)
        return self._handle.read(count) or b""


def _read_header(reader: _Reader) -> ImageInfo:
    head = reader.read_up_to(0, 64)
    fmt = sniff_format(head)
    parser = _PARSERS.get(fmt or "")
    if fmt is None or parser is None:
        raise ImageHeaderError("unrecognised image format")
    try:
        info = parser(reader)
    except (struct.error, IndexError):
        raise ImageHeaderError(f"truncated or damaged {fmt} header") from None
    if info.width <= 0 or info.height <= 0:
        raise ImageHeaderError(f"{fmt} header gives an invalid size {info.width}x{info.height}")
    return info


def _png(reader: _Reader) -> ImageInfo:
    chunk = reader.read(8, 25)
    length, tag = struct.unpack_from(">I4s", chunk, 0)
    if tag != b"IHDR" or length != 13:
        raise ImageHeaderError("PNG does not start with an IHDR chunk")
    width, height, depth, color_type = struct.unpack_from(">IIBB", chunk, 8)
    (crc,) = struct.unpack_from(">I", chunk, 21)
    if zlib.crc32(chunk[4:21]) != crc:
        raise ImageHeaderError("PNG IHDR chunk is damaged (CRC mismatch)")
    channels = {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}.get(color_type)
    if channels is None:
        raise ImageHeaderError(f"PNG has an invalid colour type {color_type}")
    if color_type == 3:
        depth = 8
        if _png_has_chunk_before_idat(reader, b"tRNS"):
            channels = 4
    return ImageInfo("png", width, height, channels, depth)


def _check_whole(reader: _Reader) -> None:
    if sniff_format(reader.read_up_to(0, 64)) != "png":
        return
    problem = png_end_problem(reader.read_up_to, reader.size)
    if problem is not None:
        raise ImageHeaderError(problem)


def _png_has_chunk_before_idat(reader: _Reader, wanted: bytes) -> bool:
    position = 33
    for _ in range(256):
        header = reader.read_up_to(position, 8)
        if len(header) < 8:
            return False
        length, tag = struct.unpack(">I4s", header)
        if tag == wanted:
            return True
        if tag in (b"IDAT", b"IEND"):
            return False
        position += 12 + length
    return False


def _jpeg(reader: _Reader) -> ImageInfo:
    position = 2
    for _ in range(_MAX_SEGMENTS):
        prefix, marker = reader.read(position, 2)
        if prefix != 0xFF:
            raise ImageHeaderError(f"JPEG marker expected at byte {position}")
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in _JPEG_STANDALONE or marker == 0xD8:
            position += 2
            continue
        if marker in (0xDA, 0xD9):
            raise ImageHeaderError("JPEG has no frame header before its image data")
        (length,) = struct.unpack(">H", reader.read(position + 2, 2))
        if length < 2:
            raise ImageHeaderError(f"JPEG segment with invalid length at byte {position}")
        if marker in _JPEG_SOF:
            precision, height, width, components = struct.unpack(
                ">BHHB", reader.read(position + 4, 6)
            )
            if height == 0:
                raise ImageHeaderError("JPEG height is only given after the image data (DNL)")
            return ImageInfo("jpeg", width, height, components, precision)
        position += 2 + length  # skip APPn (EXIF, ICC, XMP), DQT, DHT, COM, ... unread
    raise ImageHeaderError("JPEG has too many segments before its frame header")


def _webp(reader: _Reader) -> ImageInfo:
    header = reader.read(12, 8 + 10)
    fourcc = header[:4]
    data = header[8:]
    if fourcc == b"VP8 ":
        if data[3:6] != b"\x9d\x01\x2a":
            raise ImageHeaderError("WebP VP8 frame has no start code")
        width, height = struct.unpack_from("<HH", data, 6)
        return ImageInfo("webp", width & 0x3FFF, height & 0x3FFF, 3, 8)
    if fourcc == b"VP8L":
        if data[0] != 0x2F:
            raise ImageHeaderError("WebP VP8L stream has no signature")
        (bits,) = struct.unpack_from("<I", data, 1)
        alpha = (bits >> 28) & 1
        return ImageInfo("webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, 3 + alpha, 8)
    if fourcc == b"VP8X":
        flags = data[0]
        width = int.from_bytes(data[4:7], "little") + 1
        height = int.from_bytes(data[7:10], "little") + 1
        return ImageInfo("webp", width, height, 4 if flags & 0x10 else 3, 8)
    raise ImageHeaderError(f"unknown WebP chunk {fourcc!r}")


def _gif(reader: _Reader) -> ImageInfo:
    width, height, packed = struct.unpack("<HHB", reader.read(6, 5))
    position = 13
    if packed & 0x80:
        position += 3 << ((packed & 7) + 1)
    # Transparency of the first frame comes from a Graphic Control Extension before it.
    for _ in range(_MAX_SEGMENTS):
        introducer = reader.read_up_to(position, 2)
        if len(introducer) < 1 or introducer[0] != 0x21 or len(introducer) < 2:
            break  # image descriptor (0x2C), trailer or truncation: stop looking
        if introducer[1] == 0xF9:
            block = reader.read(position + 2, 2)
            if block[0] >= 1 and block[1] & 1:
                return ImageInfo("gif", width, height, 4, 8)
        position += 2
        while True:  # sub-blocks until the zero-length terminator
            size = reader.read(position, 1)[0]
            position += 1 + size
            if size == 0:
                break
    return ImageInfo("gif", width, height, 3, 8)


def _bmp(reader: _Reader) -> ImageInfo:
    (dib_size,) = struct.unpack("<I", reader.read(14, 4))
    if dib_size == 12:  # OS/2 1.x core header: 16-bit sizes
        width, height, _, bits = struct.unpack("<HHHH", reader.read(18, 8))
    else:
        width, height, _, bits = struct.unpack("<iiHH", reader.read(18, 12))
    channels = 4 if bits == 32 else 3
    return ImageInfo("bmp", width, abs(height), channels, 8)


_TIFF_TYPE_SIZES: Final = {1: 1, 3: 2, 4: 4, 16: 8}


def _tiff(reader: _Reader) -> ImageInfo:
    head = reader.read(0, 16)
    order = "<" if head[:2] == b"II" else ">"
    (version,) = struct.unpack_from(order + "H", head, 2)
    big = version == 43
    if big:
        (ifd,) = struct.unpack_from(order + "Q", head, 8)
        (count,) = struct.unpack(order + "Q", reader.read(ifd, 8))
        entry_size, entries_at, value_size = 20, ifd + 8, 8
    else:
        (ifd,) = struct.unpack_from(order + "I", head, 4)
        (count,) = struct.unpack(order + "H", reader.read(ifd, 2))
        entry_size, entries_at, value_size = 12, ifd + 2, 4
    count = min(count, 1000)
    entries = reader.read(entries_at, count * entry_size)
    tags: dict[int, int] = {}
    for index in range(count):
        at = index * entry_size
        tag, kind = struct.unpack_from(order + "HH", entries, at)
        if tag not in (256, 257, 258, 277) or kind not in _TIFF_TYPE_SIZES:
            continue
        size = _TIFF_TYPE_SIZES[kind]
        values_count = struct.unpack_from(order + ("Q" if big else "I"), entries, at + 4)[0]
        value_at = at + (12 if big else 8)
        fmt = order + {1: "B", 3: "H", 4: "I", 16: "Q"}[kind]
        if size * values_count <= value_size:
            tags[tag] = struct.unpack_from(fmt, entries, value_at)[0]
        else:  # stored elsewhere: the first value is enough (bits of the first sample)
            pointer = struct.unpack_from(order + ("Q" if big else "I"), entries, value_at)[0]
            tags[tag] = struct.unpack(fmt, reader.read(pointer, size))[0]
    if 256 not in tags or 257 not in tags:
        raise ImageHeaderError("TIFF has no image size in its first directory")
    return ImageInfo("tiff", tags[256], tags[257], tags.get(277, 1), tags.get(258, 1))


def _hdr(reader: _Reader) -> ImageInfo:
    text = reader.read_up_to(0, 1 << 16)
    end = text.find(b"\n\n")
    if end < 0:
        raise ImageHeaderError("Radiance HDR header has no end")
    match = re.match(rb"([+-])([XY]) (\d+) ([+-])([XY]) (\d+)", text[end + 2 :])
    if match is None:
        raise ImageHeaderError("Radiance HDR header has no resolution line")
    first, second = int(match.group(3)), int(match.group(6))
    width, height = (second, first) if match.group(2) == b"Y" else (first, second)
    return ImageInfo("hdr", width, height, 3, None)


_EXR_BITS: Final = {0: 32, 1: 16, 2: 32}


def _exr(reader: _Reader) -> ImageInfo:
    data = reader.read_up_to(0, 1 << 20)
    position = 8
    window: tuple[int, int, int, int] | None = None
    channels: list[int] = []
    while True:
        name, position = _c_string(data, position)
        if not name:
            break
        kind, position = _c_string(data, position)
        (size,) = struct.unpack_from("<i", data, position)
        position += 4
        value = data[position : position + size]
        if len(value) < size:
            raise ImageHeaderError("truncated OpenEXR header")
        position += size
        if name == b"dataWindow" and kind == b"box2i":
            x_min, y_min, x_max, y_max = struct.unpack_from("<iiii", value)
            window = (x_min, y_min, x_max, y_max)
        elif name == b"channels" and kind == b"chlist":
            channels = _exr_channel_types(value)
    if window is None:
        raise ImageHeaderError("OpenEXR header has no dataWindow")
    x_min, y_min, x_max, y_max = window
    bits = _EXR_BITS.get(channels[0]) if channels else None
    return ImageInfo("exr", x_max - x_min + 1, y_max - y_min + 1, len(channels) or None, bits)


def _exr_channel_types(value: bytes) -> list[int]:
    types: list[int] = []
    position = 0
    while position < len(value):
        name, position = _c_string(value, position)
        if not name:
            break
        (pixel_type,) = struct.unpack_from("<i", value, position)
        types.append(pixel_type)
        position += 16  # pixel type, pLinear + 3 reserved, x and y sampling
    return types


def _c_string(data: bytes, position: int) -> tuple[bytes, int]:
    end = data.find(b"\x00", position)
    if end < 0:
        raise ImageHeaderError("truncated header")
    return data[position:end], end + 1


def _isobmff(reader: _Reader) -> ImageInfo:
    fmt = sniff_format(reader.read_up_to(0, 64)) or "heif"
    meta = None
    for kind, start, end in _boxes(reader, 0, reader.size):
        if kind == b"meta":
            meta = reader.read(start, min(end - start, 4 << 20))
            break
    if meta is None:
        raise ImageHeaderError(f"{fmt} file has no meta box")
    sizes: list[tuple[int, int]] = []
    channels: int | None = None
    bits: int | None = None
    has_alpha = False
    memory = _Reader(io.BytesIO(meta))
    for kind, start, end in _boxes(memory, 4, len(meta)):  # meta is a full box: skip 4 bytes
        if kind != b"iprp":
            continue
        for inner, inner_start, inner_end in _boxes(memory, start, end):
            if inner != b"ipco":
                continue
            for prop, prop_start, prop_end in _boxes(memory, inner_start, inner_end):
                if prop == b"ispe":
                    sizes.append(struct.unpack_from(">II", meta, prop_start + 4))
                elif prop == b"pixi" and channels is None:
                    channels = meta[prop_start + 4]
                    bits = meta[prop_start + 5] if channels else None
                elif prop == b"auxC" and _is_alpha_urn(meta[prop_start:prop_end]):
                    has_alpha = True
    if not sizes:
        raise ImageHeaderError(f"{fmt} file has no image size (ispe) property")
    # Grid images list each tile's size and the whole image's; the largest is the image.
    width, height = max(sizes, key=lambda size: size[0] * size[1])
    if has_alpha:
        channels = (channels or 3) + 1
    return ImageInfo(fmt, width, height, channels, bits)


def _is_alpha_urn(payload: bytes) -> bool:
    # AVIF: "urn:mpeg:mpegB:cicp:systems:auxiliary:alpha"; HEIF/HEVC: "urn:mpeg:hevc:2015:auxid:1".
    return b"auxiliary:alpha" in payload or b"auxid:1\x00" in payload


def _boxes(reader: _Reader, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of the ISO-BMFF boxes laid out in [start, end)."""
    position = start
    for _ in range(_MAX_SEGMENTS):
        if position + 8 > end:
            return
        size, kind = struct.unpack(">I4s", reader.read(position, 8))
        header = 8
        if size == 1:
            (size,) = struct.unpack(">Q", reader.read(position + 8, 8))
            header = 16
        elif size == 0:
            size = end - position
        if size < header:
            raise ImageHeaderError("damaged box structure")
        yield kind, position + header, min(end, position + size)
        position += size


_PARSERS: Final = {
    "png": _png,
    "jpeg": _jpeg,
    "webp": _webp,
    "gif": _gif,
    "bmp": _bmp,
    "tiff": _tiff,
    "hdr": _hdr,
    "exr": _exr,
    "avif": _isobmff,
    "heif": _isobmff,
}
