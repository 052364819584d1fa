from __future__ import annotations

import pytest
from scenario_texture_upscale.api import image_types as types

HEADS = {
    "png": b"\x89PNG\r\n\x1a\n" + bytes(24),
    "jpeg": b"\xff\xd8\xff\xe0" + bytes(28),
    "tiff": b"II*\x00" + bytes(28),
    "exr": b"v/1\x01" + bytes(28),
    "heif": b"\x00\x00\x00\x18ftypheic" + bytes(20),
}


def test_every_table_is_derived_from_the_one_table_of_formats() -> None:
    assert set(types.MIME_TYPES) == set(types.FILE_EXTENSIONS) == set(types.FORMATS)
    assert types.SCENARIO_UPLOAD_FORMATS == {"png", "jpeg", "webp", "gif", "tiff", "avif", "heif"}
    assert types.EXTENSIONS == {
        "image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp", "image/gif": ".gif",
        "image/tiff": ".tif", "image/avif": ".avif", "image/heif": ".heic",
    }
    assert types.ACCEPTED_UPLOAD_TYPES == set(types.EXTENSIONS)


@pytest.mark.parametrize(("fmt", "mime"), [("png", "image/png"), ("jpeg", "image/jpeg"),
                                           ("tiff", "image/tiff"), ("heif", "image/heif")])
def test_sniffed_types_scenario_takes(fmt: str, mime: str) -> None:
    assert types.sniff_format(HEADS[fmt]) == fmt
    assert types.sniff_image_type(HEADS[fmt]) == mime


def test_formats_scenario_refuses_are_named_in_the_message() -> None:
    assert types.sniff_image_type(HEADS["exr"]) is None
    assert types.describe_unsupported(HEADS["exr"]) == "OpenEXR"
    assert types.describe_unsupported(b"8BPS" + bytes(28)) == "Photoshop (PSD)"
    assert types.describe_unsupported(bytes(32)) == "an unrecognised format"
