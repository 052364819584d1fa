"""Issue 27, in real Blender against an emulator that lies, stalls or redirects (its faults are
set through its control API; it runs in its own process).

For each case: nothing wrong is swapped in (the material's node still uses the original), the
report says what was wrong, a paid job stays collectable and Recover, once the fault is gone,
applies the right result without a second paid generate, and no request went where it was led
(the emulator's request log, the other origin's included).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import bpy
import pytest
import scenes

pytestmark = pytest.mark.usefixtures("clean_file", "prefs")

# The issue names it: Cancel takes effect within a second. The watchdog looks every 0.05 s and
# the test pumps events every 0.01 s; the rest of the second is margin for a loaded machine.
CANCEL_PROMISE = 1.0


def module(addon: str, name: str):
    return sys.modules[f"{addon}.{name}"]


@pytest.fixture
def brick(tmp_path: Path) -> Iterator[tuple[bpy.types.Image, bpy.types.Material]]:
    image = scenes.texture_file(tmp_path / "src", "brick", 64, 64)
    material = scenes.material_with("Brick", image)
    scenes.object_with("Wall", [material], selected=True)
    yield image, material


@pytest.fixture
def network(addon: str) -> Iterator[bpy.types.AddonPreferences]:
    """The issue's settings: a 10 s network timeout and a 1 min job limit."""
    system = bpy.context.preferences.system
    prefs = bpy.context.preferences.addons[addon].preferences
    saved = system.network_timeout, prefs.job_timeout_minutes
    system.network_timeout, prefs.job_timeout_minutes = 10, 1
    yield prefs
    system.network_timeout, prefs.job_timeout_minutes = saved


def start(addon: str, image: bpy.types.Image):
    request = module(addon, "bridge.request")
    rt = module(addon, "bridge.runtime").get()
    prepared = request.prepare(bpy.context, image, "SELECTED_OBJECTS", rt.user_dir, rt.work_dir)
    return rt, rt.start_upscale(prepared.job, prepared.connection.connect, image.name)


def wait(rt, view) -> None:
    while view.status == "running":
        rt.pump(timeout=0.02)


def upscale(addon: str, image: bpy.types.Image):
    """Runs an upscale as the operator would and returns its view and outcome (the report)."""
    rt, view = start(addon, image)
    wait(rt, view)
    return view, module(addon, "bridge.apply").conclude(rt, view)


def recover(addon: str, emulator, record):
    """Recover, once the fault is gone: the outcome of collecting ``record``'s job."""
    emulator.faults([])
    rt = module(addon, "bridge.runtime").get()
    assert record in rt.recoverable(bpy.data.filepath), "the paid job is offered for Recover"
    view = module(addon, "bridge.recovery").resume(rt, record)
    wait(rt, view)
    return module(addon, "bridge.apply").conclude(rt, view)


def assert_untouched(material: bpy.types.Material, image: bpy.types.Image) -> None:
    assert [node.image for node in scenes.texture_nodes(material)] == [image]
    assert [i.name for i in bpy.data.images] == [image.name], "no result image was made"


def assert_recovered_without_paying(addon, emulator, record, material, size=(128, 128)):
    outcome = recover(addon, emulator, record)
    assert outcome.applied is not None, outcome.message
    [node] = scenes.texture_nodes(material)
    assert node.image.name == "brick_x2" and tuple(node.image.size) == size
    assert f"Upscaled 'brick' to {size[0]}×{size[1]} px" in outcome.message
    assert len(emulator.generates()) == 1, "one paid generate in all: Recover paid nothing"


def assert_refused_and_paid(outcome, view, reason: str) -> None:
    assert outcome.level == "ERROR" and outcome.applied is None
    assert reason in outcome.message, outcome.message
    assert "Nothing was swapped in" in outcome.message
    assert f"Scenario job {view.record.job_id} is paid" in outcome.message
    assert "without paying again" in outcome.message
    assert "Unexpected error" not in outcome.message
    assert view.record.state == "succeeded"


def other_origin(emulator) -> list[dict[str, object]]:
    return [r for r in emulator.requests() if r.get("listener") == "other"]


# --- A. the result is checked before it is swapped in ------------------------------------------


def test_a_lying_content_length_is_never_swapped_in(addon, emulator, brick) -> None:
    """300 bytes stated of a whole file: the count agrees, the PNG has no IEND."""
    image, material = brick
    emulator.faults([{"kind": "short_length", "path": "^/_cdn/", "bytes": 300, "times": None}])
    view, outcome = upscale(addon, image)

    assert_refused_and_paid(outcome, view, "300 bytes arrived, and the PNG's")
    assert "kept breaking off" in outcome.message
    assert_untouched(material, image)
    assert_recovered_without_paying(addon, emulator, view.record, material)


@pytest.mark.parametrize("size", [(100, 37), (1280, 1280)])
def test_a_result_of_another_size_is_never_swapped_in(addon, emulator, brick, size) -> None:
    image, material = brick
    emulator.faults([{"kind": "result_size", "width": size[0], "height": size[1]}])
    view, outcome = upscale(addon, image)

    assert_refused_and_paid(outcome, view, f"Scenario's result is {size[0]}×{size[1]} px, but "
                                           "128×128 px was asked for.")
    assert_untouched(material, image)
    assert_recovered_without_paying(addon, emulator, view.record, material)


def test_seam_safe_results_are_checked_as_sent(addon, emulator, brick) -> None:
    """Seam-Safe sends the source padded by 8 px a side (80 px): the result must be 160 px
    before its crop, and 128 px once cropped; Recover crops it the same."""
    image, material = brick
    bpy.context.scene.scenario_upscale.seam_safe = True
    emulator.faults([{"kind": "result_size", "width": 128, "height": 128}])
    view, outcome = upscale(addon, image)

    assert_refused_and_paid(outcome, view, "Scenario's result is 128×128 px, but 160×160 px was "
                                           "asked for.")
    assert_untouched(material, image)
    assert_recovered_without_paying(addon, emulator, view.record, material)


@pytest.mark.parametrize("decoded_by_the_addon", [False, True],
                         ids=["loaded by Blender", "decoded by the add-on"])
def test_a_header_bomb_is_never_opened(addon, emulator, brick, decoded_by_the_addon) -> None:
    """A PNG whose IHDR claims 60000×60000: Blender's loader would ask for 14.4 GB, and the
    add-on's own decoder (alpha, seam check) ended in 'Unexpected error (PNGError …)'."""
    image, material = brick
    settings = bpy.context.scene.scenario_upscale
    settings.check_tiling = settings.keep_alpha = decoded_by_the_addon
    emulator.faults([{"kind": "header_bomb"}])
    view, outcome = upscale(addon, image)

    assert_refused_and_paid(outcome, view, "Scenario's result is 60000×60000 px, above the "
                                           "16384 px limit set in the preferences (Largest "
                                           "Result Side)")
    assert_untouched(material, image)
    assert_recovered_without_paying(addon, emulator, view.record, material)


# --- B. a stalled download is bounded, and Cancel is quick and truthful --------------------------


def test_cancel_during_a_dripping_download_takes_effect_at_once_and_says_it_is_paid(
        addon, emulator, brick, network) -> None:
    image, material = brick
    emulator.faults([{"kind": "drip", "path": "^/_cdn/", "bytes": 1, "seconds": 2}])
    rt, view = start(addon, image)
    while not any(r["outcome"] == "dripped" for r in emulator.requests()):
        rt.pump(timeout=0.05)
    time.sleep(0.5)  # the download is blocked in a read, with bytes still to come

    asked = time.monotonic()
    assert rt.cancel(view.local_id, by_user=True)
    wait(rt, view)
    took = time.monotonic() - asked
    outcome = module(addon, "bridge.apply").conclude(rt, view)

    assert took < CANCEL_PROMISE, f"the cancel took {took:.2f} s"
    assert view.status == "cancelled"
    assert outcome.message.startswith(
        f"Cancelled while downloading: Scenario job {view.record.job_id} is paid; the result can "
        "be collected with Recover")
    assert "nothing was charged" not in outcome.message
    assert_untouched(material, image)
    while rt.is_busy(view.local_id):  # its thread winds down: then Recover may take it
        rt.pump(timeout=0.02)
    assert_recovered_without_paying(addon, emulator, view.record, material)


def test_a_dripping_download_is_given_up_within_the_job_limit(addon, emulator, brick,
                                                             network) -> None:
    """One byte every 2 s never trips the 10 s read timeout; the download stalls (less than
    1 KiB in 10 s) three times, and the job ends, paid and collectable, inside its 1 min limit
    (the issue saw it still running at 70 s)."""
    image, material = brick
    emulator.faults([{"kind": "drip", "path": "^/_cdn/", "bytes": 1, "seconds": 2,
                      "times": None}])
    started = time.monotonic()
    view, outcome = upscale(addon, image)

    assert time.monotonic() - started < 60
    assert_refused_and_paid(outcome, view, "The download kept stalling (less than 10240 bytes "
                                           "in 10 s")
    assert_untouched(material, image)
    assert_recovered_without_paying(addon, emulator, view.record, material)


# --- C. redirects and links to this computer --------------------------------------------------


def test_a_redirected_upload_is_not_followed(addon, emulator, brick) -> None:
    """A 307 on POST /assets once sent the image again, over plain http, to another host, and
    the add-on took that host's asset id."""
    image, material = brick
    emulator.faults([{"kind": "redirect", "status": 307, "method": "POST",
                      "path": "^/v1/assets$"}])
    view, outcome = upscale(addon, image)

    assert outcome.level == "ERROR"
    assert "answered POST /assets with a redirect (HTTP 307)" in outcome.message
    assert "nothing was sent there" in outcome.message
    assert other_origin(emulator) == []
    assert emulator.generates() == [] and not view.record.input_asset_id
    assert not view.record.recoverable, "nothing was paid, nothing to recover"
    assert_untouched(material, image)


@pytest.mark.parametrize("rule", [
    {"kind": "local_link", "path": "^/v1/assets/"},  # the asset, or its link as a PNG
    {"kind": "redirect", "path": "^/_cdn/"},
    {"kind": "redirect", "path": "^/_cdn/", "to": "http://example.com/result.png"},
], ids=["a result link to another local service", "a download redirect to another origin",
        "a download redirect to plain http elsewhere"])
def test_a_download_led_elsewhere_sends_nothing_there(addon, emulator, brick, rule) -> None:
    image, material = brick
    emulator.faults([rule])
    view, outcome = upscale(addon, image)

    assert_refused_and_paid(outcome, view, "It was refused, and nothing was sent to it.")
    assert other_origin(emulator) == []
    if rule["kind"] == "local_link":
        other = emulator.state()["otherRoot"]
        assert f"leads to {other}, not to the local Scenario address in use" in outcome.message
    assert_untouched(material, image)
    assert_recovered_without_paying(addon, emulator, view.record, material)
