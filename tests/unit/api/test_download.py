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
    Credentials,
    DestinationExistsError,
    DownloadError,
    ScenarioClient,
    Transport,
    UnexpectedResponseError,
    UnsafeLinkError,
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


WHOLE_FILES = {
    "jpeg": b"\xff\xd8\xff\xe0" + bytes(200) + b"\xff\xd9",
    "webp": b"RIFF" + (212).to_bytes(4, "little") + b"WEBPVP8 " + bytes(204),
    "gif": b"GIF89a" + bytes(200) + b"\x3b",
    # big-endian TIFF: its first directory, at byte 8, holds one strip: 200 bytes at byte 38
    "tiff": (b"MM\x00*\x00\x00\x00\x08\x00\x02"
             + b"\x01\x11\x00\x04\x00\x00\x00\x01" + (38).to_bytes(4, "big")
             + b"\x01\x17\x00\x04\x00\x00\x00\x01" + (200).to_bytes(4, "big")
             + b"\x00\x00\x00\x00" + bytes(200)),
    "avif": (b"\x00\x00\x00\x14ftypavif\x00\x00\x00\x00avif"
             + (208).to_bytes(4, "big") + b"mdat" + bytes(200)),
}


@pytest.mark.parametrize("fmt", sorted(WHOLE_FILES))
def test_other_image_types_accepted(
    mocked: responses.RequestsMock, client: ScenarioClient, tmp_path: Path, fmt: str
) -> None:
    data = WHOLE_FILES[fmt]
    add_asset(mocked)
    add_file(mocked, data)
    assert client.download_asset("asset_1", tmp_path / "out.img").size == len(data)


@pytest.mark.parametrize("fmt", [*sorted(WHOLE_FILES), "png"])
def test_a_file_that_ends_early_with_a_matching_length_is_fetched_again(
    mocked: responses.RequestsMock, client: ScenarioClient, tmp_path: Path, fmt: str
) -> None:
    """A server that states a length shorter than the file (300 of 49,353 bytes) sends a file
    whose count agrees and whose format's own end is missing: it is not a result."""
    data = WHOLE_FILES.get(fmt) or png_bytes(49_353)
    cut = data[: len(data) - 30] if fmt != "png" else data[:300]
    add_asset(mocked)
    add_file(mocked, cut, length=len(cut))
    add_file(mocked, data)
    client.download_asset("asset_1", tmp_path / "out.img")
    assert (tmp_path / "out.img").read_bytes() == data
    assert sum(1 for c in mocked.calls if c.request.url == SIGNED) == 2


def test_a_file_that_always_ends_early_is_refused_naming_what_is_missing(
    mocked: responses.RequestsMock, client: ScenarioClient, tmp_path: Path
) -> None:
    add_asset(mocked)
    for _ in range(3):
        add_file(mocked, png_bytes(49_353)[:300], length=300)
    with pytest.raises(DownloadError, match="300 bytes arrived, and the PNG's prVt chunk at byte "
                                           "33 runs past the end of the file"):
        client.download_asset("asset_1", tmp_path / "out.png")
    assert leftovers(tmp_path) == []


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

        read1 = read  # type: ignore[assignment]

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
    ("url", "error"),
    [(None, DownloadError),
     ("http://cdn.example.com/a.png?Signature=x", UnsafeLinkError),
     ("ftp://cdn.example.com/a.png", UnsafeLinkError),
     ("http://127.0.0.1:8765/cdn/asset_1.png?sig=1", UnsafeLinkError),
     ("https://127.0.0.1/admin", UnsafeLinkError),
     ("https://169.254.169.254/latest/meta-data", UnsafeLinkError),
     ("https://localhost/a.png", UnsafeLinkError),
     ("https://[::1]/a.png", UnsafeLinkError),
     ("https://10.0.0.7/a.png", UnsafeLinkError),
     ("https://2130706433/a.png", UnsafeLinkError)],
)
def test_unusable_urls_refused_before_any_request(
    mocked: responses.RequestsMock, client: ScenarioClient, tmp_path: Path, url: str | None,
    error: type[Exception],
) -> None:
    body = asset_json()
    body["asset"]["url"] = url  # type: ignore[index]
    mocked.add(responses.GET, ASSET_URL, json=body)
    with pytest.raises(error):
        client.download_asset("asset_1", tmp_path / "out.png")
    assert len(mocked.calls) == 1
    assert leftovers(tmp_path) == []


def test_a_local_emulator_serves_links_on_its_own_origin_only(
    mocked: responses.RequestsMock, credentials: Credentials, tmp_path: Path
) -> None:
    local = "http://127.0.0.1:8765/v1"
    own, other = "http://127.0.0.1:8765/_cdn/a.png?sig=1", "http://127.0.0.1:9999/admin/x"
    with ScenarioClient.open(credentials, local) as client:
        mocked.add(responses.GET, f"{local}/assets/asset_1", json=asset_json("asset_1", own))
        add_file(mocked, png_bytes(100), url=own)
        client.download_asset("asset_1", tmp_path / "own.png")
        mocked.add(responses.GET, f"{local}/assets/asset_2", json=asset_json("asset_2", other))
        with pytest.raises(UnsafeLinkError, match="leads to http://127.0.0.1:9999, not to the "
                                                  "local Scenario address in use"):
            client.download_asset("asset_2", tmp_path / "other.png")
    assert [c.request.url for c in mocked.calls if "9999" in c.request.url] == []


@pytest.mark.parametrize(
    ("location", "refused"),
    [("http://cdn.scenario.test/plain.png", "is not https"),
     ("https://127.0.0.1:8080/admin", "this computer or its local network"),
     ("//192.168.1.1/router", "this computer or its local network")],
)
def test_a_redirect_is_checked_before_it_is_followed(
    mocked: responses.RequestsMock, client: ScenarioClient, tmp_path: Path, location: str,
    refused: str,
) -> None:
    add_asset(mocked)
    mocked.add(responses.GET, SIGNED, status=302, headers={"Location": location})
    with pytest.raises(UnsafeLinkError, match=refused):
        client.download_asset("asset_1", tmp_path / "out.png")
    assert [c.request.url for c in mocked.calls] == [ASSET_URL, SIGNED]


def test_a_safe_redirect_is_followed_by_hand_up_to_a_limit(
    mocked: responses.RequestsMock, client: ScenarioClient, tmp_path: Path
) -> None:
    data = png_bytes(500)
    add_asset(mocked)
    moved = f"{CDN}/moved/asset_1.png?sig=2"
    mocked.add(responses.GET, SIGNED, status=307, headers={"Location": "/moved/asset_1.png?sig=2"})
    add_file(mocked, data, url=moved)
    client.download_asset("asset_1", tmp_path / "out.png")
    assert (tmp_path / "out.png").read_bytes() == data

    mocked.add(responses.GET, f"{CDN}/loop", status=302, headers={"Location": f"{CDN}/loop"})
    mocked.add(responses.GET, ASSET_URL, json=asset_json("asset_1", f"{CDN}/loop"))
    with pytest.raises(UnexpectedResponseError, match="more than 5 times"):
        client.download_asset("asset_1", tmp_path / "loop.png")
    assert sum(1 for c in mocked.calls if c.request.url == f"{CDN}/loop") == 6


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


def test_a_download_in_a_format_asks_scenario_for_that_format_and_checks_its_link(
    mocked: responses.RequestsMock, client: ScenarioClient, tmp_path: Path
) -> None:
    data = png_bytes(2_000)
    mocked.add(responses.POST, f"{ASSET_URL}/download", json={"url": FRESH, "mimeType": "image/png"})
    add_file(mocked, data, url=FRESH)
    result = client.download_asset("asset_1", tmp_path / "out.png", as_format="png")
    assert (tmp_path / "out.png").read_bytes() == data and result.mime_type == "image/png"
    asked = mocked.calls[0].request
    assert (asked.method, asked.url) == ("POST", f"{ASSET_URL}/download")
    assert asked.body == b'{"targetFormat":"png"}'


def test_a_converted_link_that_leads_off_scenario_is_refused(
    mocked: responses.RequestsMock, client: ScenarioClient, tmp_path: Path
) -> None:
    mocked.add(responses.POST, f"{ASSET_URL}/download",
               json={"url": "http://127.0.0.1:9/assets/asset_1.png", "mimeType": "image/png"})
    with pytest.raises(UnsafeLinkError):
        client.download_asset("asset_1", tmp_path / "out.png", as_format="png")
    assert leftovers(tmp_path) == []
