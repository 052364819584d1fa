"""The request log: complete, ordered, image data elided, credentials absent."""

from __future__ import annotations

import base64
import json

import requests
from emulator_support import MODEL_ID, data_url, png_bytes
from PIL import Image


def test_log_records_requests_in_order_with_image_data_elided(api, server):
    data = png_bytes(Image.effect_noise((64, 64), 50))
    asset = api.post("/assets", {"name": "n.png", "image": data_url(data)}).json()["asset"]
    api.post("/assets", {"name": "bare.png", "image": base64.b64encode(data).decode()})
    api.post(f"/generate/custom/{MODEL_ID}?dryRun=true&projectId=p1",
             {"image": asset["id"], "upscaleFactor": 2})
    requests.get(server.base_url + "/jobs/job_x", timeout=5)  # no credentials: 401
    entries = server.requests()
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("POST", "/v1/assets", 200),
        ("POST", "/v1/assets", 200),
        ("POST", f"/v1/generate/custom/{MODEL_ID}", 269),
        ("GET", "/v1/jobs/job_x", 401),
    ]
    assert entries[0]["body"] == {"name": "n.png", "image": f"<image data: {len(data)} bytes>"}
    assert entries[1]["body"]["image"] == f"<image data: {len(data)} bytes>"
    assert entries[2]["query"] == {"dryRun": "true", "projectId": "p1"}
    assert entries[2]["body"] == {"image": asset["id"], "upscaleFactor": 2}
    times = [e["time"] for e in entries]
    assert times == sorted(times)
    assert [e["seq"] for e in entries] == sorted(e["seq"] for e in entries)


def test_log_never_contains_credentials(api, server):
    api.get(f"/models/{MODEL_ID}")
    token = base64.b64encode(b"demo-key:demo-secret").decode()
    for entries in (server.requests(), api.control("GET", "/_emulator/requests").json()):
        text = json.dumps(entries)
        assert "Authorization" not in text and "authorization" not in text
        assert token not in text and "demo-secret" not in text
        assert entries[0]["path"] == f"/v1/models/{MODEL_ID}"


def test_log_over_http_matches_and_excludes_control_calls(api, server):
    api.get(f"/models/{MODEL_ID}")
    api.control("GET", "/_emulator/state")
    over_http = api.control("GET", "/_emulator/requests").json()
    assert over_http == server.requests()
    assert [e["path"] for e in over_http] == [f"/v1/models/{MODEL_ID}"]


def test_part_uploads_are_logged_as_binary_sizes(make_api):
    api = make_api(min_part_bytes=0)
    data = png_bytes(Image.new("RGB", (8, 8)))
    upload = api.post("/uploads", {"fileName": "a.png", "contentType": "image/png",
                                   "fileSize": len(data), "parts": 1, "kind": "image"})
    requests.put(upload.json()["upload"]["parts"][0]["url"], data=data, timeout=5)
    entry = api.server.requests()[-1]
    assert entry["method"] == "PUT" and entry["status"] == 200
    assert entry["body"] == f"<binary data: {len(data)} bytes>"
