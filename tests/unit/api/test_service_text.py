"""Text from Scenario is made safe where it enters the client: no terminal escapes, no control
characters, no line breaks, no bidi overrides, a bounded length; ids carrying them are refused."""

from __future__ import annotations

import json

import pytest
import responses
from scenario_texture_upscale.api import (
    InvalidRequestError,
    JobFailedError,
    ScenarioClient,
    ServiceUnavailableError,
    UploadError,
    UpscaleParams,
)
from scenario_texture_upscale.api import uploads as uploads_mod
from scenario_texture_upscale.api.model_info import ModelDescription
from scenario_texture_upscale.api.models import Asset, Job
from scenario_texture_upscale.api.service_text import (
    MAX_TEXT,
    UNSAFE,
    clean_text,
    is_token,
    message_text,
    visible,
)

from emulator.answer_faults import HOSTILE_TEXT

from .conftest import BASE, GENERATE, job_json, png_bytes

# The emulator's hostile text, cleaned: its words survive, nothing that steers a terminal does.
HOSTILE_CLEANED = ("red 2030-01-01 00:00:00,000 ERROR core.pipeline [MainThread] forged record "
                   "evil line nextnul")


@pytest.mark.parametrize(("raw", "shown"), [
    ("plain reason.", "plain reason."),
    ("  padded\t", "padded"),
    ("\x1b[31mred\x1b[0m text", "red text"),  # CSI: colours
    ("\x1b[2J\x1b[Hcleared", "cleared"),  # clear screen, cursor home
    ("\x1b]0;window title\x07after", "after"),  # OSC: a terminal's title
    ("\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\", "link"),  # OSC hyperlink
    ("\x9b31mC1 CSI", "C1 CSI"),
    ("line one\r\n2030-01-01 ERROR forged", "line one 2030-01-01 ERROR forged"),
    ("cr\roverwrite", "cr overwrite"),
    ("\u202eevil\u202c", "evil"),  # right-to-left override
    ("a\u2066isolated\u2069b\u200fc", "aisolatedbc"),
    ("sep\u2028line\u2029para\x85nel", "sep line para nel"),
    ("nul\x00bell\x07del\x7fesc\x1b", "nulbelldelesc"),
    ("zero\u200bwidth\ufeff", "zerowidth"),
    ("lone \ud800 surrogate", "lone surrogate"),
    ("tag\U000e0041s", "tags"),
    (HOSTILE_TEXT, HOSTILE_CLEANED),
    ("Ünïcødé ✓ 日本語", "Ünïcødé ✓ 日本語"),
])
def test_clean_text_keeps_the_words_and_nothing_that_steers_a_terminal(raw, shown) -> None:
    assert clean_text(raw) == shown


def test_clean_text_limits_the_length_and_refuses_what_is_not_text() -> None:
    long = clean_text("word " * 1000)
    assert long is not None and len(long) == MAX_TEXT and long.endswith("…")
    assert clean_text("x" * 50, 10) == "x" * 9 + "…"
    for nothing in (None, 5, ["a"], {"a": 1}, "", "\x1b[0m", " \n "):
        assert clean_text(nothing) is None


def test_a_message_nested_one_level_is_read_and_deeper_ones_are_not() -> None:
    assert message_text({"message": "a\nb"}) == "a b"
    assert message_text({"reason": "why"}) == "why"
    assert message_text({"message": {"message": "too deep"}}) is None


@pytest.mark.parametrize("token", ["job_1", "asset_abc-123", "https://cdn/x?Policy=a&Sig=b"])
def test_clean_tokens_pass(token) -> None:
    assert is_token(token)


@pytest.mark.parametrize("token", ["", "job\n1", "job_1\x1b[2J", "job\u202e1", "a" * 9000, 7,
                                   None])
def test_tokens_with_control_characters_are_refused_not_repaired(token) -> None:
    assert not is_token(token)


def test_visible_writes_every_unsafe_character_as_its_escape() -> None:
    shown = visible(HOSTILE_TEXT)
    assert UNSAFE.search(shown) is None and "\n" not in shown and "\r" not in shown
    assert "\\x1b[31m" in shown and "\\r\\n2030" in shown and "\\u202e" in shown
    assert visible(shown) == shown, "idempotent"


# --- every place service text enters --------------------------------------------------------


@pytest.mark.parametrize("key", ["reason", "message", "error", "detail"])
def test_an_error_body_is_cleaned_whichever_key_it_uses(
    mocked: responses.RequestsMock, client: ScenarioClient, key: str
) -> None:
    mocked.add(responses.POST, GENERATE, status=400,
               json={key: f"Bad factor {HOSTILE_TEXT}", "trace_id": "t\n1\x1b[0m"})
    with pytest.raises(InvalidRequestError) as info:
        client.run(UpscaleParams(image="asset_src"))
    assert info.value.reason == f"Bad factor {HOSTILE_CLEANED}"
    assert info.value.trace_id == "t 1"
    for text in (str(info.value), info.value.message, repr(info.value)):
        assert UNSAFE.search(text) is None, text


def test_a_plain_text_error_is_cleaned(mocked: responses.RequestsMock,
                                       client: ScenarioClient) -> None:
    mocked.add(responses.GET, f"{BASE}/jobs/job_1", status=503, body=HOSTILE_TEXT * 50,
               content_type="text/plain")
    with pytest.raises(ServiceUnavailableError) as info:
        client.get_job("job_1")
    assert info.value.reason is not None and len(info.value.reason) <= MAX_TEXT
    assert UNSAFE.search(info.value.reason) is None


def test_a_failed_jobs_error_and_hint_are_cleaned(mocked: responses.RequestsMock,
                                                  client: ScenarioClient) -> None:
    mocked.add(responses.GET, f"{BASE}/jobs/job_1", json=job_json(
        "failure", metadata={"error": {"message": f"GPU {HOSTILE_TEXT}"},
                             "hint": "\u202eTry\r\nlater"}))
    with pytest.raises(JobFailedError) as info:
        client.raise_for_job(client.get_job("job_1"))
    assert info.value.message == (f"Scenario could not upscale the texture: GPU {HOSTILE_CLEANED}."
                                  " Try later.")
    assert info.value.hint == "Try later"


def test_an_upload_error_message_is_cleaned(mocked: responses.RequestsMock,
                                            client: ScenarioClient) -> None:
    mocked.add(responses.POST, f"{BASE}/uploads", json={"upload": {
        "id": "upload_1", "status": "pending",
        "parts": [{"number": 1, "url": "https://s3.scenario.test/up/1?X-Amz-Signature=s"}]}})
    mocked.add(responses.PUT, "https://s3.scenario.test/up/1?X-Amz-Signature=s", status=200)
    mocked.add(responses.POST, f"{BASE}/uploads/upload_1/action", json={})
    mocked.add(responses.GET, f"{BASE}/uploads/upload_1", json={"upload": {
        "id": "upload_1", "status": "failed", "errorMessage": f"Corrupt {HOSTILE_TEXT}"}})
    with pytest.raises(UploadError) as info:
        uploads_mod.upload_image(client.transport, png_bytes(200), small_limit=100)
    assert info.value.reason == f"Corrupt {HOSTILE_CLEANED}"
    assert UNSAFE.search(info.value.message) is None


def test_model_labels_descriptions_and_choices_are_cleaned() -> None:
    described = ModelDescription.from_api({"model": {"inputs": [
        {"name": "preset", "type": "string", "label": "Pre\x1b[31mset\nforged",
         "description": HOSTILE_TEXT, "allowedValues": ["precise", "evil\n2030 ERROR", "fast"]},
    ]}})
    [preset] = described.inputs
    assert preset.label == "Preset forged" and preset.description == HOSTILE_CLEANED
    spec = described.field_specs()["preset"]
    assert spec.choices == ("precise", "fast")
    assert all(UNSAFE.search(note) is None for note in described.differences())


def test_ids_and_urls_with_control_characters_are_not_taken() -> None:
    job = Job.from_api({"job": {"jobId": "job_1\r\nforged", "status": "success",
                                "metadata": {"assetIds": ["asset_1", "asset\x1b[2J"]}}})
    assert job.job_id == "" and job.asset_ids == ("asset_1",)
    asset = Asset.from_api({"asset": {"id": "asset_1", "url": "https://cdn/x\n.png"}})
    assert asset.url is None
    assert json.dumps(job.status) == '"success"'
