"""A result is judged by its header before anything decodes or loads it."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from scenario_texture_upscale.core import png
from scenario_texture_upscale.core.result_check import ResultLimits, ResultRejected, check_result


def header_only_png(path: Path, width: int, height: int) -> Path:
    """A PNG whose IHDR (with a valid CRC) claims ``width`` × ``height``; no pixels follow."""
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height,
                                                                     8, 6, 0, 0, 0))
                     + chunk(b"IEND", b""))
    return path


def test_a_result_of_the_asked_size_passes_and_tells_its_size(tmp_path: Path) -> None:
    path = tmp_path / "r.png"
    png.write_png(path, np.zeros((96, 128, 3), np.uint8))
    info = check_result(path, (128, 96), ResultLimits())
    assert (info.width, info.height) == (128, 96)


@pytest.mark.parametrize("size", [(127, 96), (129, 97), (128, 95)])
def test_a_pixel_of_rounding_is_allowed(tmp_path: Path, size: tuple[int, int]) -> None:
    check_result(header_only_png(tmp_path / "r.png", *size), (128, 96), ResultLimits())


@pytest.mark.parametrize("size", [(100, 37), (1280, 1280), (126, 96), (96, 128)])
def test_another_size_is_refused_naming_both(tmp_path: Path, size: tuple[int, int]) -> None:
    with pytest.raises(ResultRejected) as info:
        check_result(header_only_png(tmp_path / "r.png", *size), (128, 96), ResultLimits())
    assert str(info.value) == (f"Scenario's result is {size[0]}×{size[1]} px, but 128×96 px "
                               "was asked for.")


def test_a_header_bomb_is_refused_by_the_side_limit_before_the_size_is_compared(
        tmp_path: Path) -> None:
    with pytest.raises(ResultRejected, match=r"60000×60000 px, above the 16384 px limit set in "
                                             r"the preferences \(Largest Result Side\)"):
        check_result(header_only_png(tmp_path / "r.png", 60000, 60000), (128, 128),
                     ResultLimits())


def test_a_result_too_big_for_memory_is_refused(tmp_path: Path) -> None:
    limits = ResultLimits(max_side=65536, memory_bytes=1 << 30)
    with pytest.raises(ResultRejected, match="would take 14400 MB of memory, more than the "
                                             "1074 MB the add-on allows itself"):
        check_result(header_only_png(tmp_path / "r.png", 60000, 60000), None, limits)


def test_the_memory_budget_defaults_to_half_of_this_computer() -> None:
    assert ResultLimits().memory_budget > 0


@pytest.mark.parametrize("data", [b"", b"<html>not an image</html>",
                                  b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR" + bytes(17)])
def test_an_unreadable_header_is_refused(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "r.png"
    path.write_bytes(data)
    with pytest.raises(ResultRejected, match="not an image the add-on can read"):
        check_result(path, (128, 96), ResultLimits())


def test_a_result_in_another_format_than_asked_is_refused_naming_both(tmp_path: Path) -> None:
    path = tmp_path / "r.png"
    path.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
                     b"\xff\xc0\x00\x11\x08\x00\x60\x00\x80\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01"
                     b"\xff\xd9")
    with pytest.raises(ResultRejected, match="is a JPEG image, but a PNG was asked for"):
        check_result(path, (128, 96), ResultLimits(), "png")
    assert check_result(path, (128, 96), ResultLimits()).format == "jpeg", "any format will do"
