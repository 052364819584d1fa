"""Every fault kind, rule counting, and the control API that installs them."""

from __future__ import annotations

import http.client
import io
import json
import struct
import time
import zlib
from urllib.parse import urlsplit

import pytest
import requests
from emulator_support import MODEL_ID, data_url, png_bytes
from PIL import Image

from emulator.answer_faults import HOSTILE_TEXT
from emulator.control_client import ControlClient

GENERATE = "^/v1/generate"


@pytest.fixture
def asset_id(api):
    return api.upload(Image.new("RGB", (16, 16), (30, 60, 90)))["id"]


def _job_count(server) -> int:
    return len(server.state()["jobs"])


def test_status_429_with_retry_after_does_not_create_a_job(api, server, asset_id):
    server.set_faults([{"kind": "status", "status": 429, "path": GENERATE, "retry_after": 2,
                        "retry_after_ms": 1500}])
    answer = api.generate(asset_id)
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "2"
    assert answer.headers["retry-after-ms"] == "1500"
    assert answer.json()["reason"] == "Too Many Requests"
    assert _job_count(server) == 0
    assert api.generate(asset_id).status_code == 200  # times defaults to 1
    assert _job_count(server) == 1


def test_gateway_statuses_use_message_bodies_and_custom_bodies_pass_through(api, server):
    server.set_faults([
        {"kind": "status", "status": 503, "path": "^/v1/models", "times": 1},
        {"kind": "status", "status": 500, "path": "^/v1/models", "times": 1,
         "body": {"reason": "boom", "details": {"actionName": "x"}},
         "headers": {"x-should-retry": "false"}},
        {"kind": "status", "status": 502, "path": "^/v1/models", "body": "<html>bad</html>"},
    ])
    first = api.get(f"/models/{MODEL_ID}")
    assert first.status_code == 503 and first.json() == {"message": "Service Unavailable"}
    second = api.get(f"/models/{MODEL_ID}")
    assert second.status_code == 500 and second.json()["details"] == {"actionName": "x"}
    assert second.headers["x-should-retry"] == "false"
    third = api.get(f"/models/{MODEL_ID}")
    assert third.status_code == 502 and third.text == "<html>bad</html>"
    assert api.get(f"/models/{MODEL_ID}").status_code == 200


def test_after_and_times_select_which_matches_fail(api, server):
    server.set_faults([{"kind": "status", "status": 500, "method": "GET",
                        "path": "^/v1/models/", "after": 1, "times": 2}])
    codes = [api.get(f"/models/{MODEL_ID}").status_code for _ in range(5)]
    assert codes == [200, 500, 500, 200, 200]
    rule = server.faults()[0]
    assert rule["fired"] == 2 and rule["remaining"] == 0


def test_unlimited_times(api, server):
    server.set_faults([{"kind": "status", "status": 503, "path": "^/v1/models/", "times": None}])
    assert {api.get(f"/models/{MODEL_ID}").status_code for _ in range(4)} == {503}
    server.set_faults([{"kind": "status", "status": 503, "path": "^/v1/models/", "times": 0}])
    assert {api.get(f"/models/{MODEL_ID}").status_code for _ in range(3)} == {503}


def test_method_filter(api, server, asset_id):
    server.set_faults([{"kind": "status", "status": 500, "method": "POST", "times": None}])
    assert api.get(f"/assets/{asset_id}").status_code == 200
    assert api.generate(asset_id).status_code == 500


def test_delay_causes_a_read_timeout_then_processes(api, server, asset_id):
    server.set_faults([{"kind": "delay", "seconds": 0.8, "path": GENERATE}])
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.post(f"/generate/custom/{MODEL_ID}", {"image": asset_id}, timeout=0.3)
    # The delayed request is still processed: the job exists although the client gave up.
    deadline = time.monotonic() + 3
    while _job_count(server) == 0:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    started = time.monotonic()
    assert api.generate(asset_id).status_code == 200
    assert time.monotonic() - started < 0.5


def test_drop_closes_without_answer_and_creates_no_job(api, server, asset_id):
    server.set_faults([{"kind": "drop", "path": GENERATE}])
    with pytest.raises(requests.exceptions.ConnectionError):
        api.generate(asset_id)
    assert _job_count(server) == 0
    assert server.requests()[-1]["outcome"] == "dropped"
    assert server.requests()[-1]["status"] is None


def test_drop_after_processing_creates_the_job(api, server, asset_id):
    server.set_faults([{"kind": "drop", "path": GENERATE, "drop_after_processing": True}])
    with pytest.raises(requests.exceptions.ConnectionError):
        api.generate(asset_id)
    assert _job_count(server) == 1
    entry = server.requests()[-1]
    assert entry["outcome"] == "dropped-after-processing" and entry["status"] == 200


def _raw_get(url: str) -> tuple[int, int, bytes]:
    """(declared Content-Length, bytes received, body) without any client-side retry."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    connection.request("GET", f"{parts.path}?{parts.query}")
    response = connection.getresponse()
    declared = int(response.getheader("Content-Length"))
    try:
        body = response.read()
    except http.client.IncompleteRead as exc:
        body = exc.partial
    connection.close()
    return declared, len(body), body


def test_truncate_sends_full_length_headers_but_part_of_the_body(api, server, asset_id):
    job = api.wait_job(api.start_job(asset_id)["jobId"])
    url = api.get(f"/assets/{job['metadata']['assetIds'][0]}").json()["asset"]["url"]
    full_length, received, _ = _raw_get(url)
    assert received == full_length
    server.set_faults([{"kind": "truncate", "path": "^/_cdn/", "bytes": 40}])
    declared, received, _ = _raw_get(url)
    assert declared == full_length and received == 40
    server.set_faults([{"kind": "truncate", "path": "^/_cdn/"}])
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(url, timeout=5)
    assert _raw_get(url)[1] == full_length


def test_job_failure_ends_in_failure_with_error_and_hint(api, server, asset_id):
    server.set_faults([{"kind": "job_failure", "error": "GPU exploded",
                        "hint": "Try again later"}])
    assert api.post(f"/generate/custom/{MODEL_ID}?dryRun=true",
                    {"image": asset_id}).status_code == 269  # a quote does not use the rule
    failing = api.start_job(asset_id)["jobId"]
    healthy = api.start_job(asset_id)["jobId"]
    job = api.wait_job(failing)
    assert job["status"] == "failure"
    assert job["metadata"]["error"] == "GPU exploded"
    assert job["metadata"]["hint"] == "Try again later"
    assert "assetIds" not in job["metadata"]
    assert [e["status"] for e in job["statusHistory"]] == [
        "queued", "warming-up", "in-progress", "failure"]
    assert api.wait_job(healthy)["status"] == "success"


def test_job_never_finishes(make_api):
    api = make_api(job_seconds=0.2)
    api.server.set_faults([{"kind": "job_never_finishes"}])
    asset = api.upload(Image.new("RGB", (8, 8)))
    stuck = api.start_job(asset["id"])["jobId"]
    time.sleep(0.8)
    job = api.job(stuck)
    assert job["status"] == "in-progress" and 0 < job["progress"] < 1
    # It does not hold a concurrency slot, so later jobs still finish.
    assert api.wait_job(api.start_job(asset["id"])["jobId"])["status"] == "success"
    assert api.job(stuck)["status"] == "in-progress"


def test_expire_urls_hands_out_expired_urls_then_fresh_ones(api, server, asset_id):
    server.set_faults([{"kind": "expire_urls", "times": 1}])
    first = api.get(f"/assets/{asset_id}").json()["asset"]["url"]
    assert requests.get(first, timeout=5).status_code == 403
    second = api.get(f"/assets/{asset_id}").json()["asset"]["url"]
    assert requests.get(second, timeout=5).status_code == 200


def test_expire_urls_on_the_cdn_path_refuses_valid_urls(api, server, asset_id):
    url = api.get(f"/assets/{asset_id}").json()["asset"]["url"]
    server.set_faults([{"kind": "expire_urls", "path": "^/_cdn/", "times": 2}])
    assert [requests.get(url, timeout=5).status_code for _ in range(3)] == [403, 403, 200]


def test_control_api_over_http(api, server):
    rule = {"kind": "status", "status": 418, "path": "^/v1/models"}
    answer = api.control("POST", "/_emulator/faults", [rule])
    assert answer.status_code == 200 and answer.json()["faults"][0]["kind"] == "status"
    appended = api.control("POST", "/_emulator/faults", {"rules": [rule], "append": True})
    assert len(appended.json()["faults"]) == 2
    assert len(api.control("GET", "/_emulator/faults").json()["faults"]) == 2
    assert api.get(f"/models/{MODEL_ID}").status_code == 418
    bad = api.control("POST", "/_emulator/faults", [{"kind": "explode"}])
    assert bad.status_code == 400 and "kind" in bad.json()["reason"]
    typo = api.control("POST", "/_emulator/faults", [{"kind": "delay", "secs": 1}])
    assert typo.status_code == 400
    assert api.control("POST", "/_emulator/reset").json() == {"ok": True, "clearedState": False}
    assert api.control("GET", "/_emulator/faults").json()["faults"] == []
    assert api.get(f"/models/{MODEL_ID}").status_code == 200


def test_reset_keeps_state_unless_asked(api, server, asset_id):
    api.start_job(asset_id)
    api.control("POST", "/_emulator/reset")
    assert server.requests() == []
    state = api.control("GET", "/_emulator/state").json()
    assert len(state["jobs"]) == 1 and len(state["assets"]) == 1
    api.control("POST", "/_emulator/reset", {"clearState": True})
    state = api.control("GET", "/_emulator/state").json()
    assert state["jobs"] == [] and state["assets"] == [] and state["uploads"] == []
    assert api.get(f"/assets/{asset_id}").status_code == 404


def test_faults_from_options(make_api):
    api = make_api(faults=[{"kind": "status", "status": 503, "path": "^/v1/models"}])
    assert api.get(f"/models/{MODEL_ID}").status_code == 503
    assert api.get(f"/models/{MODEL_ID}").status_code == 200


def test_expire_urls_is_not_spent_on_upload_answers(api, server):
    server.set_faults([{"kind": "expire_urls"}])
    uploaded = api.upload(Image.new("RGB", (8, 8)))
    assert server.faults()[0]["fired"] == 0
    url = api.get(f"/assets/{uploaded['id']}").json()["asset"]["url"]
    assert requests.get(url, timeout=5).status_code == 403


# --- answers that lie: prices and service texts ----------------------------------------------

DRY_RUN = f"/generate/custom/{MODEL_ID}?dryRun=true"


def _raw_json(answer: requests.Response) -> dict:
    """The answer as sent: NaN and Infinity are read as Python floats, not refused."""
    return json.loads(answer.content)


@pytest.mark.parametrize("value", [-500, float("nan"), float("inf"), "9", True, None, 1e300])
def test_bad_price_in_the_dry_run_states_the_value_given(api, server, asset_id, value):
    server.set_faults([{"kind": "bad_price", "answer": "dry_run", "value": value}])
    answer = api.post(DRY_RUN, {"image": asset_id})
    assert answer.status_code == 269
    stated = _raw_json(answer)["creativeUnitsCost"]
    assert stated == value or (stated != stated and value != value)  # NaN is not NaN
    assert _raw_json(api.post(DRY_RUN, {"image": asset_id}))["creativeUnitsCost"] == 1


def test_bad_price_can_leave_the_price_out(api, server, asset_id):
    server.set_faults([{"kind": "bad_price", "missing": True}])
    body = _raw_json(api.post(DRY_RUN, {"image": asset_id}))
    assert "creativeUnitsCost" not in body and body["costDetails"]


def test_bad_price_on_the_generate_answer_and_on_job_billing(api, server, asset_id):
    server.set_faults([
        {"kind": "bad_price", "answer": "generate", "value": -7},
        {"kind": "bad_price", "answer": "job", "path": "^/v1/jobs/", "value": "lots",
         "times": None},
    ])
    assert _raw_json(api.post(DRY_RUN, {"image": asset_id}))["creativeUnitsCost"] == 1
    answer = _raw_json(api.generate(asset_id))
    assert answer["creativeUnitsCost"] == -7
    assert answer["job"]["billing"]["cuCost"] == 1, "answer: generate leaves the billing alone"
    job = api.wait_job(answer["job"]["jobId"])
    assert job["billing"]["cuCost"] == "lots" and job["status"] == "success"
    rules = server.faults()
    assert rules[0]["fired"] == 1 and rules[1]["fired"] >= 1
    # The job itself costs what it costs: only the answers lie.
    assert server.state()["jobs"][0]["billing"]["cuCost"] == 1


def test_bad_price_counts_only_answers_that_hold_a_price(api, server, asset_id):
    server.set_faults([{"kind": "bad_price", "answer": "dry_run", "value": -1}])
    api.get(f"/assets/{asset_id}")
    api.generate(asset_id)  # a paid generate's answer is not a dry run
    assert server.faults()[0]["fired"] == 0
    assert _raw_json(api.post(DRY_RUN, {"image": asset_id}))["creativeUnitsCost"] == -1
    assert [r["faults"] for r in server.requests()][-1] == ["bad_price"]


def test_hostile_text_in_an_error_reason_and_an_injected_status(api, server):
    server.set_faults([
        {"kind": "status", "status": 500, "path": "^/v1/models"},
        {"kind": "hostile_text", "times": 2},
    ])
    injected = api.get(f"/models/{MODEL_ID}").json()
    assert injected["reason"] == f"Internal Server Error {HOSTILE_TEXT}"
    missing = api.get("/assets/asset_nope").json()
    assert missing["reason"].startswith("Asset asset_nope not found ")
    assert "\x1b[31m" in missing["reason"] and "\r\n2030-01-01" in missing["reason"]
    assert "\x1b" not in api.get("/assets/asset_nope").text, "times: 2"


def test_hostile_text_in_a_failed_jobs_error_and_hint(api, server, asset_id):
    server.set_faults([
        {"kind": "job_failure", "error": "GPU exploded", "hint": "Try again later"},
        {"kind": "hostile_text", "path": "^/v1/jobs/", "text": "\u202eevil\nforged",
         "replace": True, "times": None},
    ])
    failing = api.start_job(asset_id)["jobId"]
    job = api.wait_job(failing)
    assert job["metadata"]["error"] == job["metadata"]["hint"] == "\u202eevil\nforged"
    healthy = api.wait_job(api.start_job(asset_id)["jobId"])
    assert healthy["status"] == "success" and "error" not in healthy["metadata"]


def test_hostile_text_counts_only_answers_with_a_text(api, server, asset_id):
    server.set_faults([{"kind": "hostile_text"}])
    api.get(f"/assets/{asset_id}")
    assert server.faults()[0]["fired"] == 0


@pytest.mark.parametrize("rule", [
    {"kind": "bad_price", "answer": "quote"},
    {"kind": "bad_price", "answer": []},
    {"kind": "bad_price", "missing": "yes"},
    {"kind": "hostile_text", "text": 5},
    {"kind": "hostile_text", "replace": 1},
    {"kind": "hostile_text", "value": -1},
])
def test_answer_fault_rules_are_checked(api, rule):
    assert api.control("POST", "/_emulator/faults", [rule]).status_code == 400


def test_a_bad_price_plan_with_nan_goes_through_the_control_client(server):
    control = ControlClient(server.base_url)
    control.faults([{"kind": "bad_price", "value": float("nan")}])
    [rule] = control.fault_state()
    assert rule["value"] != rule["value"]
# --- a service that lies, stalls or redirects ----------------------------------------------------


@pytest.fixture
def result_url(api) -> str:
    """A 128 px noise result: about 49 KB, like the one the issue's lying server cut to 300."""
    noise = api.upload(Image.effect_noise((64, 64), 60).convert("RGB"))
    job = api.wait_job(api.start_job(noise["id"])["jobId"])
    return api.get(f"/assets/{job['metadata']['assetIds'][0]}").json()["asset"]["url"]


def test_short_length_states_less_than_it_sends_then_hangs_up(api, server, result_url):
    """The lying Content-Length: 300 stated, the whole file sent. A client reads 300 bytes, a
    count that agrees, of a file cut off."""
    whole = requests.get(result_url, timeout=5).content
    server.set_faults([{"kind": "short_length", "path": "^/_cdn/", "bytes": 300}])
    answer = requests.get(result_url, timeout=5)
    assert answer.headers["Content-Length"] == "300" and answer.content == whole[:300]
    assert server.requests()[-1]["outcome"] == "short-length"
    assert requests.get(result_url, timeout=5).content == whole  # the rule is spent


def test_drip_sends_a_few_bytes_at_a_time(api, server, result_url):
    whole = requests.get(result_url, timeout=5).content
    server.set_faults([{"kind": "drip", "path": "^/_cdn/", "bytes": 2, "seconds": 0.2}])
    started = time.monotonic()
    answer = requests.get(result_url, timeout=1, stream=True)
    assert answer.headers["Content-Length"] == str(len(whole))  # an honest length, slowly
    raw = answer.raw
    pieces = [raw.read1(1000) for _ in range(3)]
    assert [len(piece) for piece in pieces] == [2, 2, 2]
    assert time.monotonic() - started >= 0.6
    assert b"".join(pieces) == whole[:6]
    answer.close()  # the emulator stops dripping when the client goes
    assert server.requests()[-1]["outcome"] == "dripped"


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirect_answers_instead_of_processing_and_leads_to_the_other_origin(api, server, status):
    server.set_faults([{"kind": "redirect", "status": status, "method": "POST",
                        "path": "^/v1/assets$"}])
    answer = api.post("/assets", {"name": "a.png", "image": data_url(png_bytes(
        Image.new("RGB", (8, 8))))}, allow_redirects=False, params={"projectId": "p1"})
    assert answer.status_code == status
    other = server.other_root_url
    assert answer.headers["Location"] == f"{other}/v1/assets?projectId=p1"
    assert urlsplit(other).port != server.port
    assert server.state()["assets"] == [], "nothing was processed"
    assert server.requests()[-1]["outcome"] == "redirected"


def test_the_other_origin_serves_the_api_and_its_requests_are_marked(api, server, asset_id):
    server.set_faults([{"kind": "redirect", "to": "https://elsewhere.example/x", "times": None,
                        "method": "GET", "path": "^/v1/models"}])
    assert api.get(f"/models/{MODEL_ID}", allow_redirects=False).headers["Location"] == \
        "https://elsewhere.example/x"
    other = requests.get(f"{server.other_root_url}/v1/assets/{asset_id}", auth=api.session.auth,
                         timeout=5)
    assert other.status_code == 200, "no fault acts on the other origin"
    assert requests.get(f"{server.other_root_url}/_emulator/state", timeout=5).status_code == 404
    listeners = [(e["listener"], e["path"]) for e in server.requests()[-3:]]
    assert listeners == [("main", f"/v1/models/{MODEL_ID}"),
                         ("other", f"/v1/assets/{asset_id}"), ("other", "/_emulator/state")]


def test_local_link_plants_another_local_service_in_asset_and_part_answers(make_api):
    api = make_api(min_part_bytes=0)
    server = api.server
    asset = api.upload(Image.new("RGB", (8, 8)))
    server.set_faults([{"kind": "local_link", "times": 2}])
    planted = api.get(f"/assets/{asset['id']}").json()["asset"]["url"]
    assert planted == f"{server.other_root_url}/admin/secrets"
    upload = api.post("/uploads", {"fileName": "a.png", "contentType": "image/png",
                                   "fileSize": 100, "parts": 2, "kind": "image"}).json()["upload"]
    assert {part["url"] for part in upload["parts"]} == {planted}
    assert "/_cdn/" in api.get(f"/assets/{asset['id']}").json()["asset"]["url"]  # spent
    server.set_faults([{"kind": "local_link", "url": "http://127.0.0.1:9/x"}])
    assert api.get(f"/assets/{asset['id']}").json()["asset"]["url"] == "http://127.0.0.1:9/x"


def test_result_size_serves_the_result_at_another_size_while_the_asset_stays(api, server,
                                                                            result_url):
    server.set_faults([{"kind": "result_size", "width": 100, "height": 37, "path": "^/_cdn/"}])
    lied = Image.open(io.BytesIO(requests.get(result_url, timeout=5).content))
    assert lied.size == (100, 37)
    honest = Image.open(io.BytesIO(requests.get(result_url, timeout=5).content))
    assert honest.size == (128, 128)  # the 64 px source × 2


def test_header_bomb_is_a_whole_png_whose_header_claims_a_huge_image(api, server, result_url):
    server.set_faults([{"kind": "header_bomb", "path": "^/_cdn/"}])
    data = requests.get(result_url, timeout=5).content
    assert len(data) < 2000 and data.endswith(b"IEND\xaeB`\x82")
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (60000, 60000)
    assert zlib.crc32(data[12:29]) == struct.unpack(">I", data[29:33])[0], "a valid IHDR CRC"
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(data))


@pytest.mark.parametrize("rule", [
    {"kind": "redirect", "status": 200},
    {"kind": "result_size", "width": 10},
    {"kind": "drip", "bytes": -1},
    {"kind": "local_link", "url": 5},
    {"kind": "short_length", "seconds": 1},
])
def test_new_fault_kinds_check_their_fields(api, rule):
    assert api.control("POST", "/_emulator/faults", [rule]).status_code == 400
