from __future__ import annotations

import base64
import contextlib
import json
import mmap
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest
import responses
from scenario_texture_upscale.api import (
    PART_SIZE,
    SMALL_UPLOAD_MAX_BYTES,
    ScenarioClient,
    UnexpectedResponseError,
    UnsafeLinkError,
    UploadError,
)
from scenario_texture_upscale.api import uploads as uploads_mod

from .conftest import BASE, S3, TOKEN, asset_json, png_bytes

SIGNATURES = {
    "image/png": b"\x89PNG\r\n\x1a\n",
    "image/jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF",
    "image/webp": b"RIFF\x00\x00\x00\x00WEBPVP8 ",
    "image/gif": b"GIF89a",
    "image/tiff": b"II*\x00",
    "image/avif": b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1",
    "image/heif": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",
}


def upload_json(count: int, upload_id: str = "upload_1", scheme: str = "https") -> dict[str, Any]:
    base = S3 if scheme == "https" else "http://s3.scenario.test"
    return {
        "upload": {
            "id": upload_id,
            "status": "pending",
            "parts": [
                {"number": n, "url": f"{base}/up/{n}?X-Amz-Signature=sig{n}&X-Amz-Expires=900",
                 "expires": "2030-01-01T00:00:00Z"}
                for n in range(1, count + 1)
            ],
        }
    }


def status_json(status: str, **extra: Any) -> dict[str, Any]:
    return {"upload": {"id": "upload_1", "status": status, **extra}}


def mock_multipart(mocked: responses.RequestsMock, count: int, statuses: list[str]) -> None:
    mocked.add(responses.POST, f"{BASE}/uploads", json=upload_json(count))
    for n in range(1, count + 1):
        mocked.add(responses.PUT, f"{S3}/up/{n}?X-Amz-Signature=sig{n}&X-Amz-Expires=900")
    mocked.add(responses.POST, f"{BASE}/uploads/upload_1/action", json=status_json("complete"))
    for status in statuses:
        extra = {"entityId": "asset_big"} if status == "imported" else {}
        mocked.add(responses.GET, f"{BASE}/uploads/upload_1", json=status_json(status, **extra))
    mocked.add(responses.GET, f"{BASE}/assets/asset_big", json=asset_json("asset_big"))


# --- small uploads ----------------------------------------------------------------------------


def test_small_file_sent_as_data_url(
    mocked: responses.RequestsMock, client: ScenarioClient, tmp_path: Path
) -> None:
    data = png_bytes(10_000)
    path = tmp_path / "brick.png"
    path.write_bytes(data)
    mocked.add(responses.POST, f"{BASE}/assets", json=asset_json("asset_new"))
    seen: list[tuple[int, int]] = []
    asset = client.upload_image(path, progress=lambda sent, total: seen.append((sent, total)))
    assert asset.id == "asset_new"
    request = mocked.calls[0].request
    body = json.loads(request.body)
    assert body["name"] == "brick.png"
    prefix = "data:image/png;base64,"
    assert body["image"].startswith(prefix)
    assert base64.b64decode(body["image"][len(prefix):]) == data
    assert request.headers["Authorization"] == f"Basic {TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    assert seen == [(0, 10_000), (10_000, 10_000)]


def test_name_with_quotes_is_valid_json(
    mocked: responses.RequestsMock, client: ScenarioClient
) -> None:
    mocked.add(responses.POST, f"{BASE}/assets", json=asset_json())
    client.upload_image(png_bytes(100), name='we"ird\\name é.png')
    assert json.loads(mocked.calls[0].request.body)["name"] == 'we"ird\\name é.png'


@pytest.mark.parametrize("mime", sorted(SIGNATURES))
def test_mime_sniffed_from_signature(
    mocked: responses.RequestsMock, client: ScenarioClient, mime: str
) -> None:
    mocked.add(responses.POST, f"{BASE}/assets", json=asset_json())
    client.upload_image(SIGNATURES[mime] + bytes(100))
    body = json.loads(mocked.calls[0].request.body)
    assert body["image"].startswith(f"data:{mime};base64,")
    assert body["name"].startswith("texture.")


def test_bytes_source_and_str_path(
    mocked: responses.RequestsMock, client: ScenarioClient, tmp_path: Path
) -> None:
    mocked.add(responses.POST, f"{BASE}/assets", json=asset_json())
    mocked.add(responses.POST, f"{BASE}/assets", json=asset_json())
    client.upload_image(bytearray(png_bytes(64)), name="mem.png")  # type: ignore[arg-type]
    path = tmp_path / "s.png"
    path.write_bytes(png_bytes(64))
    client.upload_image(str(path))
    assert json.loads(mocked.calls[1].request.body)["name"] == "s.png"


def test_asset_post_is_retried(mocked: responses.RequestsMock, client: ScenarioClient) -> None:
    # A repeat only risks a duplicate asset, never a charge.
    mocked.add(responses.POST, f"{BASE}/assets", status=503)
    mocked.add(responses.POST, f"{BASE}/assets", json=asset_json())
    assert client.upload_image(png_bytes(64)).id == "asset_1"
    assert len(mocked.calls) == 2


def test_answer_without_asset_id(mocked: responses.RequestsMock, client: ScenarioClient) -> None:
    mocked.add(responses.POST, f"{BASE}/assets", json={"asset": {}})
    with pytest.raises(UnexpectedResponseError):
        client.upload_image(png_bytes(64))


@pytest.mark.parametrize(
    ("head", "named"),
    [
        (b"BM" + bytes(12) + (40).to_bytes(4, "little") + bytes(46), "BMP"),
        (b"\x76\x2f\x31\x01" + bytes(60), "OpenEXR"),
        (b"#?RADIANCE\n" + bytes(60), "Radiance HDR"),
        (b"8BPS" + bytes(60), "PSD"),
        (b"DDS " + bytes(60), "DDS"),
        (b"\x00\x00\x00\x0cjP  \r\n\x87\n" + bytes(60), "JPEG 2000"),
        (b"\x00\x00\x00\x18ftypisom" + bytes(60), "unrecognised"),
        (b"<svg xmlns=...>", "unrecognised"),
        (b"random text", "unrecognised"),
    ],
)
def test_unsupported_formats_refused_locally(
    mocked: responses.RequestsMock, client: ScenarioClient, head: bytes, named: str
) -> None:
    with pytest.raises(UploadError) as info:
        client.upload_image(head)
    assert named in info.value.message
    assert "PNG" in info.value.message
    assert len(mocked.calls) == 0


def test_missing_empty_and_folder_sources(client: ScenarioClient, tmp_path: Path) -> None:
    with pytest.raises(UploadError, match="Cannot read"):
        client.upload_image(tmp_path / "nope.png")
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(UploadError, match="empty"):
        client.upload_image(tmp_path / "empty.png")
    with pytest.raises(UploadError, match="not a file"):
        client.upload_image(tmp_path)
    with pytest.raises(UploadError, match="empty"):
        client.upload_image(b"")


def test_small_limit_boundary(mocked: responses.RequestsMock, client: ScenarioClient) -> None:
    mocked.add(responses.POST, f"{BASE}/assets", json=asset_json())
    client.upload_image(png_bytes(SMALL_UPLOAD_MAX_BYTES))
    assert mocked.calls[0].request.url == f"{BASE}/assets"
    mock_multipart(mocked, 1, ["imported"])
    client.upload_image(png_bytes(SMALL_UPLOAD_MAX_BYTES + 1))
    assert mocked.calls[1].request.url == f"{BASE}/uploads"


# --- multipart ----------------------------------------------------------------------------------


class ReadSpy:
    """Wraps the file the uploader opens and records how much it reads at once."""

    def __init__(self) -> None:
        self.reads: list[int] = []

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        original = uploads_mod._Source.open
        spy = self

        @contextlib.contextmanager
        def spying(source: Any) -> Iterator[Any]:
            with original(source) as handle:
                yield _Counting(handle, spy.reads)

        monkeypatch.setattr(uploads_mod._Source, "open", spying)


class _Counting:
    def __init__(self, handle: IO[bytes], reads: list[int]) -> None:
        self.handle, self.reads = handle, reads

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.reads.append(len(data))
        return data


def test_large_file_multipart(
    mocked: responses.RequestsMock,
    client: ScenarioClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = png_bytes(2 * PART_SIZE + 1000)
    path = tmp_path / "huge.png"
    path.write_bytes(data)
    spy = ReadSpy()
    spy.install(monkeypatch)
    mock_multipart(mocked, 3, ["complete", "validating", "validated", "imported"])
    seen: list[tuple[int, int]] = []
    asset = client.upload_image(path, progress=lambda s, t: seen.append((s, t)))
    assert asset.id == "asset_big"

    calls = [(c.request.method, c.request.url.split("?")[0]) for c in mocked.calls]
    assert calls[0] == ("POST", f"{BASE}/uploads")
    assert json.loads(mocked.calls[0].request.body) == {
        "fileName": "huge.png", "contentType": "image/png", "fileSize": len(data), "parts": 3,
        "kind": "image",
    }
    puts = [c.request for c in mocked.calls if c.request.method == "PUT"]
    assert [len(p.body) for p in puts] == [PART_SIZE, PART_SIZE, 1000]
    assert b"".join(p.body for p in puts) == data
    for n, put in enumerate(puts, start=1):
        assert "Authorization" not in put.headers
        assert put.headers["Content-Type"] == "image/png"
        # The signed URL is used exactly as given.
        assert put.url == f"{S3}/up/{n}?X-Amz-Signature=sig{n}&X-Amz-Expires=900"
    complete = next(c.request for c in mocked.calls if c.request.url.endswith("/action"))
    assert json.loads(complete.body) == {"action": "complete"}
    assert complete.headers["Authorization"] == f"Basic {TOKEN}"
    assert calls[-1] == ("GET", f"{BASE}/assets/asset_big")
    assert sum(1 for c in calls if c == ("GET", f"{BASE}/uploads/upload_1")) == 4

    # Never more than one part in memory: reads are the sniff head, then one part at a time.
    assert max(spy.reads) <= PART_SIZE
    assert seen[0] == (0, len(data)) and seen[-1] == (len(data), len(data))
    assert [s for s, _ in seen] == sorted(s for s, _ in seen)
    assert (PART_SIZE, len(data)) in seen


def test_multipart_from_bytes_and_small_parts(
    mocked: responses.RequestsMock, client: ScenarioClient
) -> None:
    min_part = uploads_mod.MIN_PART_SIZE
    data = png_bytes(min_part + 10)
    mock_multipart(mocked, 2, ["imported"])
    uploads_mod.upload_image(client.transport, data, small_limit=100, part_size=min_part)
    puts = [c.request for c in mocked.calls if c.request.method == "PUT"]
    assert [len(p.body) for p in puts] == [min_part, 10]
    with pytest.raises(ValueError):
        uploads_mod.upload_image(client.transport, data, part_size=min_part - 1)


def test_mapped_buffer_is_read_part_by_part(
    mocked: responses.RequestsMock, client: ScenarioClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A large packed image arrives as a view of an anonymous mapping: sent as it is, one part
    # in memory at a time, never copied whole.
    min_part = uploads_mod.MIN_PART_SIZE
    data = png_bytes(min_part + 10)
    buffer = mmap.mmap(-1, len(data))
    buffer[:] = data
    spy = ReadSpy()
    spy.install(monkeypatch)
    mock_multipart(mocked, 2, ["imported"])
    uploads_mod.upload_image(client.transport, memoryview(buffer), small_limit=100,
                             part_size=min_part)
    puts = [c.request for c in mocked.calls if c.request.method == "PUT"]
    assert b"".join(p.body for p in puts) == data
    assert max(spy.reads) == min_part

    mocked.add(responses.POST, f"{BASE}/assets", json=asset_json())
    client.upload_image(memoryview(buffer)[:2000], name="small.png")
    body = json.loads(mocked.calls[-1].request.body)
    assert base64.b64decode(body["image"].split(",", 1)[1]) == data[:2000]


def test_failed_part_is_retried(mocked: responses.RequestsMock, client: ScenarioClient) -> None:
    url = f"{S3}/up/1?X-Amz-Signature=sig1&X-Amz-Expires=900"
    mocked.add(responses.PUT, url, status=503)
    mock_multipart(mocked, 1, ["imported"])
    uploads_mod.upload_image(client.transport, png_bytes(200), small_limit=100)
    assert sum(1 for c in mocked.calls if c.request.method == "PUT") == 2


def test_refused_part_fails_clearly(mocked: responses.RequestsMock, client: ScenarioClient) -> None:
    mocked.add(responses.POST, f"{BASE}/uploads", json=upload_json(1))
    mocked.add(responses.PUT, f"{S3}/up/1?X-Amz-Signature=sig1&X-Amz-Expires=900", status=403)
    with pytest.raises(UploadError, match="part 1 of 1") as info:
        uploads_mod.upload_image(client.transport, png_bytes(200), small_limit=100)
    assert info.value.status == 403


def test_import_failure_reports_reason(
    mocked: responses.RequestsMock, client: ScenarioClient
) -> None:
    mock_multipart(mocked, 1, [])
    mocked.add(
        responses.GET, f"{BASE}/uploads/upload_1",
        json=status_json("failed", errorMessage="Corrupt image data."),
    )
    with pytest.raises(UploadError) as info:
        uploads_mod.upload_image(client.transport, png_bytes(200), small_limit=100)
    assert "Corrupt image data" in info.value.message
    assert info.value.reason == "Corrupt image data."


def test_import_polling_is_capped(
    mocked: responses.RequestsMock, client: ScenarioClient
) -> None:
    mock_multipart(mocked, 1, ["validating"])  # repeats forever
    with pytest.raises(UploadError, match="within 20 s"):
        uploads_mod.upload_image(
            client.transport, png_bytes(200), small_limit=100, import_timeout=20
        )
    polls = sum(1 for c in mocked.calls if c.request.url == f"{BASE}/uploads/upload_1")
    assert 3 <= polls <= 15


def test_imported_without_entity_id(mocked: responses.RequestsMock, client: ScenarioClient) -> None:
    mock_multipart(mocked, 1, [])
    mocked.add(responses.GET, f"{BASE}/uploads/upload_1", json=status_json("imported"))
    with pytest.raises(UnexpectedResponseError):
        uploads_mod.upload_image(client.transport, png_bytes(200), small_limit=100)


def test_wrong_number_of_part_urls(mocked: responses.RequestsMock, client: ScenarioClient) -> None:
    mocked.add(responses.POST, f"{BASE}/uploads", json=upload_json(2))
    with pytest.raises(UnexpectedResponseError, match=r"2 upload addresses for 1 part\b"):
        uploads_mod.upload_image(client.transport, png_bytes(200), small_limit=100)


def test_insecure_part_url_refused(mocked: responses.RequestsMock, client: ScenarioClient) -> None:
    mocked.add(responses.POST, f"{BASE}/uploads", json=upload_json(1, scheme="http"))
    with pytest.raises(UnsafeLinkError, match="upload address for part 1 of 1 that is not https"):
        uploads_mod.upload_image(client.transport, png_bytes(200), small_limit=100)
    assert not any(c.request.method == "PUT" for c in mocked.calls)


def test_missing_upload_id(mocked: responses.RequestsMock, client: ScenarioClient) -> None:
    body = upload_json(1)
    del body["upload"]["id"]
    mocked.add(responses.POST, f"{BASE}/uploads", json=body)
    with pytest.raises(UnexpectedResponseError):
        uploads_mod.upload_image(client.transport, png_bytes(200), small_limit=100)


def test_repeated_complete_refused_but_upload_processing(
    mocked: responses.RequestsMock, client: ScenarioClient
) -> None:
    mocked.add(responses.POST, f"{BASE}/uploads", json=upload_json(1))
    mocked.add(responses.PUT, f"{S3}/up/1?X-Amz-Signature=sig1&X-Amz-Expires=900")
    mocked.add(
        responses.POST, f"{BASE}/uploads/upload_1/action", status=400,
        json={"reason": "Upload already completed"},
    )
    mocked.add(responses.GET, f"{BASE}/uploads/upload_1", json=status_json("validating"))
    mocked.add(
        responses.GET, f"{BASE}/uploads/upload_1",
        json=status_json("imported", entityId="asset_big"),
    )
    mocked.add(responses.GET, f"{BASE}/assets/asset_big", json=asset_json("asset_big"))
    asset = uploads_mod.upload_image(client.transport, png_bytes(200), small_limit=100)
    assert asset.id == "asset_big"


def test_complete_refused_for_real(mocked: responses.RequestsMock, client: ScenarioClient) -> None:
    mocked.add(responses.POST, f"{BASE}/uploads", json=upload_json(1))
    mocked.add(responses.PUT, f"{S3}/up/1?X-Amz-Signature=sig1&X-Amz-Expires=900")
    mocked.add(
        responses.POST, f"{BASE}/uploads/upload_1/action", status=400,
        json={"reason": "Missing parts"},
    )
    mocked.add(responses.GET, f"{BASE}/uploads/upload_1", json=status_json("failed"))
    with pytest.raises(Exception, match="Missing parts"):
        uploads_mod.upload_image(client.transport, png_bytes(200), small_limit=100)


def test_big_tiff_and_newer_heif_brands_are_accepted_as_the_add_on_expects(
    mocked: responses.RequestsMock, client: ScenarioClient
) -> None:
    # The add-on decides what goes up as it is with the same signature table.
    mocked.add(responses.POST, f"{BASE}/assets", json=asset_json())
    mocked.add(responses.POST, f"{BASE}/assets", json=asset_json())
    client.upload_image(b"II+\x00" + bytes(100))
    client.upload_image(b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00hevm" + bytes(100))
    kinds = [json.loads(c.request.body)["image"].split(";")[0] for c in mocked.calls]
    assert kinds == ["data:image/tiff", "data:image/heif"]
