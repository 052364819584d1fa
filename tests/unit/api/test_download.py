from __future__ import annotations

import hashlib
import io
import os
import threading
from pathlib import Path

import pytest
import responses
from scenario_texture_upscale.api import (
    CancelledError,
    DestinationExistsError,
    DownloadError,
    ScenarioClient,
    Transport,
)
from scenario_texture_upscale.api import download as download_mod

from .conftest import BASE, CDN, asset_json, png_bytes

ASSET_URL = f"{BASE}/assets/asset_1"
SIGNED = f"{CDN}/assets/asset_1.png?Policy=p&Signature=s&Key-Pair-Id=k"
FRESH = f"{CDN}/assets/asset_1.png?Policy=p2&Signature=s2&Key-Pair-Id=k"


def add_asset(mocked: responses.RequestsMock, url: str = SIGNED) -> None:
    mocked.add(responses.GET, ASSET_URL, json=asset_json("asset_1", url))


def add_file(
    mocked: responses.RequestsMock, body: bytes, url: str = SIGNED, status: int = 200,
    length: int | None = None,
) -> None:
    headers = {"Content-Type": "image/png"}
    if length is not None:
        headers["Content-Length"] = str(length)
    mocked.add(
        responses.GET, url, body=body, status=status, headers=headers,
        auto_calculate_content_length=length is None,
    )


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_download_streams_to_disk(
    mocked: responses.RequestsMock, client: ScenarioClient, tmp_path: Path
) -> None:
    data = png_bytes(700_000)
    add_asset(mocked)
    add_file(mocked, data)
    dest = tmp_path / "out.png"
    seen: list[tuple[int, int]] = []
    result = client.download_asset("asset_1", dest, progress=lambda d, t: seen.append((d, t)))
    assert dest.read_bytes() == data
    assert result.path == str(dest) and result.size == len(data)
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert result.mime_type == "image/png"
    assert leftovers(tmp_path) == ["out.png"]
    cdn = mocked.calls[1].request
    assert cdn.url == SIGNED  # query untouched
    assert "Authorization" not in cdn.headers
    assert seen[-1] == (len(data), len(data))
    assert len(seen) > 1


def test_existing_destination_never_touched(
    mocked: responses.RequestsMock, client: ScenarioClient, tmp_path: Path
) -> None:
    dest = tmp_path / "out.png"
    dest.write_bytes(b"precious")
    with pytest.raises(DestinationExistsError) as info:
        client.download_asset("asset_1", dest)
    assert info.value.path == str(dest)
    assert dest.read_bytes() == b"precious"
    assert len(mocked.calls) == 0


def test_destination_appearing_during_download_is_kept(
    mocked: responses.RequestsMock, client: ScenarioClient, tmp_path: Path
) -> None:
    dest = tmp_path / "out.png"
    add_asset(mocked)
    add_file(mocked, png_bytes(1000))

    def someone_else_writes(done: int, total: int) -> None:
        if not dest.exists():
            dest.write_bytes(b"theirs")

    with pytest.raises(DestinationExistsError):
        client.download_asset("asset_1", dest, progress=someone_else_writes)
    assert dest.read_bytes() == b"theirs"
    assert leftovers(tmp_path) == ["out.png"]


def test_without_hard_links_still_exclusive(
    mocked: responses.RequestsMock,
    client: ScenarioClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_link(src: str, dst: str) -> None:
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(download_mod.os, "link", no_link)
    data = png_bytes(5000)
    add_asset(mocked)
    add_file(mocked, data)
    dest = tmp_path / "out.png"
    client.download_asset("asset_1", dest)
    assert dest.read_bytes() == data
    assert leftovers(tmp_path) == ["out.png"]


def test_without_hard_links_and_destination_appears(
    mocked: responses.RequestsMock,
    client: ScenarioClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dest = tmp_path / "out.png"

    def no_link(src: str, dst: str) -> None:
        dest.write_bytes(b"theirs")  # the name is taken just before our claim
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(download_mod.os, "link", no_link)
    add_asset(mocked)
    add_file(mocked, png_bytes(5000))
    with pytest.raises(DestinationExistsError):
        client.download_asset("asset_1", dest)
    assert dest.read_bytes() == b"theirs"


def test_missing_folder(client: ScenarioClient, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="does not exist"):
        client.download_asset("asset_1", tmp_path / "nope" / "out.png")


def test_size_cap_from_content_length(
    mocked: responses.RequestsMock, client: ScenarioClient, tmp_path: Path
) -> None:
    add_asset(mocked)
    add_file(mocked, png_bytes(3000))
    with pytest.raises(DownloadError, match="limit"):
        client.download_asset("asset_1", tmp_path / "out.png", max_bytes=2000)
    assert leftovers(tmp_path) == []


def test_size_cap_while_streaming(
    mocked: responses.RequestsMock, client: ScenarioClient, tmp_path: Path
) -> None:
    add_asset(mocked)
    mocked.add(responses.GET, SIGNED, body=png_bytes(600_000), auto_calculate_content_length=False)
    with pytest.raises(DownloadError, match="limit"):
        client.download_asset("asset_1", tmp_path / "out.png", max_bytes=300_000)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    "body", [b"<html><body>Access denied</body></html>" + bytes(100), b"", b"GIF8"]
)
def test_not_an_image_is_refused(
    mocked: responses.RequestsMock, client: ScenarioClient, tmp_path: Path, body: bytes
) -> None:
    add_asset(mocked)
    add_file(mocked, body)
    with pytest.raises(DownloadError, match="not an image"):
        client.download_asset("asset_1", tmp_path / "out.png")
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    "head",
    [b"\xff\xd8\xff\xe0", b"RIFF\x00\x00\x00\x00WEBPVP8 ", b"GIF89a", b"MM\x00*"],
)
def test_other_image_types_accepted(
    mocked: responses.RequestsMock, client: ScenarioClient, tmp_path: Path, head: bytes
) -> None:
    add_asset(mocked)
    add_file(mocked, head + bytes(200))
    assert client.download_asset("asset_1", tmp_path / "out.img").size == len(head) + 200


def test_truncated_body_is_retried(
    mocked: responses.RequestsMock, client: ScenarioClient, tmp_path: Path
) -> None:
    data = png_bytes(50_000)
    add_asset(mocked)
    add_file(mocked, data[:20_000], length=len(data))
    add_file(mocked, data, length=len(data))
    result = client.download_asset("asset_1", tmp_path / "out.png")
    assert (tmp_path / "out.png").read_bytes() == data
    assert result.size == len(data)
    assert sum(1 for c in mocked.calls if c.request.url == SIGNED) == 2
    assert leftovers(tmp_path) == ["out.png"]


def test_truncated_every_time_gives_up_and_cleans(
    mocked: responses.RequestsMock, client: ScenarioClient, tmp_path: Path
) -> None:
    data = png_bytes(50_000)
    add_asset(mocked)
    for _ in range(3):
        add_file(mocked, data[:100], length=len(data))
    with pytest.raises(DownloadError, match="3 attempts"):
        client.download_asset("asset_1", tmp_path / "out.png")
    assert leftovers(tmp_path) == []
    assert sum(1 for c in mocked.calls if c.request.url == SIGNED) == 3


def test_connection_drop_mid_body_is_retried(
    mocked: responses.RequestsMock, client: ScenarioClient, tmp_path: Path
) -> None:
    data = png_bytes(4000)
    add_asset(mocked)

    class Breaking(io.BufferedReader):
        """A body whose connection resets after the first 1000 bytes."""

        def __init__(self) -> None:
            super().__init__(io.BytesIO(data))  # type: ignore[arg-type]
            self.reads = 0

        def read(self, size: int | None = -1) -> bytes:
            self.reads += 1
            if self.reads > 1:
                raise ConnectionResetError(104, "Connection reset by peer")
            return super().read(1000)

    mocked.add(responses.GET, SIGNED, body=Breaking())  # type: ignore[arg-type]
    add_file(mocked, data)
    client.download_asset("asset_1", tmp_path / "out.png")
    assert (tmp_path / "out.png").read_bytes() == data
    assert sum(1 for c in mocked.calls if c.request.url == SIGNED) == 2


def test_expired_url_fetches_a_fresh_one(
    mocked: responses.RequestsMock, client: ScenarioClient, tmp_path: Path
) -> None:
    data = png_bytes(3000)
    add_asset(mocked, SIGNED)
    mocked.add(responses.GET, SIGNED, status=403, body="<Error>AccessDenied</Error>")
    add_asset(mocked, FRESH)
    add_file(mocked, data, url=FRESH)
    client.download_asset("asset_1", tmp_path / "out.png")
    assert (tmp_path / "out.png").read_bytes() == data
    assert [c.request.url for c in mocked.calls] == [ASSET_URL, SIGNED, ASSET_URL, FRESH]


def test_url_refused_even_when_fresh(
    mocked: responses.RequestsMock, client: ScenarioClient, tmp_path: Path
) -> None:
    add_asset(mocked)
    mocked.add(responses.GET, SIGNED, status=403)
    with pytest.raises(DownloadError, match="refused") as info:
        client.download_asset("asset_1", tmp_path / "out.png")
    assert info.value.status == 403
    assert sum(1 for c in mocked.calls if c.request.url == ASSET_URL) == 3
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(("status", "text"), [(404, "no longer"), (418, "HTTP 418")])
def test_other_cdn_errors(
    mocked: responses.RequestsMock, client: ScenarioClient, tmp_path: Path, status: int,
    text: str,
) -> None:
    add_asset(mocked)
    mocked.add(responses.GET, SIGNED, status=status)
    with pytest.raises(DownloadError, match=text):
        client.download_asset("asset_1", tmp_path / "out.png")


def test_cdn_5xx_is_retried(
    mocked: responses.RequestsMock, client: ScenarioClient, tmp_path: Path
) -> None:
    add_asset(mocked)
    mocked.add(responses.GET, SIGNED, status=503)
    add_file(mocked, png_bytes(100))
    client.download_asset("asset_1", tmp_path / "out.png")
    assert sum(1 for c in mocked.calls if c.request.url == SIGNED) == 2


@pytest.mark.parametrize(
    "url", [None, "http://cdn.example.com/a.png?Signature=x", "ftp://cdn.example.com/a.png"]
)
def test_unusable_urls_refused(
    mocked: responses.RequestsMock, client: ScenarioClient, tmp_path: Path, url: str | None
) -> None:
    body = asset_json()
    body["asset"]["url"] = url  # type: ignore[index]
    mocked.add(responses.GET, ASSET_URL, json=body)
    with pytest.raises(DownloadError):
        client.download_asset("asset_1", tmp_path / "out.png")
    assert len(mocked.calls) == 1


def test_loopback_http_allowed(
    mocked: responses.RequestsMock, client: ScenarioClient, tmp_path: Path
) -> None:
    url = "http://127.0.0.1:8765/cdn/asset_1.png?sig=1"
    add_asset(mocked, url)
    add_file(mocked, png_bytes(100), url=url)
    client.download_asset("asset_1", tmp_path / "out.png")


def test_cancel_during_download_cleans_up(
    mocked: responses.RequestsMock, tmp_path: Path
) -> None:
    from scenario_texture_upscale.api import Credentials

    from .conftest import API_KEY, CANARY

    event = threading.Event()
    transport = Transport(Credentials(API_KEY, CANARY), BASE, cancel_event=event)
    add_asset(mocked)
    add_file(mocked, png_bytes(2_000_000))
    from scenario_texture_upscale.api.models import Asset

    def fetch() -> Asset:
        return Asset.from_api(asset_json("asset_1", SIGNED))

    with pytest.raises(CancelledError):
        download_mod.download_asset(
            transport, fetch, tmp_path / "out.png", progress=lambda d, t: event.set()
        )
    assert leftovers(tmp_path) == []


def test_stale_part_file_is_replaced(
    mocked: responses.RequestsMock, client: ScenarioClient, tmp_path: Path
) -> None:
    (tmp_path / "out.png.part").write_bytes(b"old crash leftovers" * 1000)
    data = png_bytes(500)
    add_asset(mocked)
    add_file(mocked, data)
    client.download_asset("asset_1", tmp_path / "out.png")
    assert (tmp_path / "out.png").read_bytes() == data
    assert leftovers(tmp_path) == ["out.png"]


def test_relative_destination(
    mocked: responses.RequestsMock,
    client: ScenarioClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    add_asset(mocked)
    add_file(mocked, png_bytes(500))
    result = client.download_asset("asset_1", "rel.png")
    assert result.path == os.path.join(str(tmp_path), "rel.png")
