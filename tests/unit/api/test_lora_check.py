"""LoRA ids looked up (free) before anything is paid: once per session, unknown ids refused by name."""

from __future__ import annotations

import queue
import threading

import pytest
import responses
from scenario_texture_upscale.api import Credentials, ScenarioClient
from scenario_texture_upscale.api.lora_check import (
    LoraCheck,
    LoraCheckFailedError,
    UnknownLoraError,
)
from scenario_texture_upscale.core.scheduler import JobCancelled, JobContext

from .conftest import API_KEY, BASE, CANARY, FakeClock, refused

STONE = "model_lora-stone"
TYPO = "model_lora-stnoe"
LORA = {"model": {"id": STONE, "name": "Stone", "type": "flux.1-lora"}}
NOT_FOUND = {"reason": f"Model {TYPO} not found", "trace_id": "t-1"}


def lookups(mocked: responses.RequestsMock, model_id: str) -> int:
    return sum(1 for c in mocked.calls if c.request.url == f"{BASE}/models/{model_id}")


def test_find_model_reads_the_envelope_and_answers_none_for_404(
    mocked: responses.RequestsMock, client: ScenarioClient
) -> None:
    mocked.add(responses.GET, f"{BASE}/models/{STONE}", json=LORA)
    mocked.add(responses.GET, f"{BASE}/models/{TYPO}", status=404, json=NOT_FOUND)
    assert client.find_model(STONE) == LORA["model"]
    assert client.find_model(TYPO) is None


def test_a_known_lora_is_looked_up_once_per_session(
    mocked: responses.RequestsMock, client: ScenarioClient
) -> None:
    mocked.add(responses.GET, f"{BASE}/models/{STONE}", json=LORA)
    check = LoraCheck()
    check.check(client, [STONE])
    check.check(client, [STONE, STONE])
    assert lookups(mocked, STONE) == 1


def test_an_unknown_lora_is_refused_by_name_and_remembered(
    mocked: responses.RequestsMock, client: ScenarioClient
) -> None:
    mocked.add(responses.GET, f"{BASE}/models/{STONE}", json=LORA)
    mocked.add(responses.GET, f"{BASE}/models/{TYPO}", status=404, json=NOT_FOUND)
    check = LoraCheck()
    for _ in range(2):
        with pytest.raises(UnknownLoraError, match=f"LoRA '{TYPO}' is not a model") as info:
            check.check(client, [STONE, TYPO])
        assert "Nothing was uploaded or spent" in info.value.message
        assert info.value.field == "loras" and info.value.not_sent
    assert (lookups(mocked, STONE), lookups(mocked, TYPO)) == (1, 1)


def test_urls_are_not_looked_up(mocked: responses.RequestsMock, client: ScenarioClient) -> None:
    LoraCheck().check(client, ["https://example.com/lora.safetensors"])
    assert len(mocked.calls) == 0


def test_answers_are_per_key_and_service(
    mocked: responses.RequestsMock, client: ScenarioClient, clock: FakeClock
) -> None:
    mocked.add(responses.GET, f"{BASE}/models/{STONE}", json=LORA)
    check = LoraCheck()
    check.check(client, [STONE])
    with ScenarioClient.open(Credentials("other-key", "other-secret"), BASE,
                        sleep=clock.sleep, clock=clock.now) as other:
        check.check(other, [STONE])
    assert lookups(mocked, STONE) == 2


def test_a_failed_lookup_says_so_is_not_remembered_and_leaks_no_secret(
    mocked: responses.RequestsMock, client: ScenarioClient
) -> None:
    mocked.add(responses.GET, f"{BASE}/models/{STONE}", body=refused())
    check = LoraCheck()
    with pytest.raises(LoraCheckFailedError) as info:
        check.check(client, [STONE])
    message = str(info.value)
    assert message.startswith(f"Could not check LoRA '{STONE}' before paying, so nothing was "
                              "uploaded or spent. Could not connect to Scenario: check your")
    assert CANARY not in message and API_KEY not in message
    mocked.replace(responses.GET, f"{BASE}/models/{STONE}", json=LORA)
    check.check(client, [STONE])  # asked again, and now known


def test_a_secret_pasted_as_a_lora_is_not_echoed(
    mocked: responses.RequestsMock, client: ScenarioClient
) -> None:
    mocked.add(responses.GET, f"{BASE}/models/{CANARY}", status=404, json={"reason": "nope"})
    with pytest.raises(UnknownLoraError) as info:
        LoraCheck().check(client, [CANARY])
    assert CANARY not in str(info.value)


def test_a_job_cancelled_while_another_looks_up_stops_waiting(
    mocked: responses.RequestsMock, client: ScenarioClient
) -> None:
    """A job waits for another's lookup of the same id without polling, and a cancel wakes it at
    once (the scheduler's wait); then the lookup's answer reaches the jobs still waiting."""
    check, events = LoraCheck(), queue.Queue()
    key = (client.transport.account, STONE)
    check._asking.add(key)  # another job's lookup in flight
    waiting = JobContext("waiting", threading.Event(), events)
    raised: list[BaseException] = []

    def job() -> None:
        try:
            check.check(client, [STONE], waiting.wait_for)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            raised.append(exc)

    thread = threading.Thread(target=job)
    thread.start()
    thread.join(0.2)
    assert thread.is_alive(), "it waits for the other lookup"
    waiting.cancel(by_user=True)
    thread.join(5)
    assert not thread.is_alive() and isinstance(raised[0], JobCancelled)

    other = threading.Thread(target=check.check, args=(client, [STONE]))
    other.start()
    check._settle(key, True)  # the first lookup's answer
    other.join(5)
    assert not other.is_alive() and len(mocked.calls) == 0, "nobody looked it up again"
