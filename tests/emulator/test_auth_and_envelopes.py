"""Auth, envelopes and error shapes of the /v1 API."""

from __future__ import annotations

import base64
import http.client
import socket

import pytest
import requests
from emulator_support import MODEL_ID, Api, data_url, png_bytes
from PIL import Image


def test_missing_credentials_answer_401_with_reason(server):
    answer = requests.get(server.base_url + f"/models/{MODEL_ID}", timeout=5)
    assert answer.status_code == 401
    assert answer.json()["reason"]


def test_wrong_secret_and_bearer_are_refused(server):
    wrong = Api(server, auth=("demo-key", "nope")).get(f"/models/{MODEL_ID}")
    assert wrong.status_code == 401
    bearer = requests.get(server.base_url + f"/models/{MODEL_ID}",
                          headers={"Authorization": "Bearer demo-key"}, timeout=5)
    assert bearer.status_code == 401


def test_custom_credentials(make_server):
    server = make_server(api_key="k1", api_secret="s1")
    assert Api(server).get(f"/models/{MODEL_ID}").status_code == 401
    assert Api(server, auth=("k1", "s1")).get(f"/models/{MODEL_ID}").status_code == 200


def test_project_id_is_accepted_everywhere(api):
    asset = api.post("/assets?projectId=proj_x", {
        "name": "a.png", "image": _tiny_png_data_url()}).json()["asset"]
    assert asset["ownerId"] == "proj_x"
    assert api.get(f"/assets/{asset['id']}?projectId=proj_x").status_code == 200
    assert api.get(f"/models/{MODEL_ID}?projectId=proj_x").status_code == 200
    job = api.post(f"/generate/custom/{MODEL_ID}?projectId=proj_x", {"image": asset["id"]})
    assert job.status_code == 200
    job_id = job.json()["job"]["jobId"]
    assert api.get(f"/jobs/{job_id}?projectId=proj_x").status_code == 200


def test_unknown_ids_answer_404_with_reason(api):
    assert api.get("/jobs/job_missing").json()["reason"] == "Job job_missing not found"
    assert api.get("/assets/asset_missing").json()["reason"] == "Asset asset_missing not found"
    assert api.get("/uploads/upload_x").json()["reason"] == "Upload upload_x not found"
    answer = api.get("/models/model_other")
    assert answer.status_code == 404
    assert answer.json()["reason"] == "Model model_other not found"
    assert "trace_id" in answer.json()


def test_unknown_route_and_bad_json(api, server):
    assert api.get("/nothing/here").status_code == 404
    answer = api.session.post(server.base_url + "/assets", data=b"{not json",
                              headers={"Content-Type": "application/json"}, timeout=5)
    assert answer.status_code == 400
    assert "JSON" in answer.json()["reason"]


def test_keep_alive_serves_many_requests_on_one_connection(server):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    token = base64.b64encode(b"demo-key:demo-secret").decode()
    sockets = set()
    for _ in range(4):
        connection.request("GET", f"/v1/models/{MODEL_ID}",
                           headers={"Authorization": f"Basic {token}"})
        answer = connection.getresponse()
        body = answer.read()
        assert answer.status == 200 and answer.version == 11
        assert int(answer.getheader("Content-Length")) == len(body)
        sockets.add(id(connection.sock))
    connection.close()
    assert len(sockets) == 1  # the same TCP connection served every request


def _tiny_png_data_url() -> str:
    return data_url(png_bytes(Image.new("RGB", (8, 8), (10, 20, 30))))


@pytest.mark.parametrize("framing", [b"Content-Length: 500\r\n\r\n{\"name\": \"t",
                                     b"Transfer-Encoding: chunked\r\n\r\n1f4\r\n{\"name\": \"t"])
def test_a_body_cut_short_is_not_processed(server, framing):
    token = base64.b64encode(b"demo-key:demo-secret")
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"POST /v1/assets HTTP/1.1\r\nHost: e\r\nAuthorization: Basic " + token
                     + b"\r\nContent-Type: application/json\r\n" + framing)
        sock.shutdown(socket.SHUT_WR)  # the client is gone before the rest of the body
        assert sock.recv(1000) == b""  # no answer (a 400 would mean the fragment was parsed)
    assert server.requests() == []
