"""Signed CDN URLs: shape, expiry, tampering, fresh URLs, ranges and the download endpoint."""

from __future__ import annotations

import io
import time
from urllib.parse import parse_qs, urlsplit

import requests
from PIL import Image


def _result_asset(api) -> dict:
    asset = api.upload(Image.new("RGB", (16, 16), (10, 200, 30)))
    job = api.wait_job(api.start_job(asset["id"])["jobId"])
    return api.get(f"/assets/{job['metadata']['assetIds'][0]}").json()["asset"]


def test_asset_url_looks_signed_and_needs_no_auth(api):
    asset = _result_asset(api)
    parts = urlsplit(asset["url"])
    assert f"{parts.scheme}://{parts.netloc}" == api.server.root_url
    assert parts.path == f"/_cdn/assets/{asset['id']}.png"
    query = parse_qs(parts.query)
    assert {"Policy", "Signature", "Key-Pair-Id", "Expires"} <= set(query)
    assert 3590 < int(query["Expires"][0]) - time.time() <= 3601
    answer = requests.get(asset["url"], timeout=5)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "image/png"
    assert int(answer.headers["Content-Length"]) == len(answer.content)
    assert Image.open(io.BytesIO(answer.content)).size == (32, 32)
    assert asset["properties"] == {"size": len(answer.content), "width": 32, "height": 32,
                                   "format": "png"}


def test_url_expires_and_asset_gives_a_fresh_one(make_api):
    api = make_api(url_ttl_seconds=1)
    asset = _result_asset(api)
    assert requests.get(asset["url"], timeout=5).status_code == 200
    deadline = time.monotonic() + 4
    while (answer := requests.get(asset["url"], timeout=5)).status_code == 200:
        assert time.monotonic() < deadline, "URL never expired"
        time.sleep(0.1)
    assert answer.status_code == 403
    assert b"AccessDenied" in answer.content
    fresh = api.get(f"/assets/{asset['id']}").json()["asset"]["url"]
    assert fresh != asset["url"]
    assert requests.get(fresh, timeout=5).status_code == 200


def test_altered_url_is_refused(api):
    asset = _result_asset(api)
    url = asset["url"]
    assert requests.get(url.replace("Expires=", "Expires=9"), timeout=5).status_code == 403
    assert requests.get(url.split("?")[0], timeout=5).status_code == 403
    other = url.replace(".png?", ".jpg?")
    assert requests.get(other, timeout=5).status_code == 403


def test_range_requests_resume_a_download(api):
    asset = _result_asset(api)
    whole = requests.get(asset["url"], timeout=5).content
    tail = requests.get(asset["url"], headers={"Range": "bytes=10-"}, timeout=5)
    assert tail.status_code == 206
    assert tail.content == whole[10:]
    assert tail.headers["Content-Range"] == f"bytes 10-{len(whole) - 1}/{len(whole)}"


def test_download_endpoint_gives_url_and_converts(api):
    asset = _result_asset(api)
    same = api.post(f"/assets/{asset['id']}/download", {})
    assert same.status_code == 200
    assert same.json()["mimeType"] == "image/png"
    assert requests.get(same.json()["url"], timeout=5).status_code == 200
    jpeg = api.post(f"/assets/{asset['id']}/download", {"targetFormat": "jpeg"}).json()
    assert jpeg["mimeType"] == "image/jpeg"
    fetched = requests.get(jpeg["url"], timeout=5)
    assert fetched.headers["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(fetched.content)).format == "JPEG"
    refused = api.post(f"/assets/{asset['id']}/download", {"targetFormat": "glb"})
    assert refused.status_code == 400 and '"targetFormat"' in refused.json()["reason"]
    assert api.post("/assets/asset_nope/download", {}).status_code == 404


def test_large_download_streams_with_content_length(api):
    asset = api.upload(Image.effect_noise((256, 256), 64).convert("RGB"))
    job = api.wait_job(api.start_job(asset["id"], upscaleFactor=4)["jobId"])
    out = api.get(f"/assets/{job['metadata']['assetIds'][0]}").json()["asset"]
    with requests.get(out["url"], stream=True, timeout=10) as answer:
        length = int(answer.headers["Content-Length"])
        chunks = list(answer.iter_content(32 * 1024))
    assert length > 200_000 and sum(map(len, chunks)) == length


def test_download_urls_take_extensions_from_the_shared_table(api):
    from scenario_texture_upscale.api.image_types import EXTENSIONS

    asset = _result_asset(api)
    for target, mime in (("tif", "image/tiff"), ("tiff", "image/tiff"), ("jpg", "image/jpeg"),
                         ("webp", "image/webp")):
        answer = api.post(f"/assets/{asset['id']}/download", {"targetFormat": target}).json()
        assert answer["mimeType"] == mime
        assert urlsplit(answer["url"]).path == f"/_cdn/assets/{asset['id']}{EXTENSIONS[mime]}"
        fetched = requests.get(answer["url"], timeout=5)
        assert fetched.status_code == 200 and fetched.headers["Content-Type"] == mime
