"""Small uploads (POST /assets) and multipart uploads (POST /uploads + part PUTs)."""

from __future__ import annotations

import base64
import time

import numpy as np
import pytest
import requests
from emulator_support import data_url, png_bytes
from PIL import Image


def _noise_png(width: int, height: int, seed: int = 1) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    return png_bytes(Image.fromarray(pixels, "RGB"))


def test_small_upload_with_data_url(api):
    data = png_bytes(Image.new("RGBA", (40, 30), (1, 2, 3, 4)))
    answer = api.post("/assets", {"name": "brick.png", "image": data_url(data)})
    assert answer.status_code == 200
    asset = answer.json()["asset"]
    assert asset["id"].startswith("asset_")
    assert asset["mimeType"] == "image/png"
    assert asset["kind"] == "image" and asset["status"] == "success"
    assert asset["properties"] == {"size": len(data), "width": 40, "height": 30, "format": "png"}
    assert "/_cdn/assets/" in asset["url"]
    assert requests.get(asset["url"], timeout=5).content == data


def test_small_upload_accepts_bare_base64_and_jpeg(api):
    data = png_bytes(Image.new("RGB", (16, 12), (200, 10, 10)), fmt="JPEG")
    answer = api.post("/assets", {"name": "a.jpg", "image": base64.b64encode(data).decode()})
    assert answer.status_code == 200
    assert answer.json()["asset"]["mimeType"] == "image/jpeg"


@pytest.mark.parametrize("body, field", [
    ({"name": "x.png", "image": data_url(b"definitely not an image")}, '"image"'),
    ({"name": "x.png", "image": "%%%not base64%%%"}, '"image"'),
    ({"name": "x.png"}, '"image"'),
    ({"image": data_url(png_bytes(Image.new("RGB", (4, 4))))}, '"name"'),
])
def test_small_upload_rejects_bad_bodies(api, body, field):
    answer = api.post("/assets", body)
    assert answer.status_code == 400
    assert field in answer.json()["reason"]


def test_body_over_gateway_cap_is_413_with_message(make_api):
    api = make_api(max_body_bytes=50_000)
    big = data_url(_noise_png(200, 200))
    answer = api.post("/assets", {"name": "big.png", "image": big})
    assert answer.status_code == 413
    assert "message" in answer.json()
    # The connection stays usable after the refusal.
    assert api.get("/models/model_sc-upscale-flux-texture").status_code == 200


def _create_upload(api, data: bytes, parts: int, content_type: str = "image/png") -> dict:
    answer = api.post("/uploads", {"fileName": "big.png", "contentType": content_type,
                                   "fileSize": len(data), "parts": parts, "kind": "image"})
    assert answer.status_code == 200, answer.text
    return answer.json()["upload"]


def _put_parts(upload: dict, data: bytes, part_size: int) -> None:
    for part in upload["parts"]:
        start = (part["number"] - 1) * part_size
        chunk = data[start : start + part_size]
        # No Authorization header: the URL is pre-signed.
        answer = requests.put(part["url"], data=chunk, headers={"Content-Type": "image/png"},
                              timeout=5)
        assert answer.status_code == 200
        assert answer.headers.get("ETag")


def _poll_upload(api, upload_id: str, timeout: float = 5.0) -> tuple[dict, list[str]]:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        upload = api.get(f"/uploads/{upload_id}").json()["upload"]
        if not seen or seen[-1] != upload["status"]:
            seen.append(upload["status"])
        if upload["status"] in ("imported", "failed"):
            return upload, seen
        time.sleep(0.01)
    raise AssertionError(f"upload stuck: {seen}")


def test_multipart_upload_goes_to_imported(make_api):
    api = make_api(min_part_bytes=1000, upload_seconds=0.3)
    data = _noise_png(64, 64)
    part_size = len(data) // 3 + 1
    upload = _create_upload(api, data, parts=3)
    assert upload["status"] == "pending"
    assert [p["number"] for p in upload["parts"]] == [1, 2, 3]
    assert all(p["url"].startswith(api.server.root_url + "/_parts/") and p["expires"]
               for p in upload["parts"])
    _put_parts(upload, data, part_size)
    done = api.post(f"/uploads/{upload['id']}/action", {"action": "complete"})
    assert done.status_code == 200
    assert done.json()["upload"]["status"] == "complete"
    final, seen = _poll_upload(api, upload["id"])
    assert seen[-1] == "imported"
    assert set(seen) <= {"complete", "validating", "validated", "imported"}
    assert "validating" in seen or "validated" in seen
    asset = api.get(f"/assets/{final['entityId']}").json()["asset"]
    assert asset["properties"]["width"] == 64 and asset["properties"]["size"] == len(data)
    assert requests.get(asset["url"], timeout=5).content == data


def test_multipart_rejects_non_image_and_size_mismatch(make_api):
    api = make_api(min_part_bytes=0)
    junk = b"x" * 300
    upload = _create_upload(api, junk, parts=1)
    _put_parts(upload, junk, 300)
    api.post(f"/uploads/{upload['id']}/action", {"action": "complete"})
    final, _ = _poll_upload(api, upload["id"])
    assert final["status"] == "failed" and "not a valid image" in final["errorMessage"]
    assert "entityId" not in final

    data = _noise_png(16, 16)
    upload = _create_upload(api, data + b"extra", parts=1)
    _put_parts(upload, data, len(data))
    api.post(f"/uploads/{upload['id']}/action", {"action": "complete"})
    final, _ = _poll_upload(api, upload["id"])
    assert final["status"] == "failed" and "fileSize" in final["errorMessage"]


def test_multipart_enforces_minimum_part_size_by_default(api):
    data = _noise_png(32, 32)
    upload = _create_upload(api, data, parts=2)
    _put_parts(upload, data, len(data) // 2 + 1)
    api.post(f"/uploads/{upload['id']}/action", {"action": "complete"})
    final, _ = _poll_upload(api, upload["id"])
    assert final["status"] == "failed" and "at least 5242880 bytes" in final["errorMessage"]


def test_multipart_missing_part_and_second_complete(make_api):
    api = make_api(min_part_bytes=0)
    data = _noise_png(16, 16)
    upload = _create_upload(api, data, parts=2)
    assert api.post(f"/uploads/{upload['id']}/action", {"action": "finish"}).status_code == 400
    assert api.post(f"/uploads/{upload['id']}/action", {"action": "complete"}).status_code == 200
    again = api.post(f"/uploads/{upload['id']}/action", {"action": "complete"})
    assert again.status_code == 400
    final, _ = _poll_upload(api, upload["id"])
    assert final["status"] == "failed" and "never uploaded" in final["errorMessage"]


def test_part_url_must_not_be_altered(api):
    data = _noise_png(8, 8)
    upload = _create_upload(api, data, parts=1)
    tampered = upload["parts"][0]["url"].replace("X-Amz-Expires=3600", "X-Amz-Expires=9999")
    answer = requests.put(tampered, data=data, timeout=5)
    assert answer.status_code == 403
    assert b"SignatureDoesNotMatch" in answer.content


@pytest.mark.parametrize("body, field", [
    ({"fileName": "a.png", "contentType": "image/png", "fileSize": 10, "parts": 1}, '"kind"'),
    ({"fileName": "a.png", "contentType": "text/plain", "fileSize": 10, "parts": 1,
      "kind": "image"}, '"contentType"'),
    ({"fileName": "a.png", "contentType": "image/png", "fileSize": 0, "parts": 1,
      "kind": "image"}, '"fileSize"'),
    ({"fileName": "a.png", "contentType": "image/png", "fileSize": 10, "parts": 0,
      "kind": "image"}, '"parts"'),
    ({"contentType": "image/png", "fileSize": 10, "parts": 1, "kind": "image"}, '"fileName"'),
])
def test_create_upload_validation(api, body, field):
    answer = api.post("/uploads", body)
    assert answer.status_code == 400
    assert field in answer.json()["reason"]


def test_uploaded_asset_is_a_valid_generate_input(make_api):
    api = make_api(min_part_bytes=0)
    data = _noise_png(16, 16)
    upload = _create_upload(api, data, parts=1)
    _put_parts(upload, data, len(data))
    api.post(f"/uploads/{upload['id']}/action", {"action": "complete"})
    final, _ = _poll_upload(api, upload["id"])
    job = api.wait_job(api.start_job(final["entityId"])["jobId"])
    assert job["status"] == "success"
    assert api.result_image(job).size == (32, 32)


def test_an_upload_is_decoded_outside_the_lock_and_stays_validating_until_then(monkeypatch):
    import threading

    from emulator import imaging
    from emulator.signing import UrlSigner
    from emulator.store import Store
    from emulator.upload_flow import UploadFlow

    store, decoding, release = Store(), threading.Event(), threading.Event()
    inspect = imaging.inspect

    def slow_inspect(data: bytes) -> imaging.ImageInfo:
        decoding.set()
        assert release.wait(5)
        return inspect(data)

    monkeypatch.setattr(imaging, "inspect", slow_inspect)
    flow = UploadFlow(store, UrlSigner(), upload_seconds=0.1, min_part_bytes=1)
    data = png_bytes(Image.new("RGB", (8, 8)))
    upload = flow.create("a.png", "image/png", len(data), 1, "proj")
    assert flow.put_part(upload.id, 1, data) == "ok"
    completing = threading.Thread(target=flow.complete, args=(upload.id,))
    completing.start()
    try:
        assert decoding.wait(5)
        time.sleep(0.15)  # past the whole upload time
        assert store.lock.acquire(timeout=1), "the decode holds the state lock"
        store.lock.release()
        assert flow.get(upload.id).status == "validating"  # no verdict yet
    finally:
        release.set()
        completing.join(5)
    done = flow.get(upload.id)
    assert done.status == "imported" and store.asset(done.entity_id).data == data
