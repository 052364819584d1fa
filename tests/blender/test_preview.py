"""Previews in real Blender against the emulator: the crop sent is exactly the region of the
texture (PNG, JPEG through a helper Blender, generated, packed, a UDIM tile), every variant's
values and its seed are on the wire, one question covers all variants, no material changes,
Use These Settings, Clear Previews, and a preview set journaled, cancelled and recovered."""

from __future__ import annotations

import hashlib
import io
import json
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import bpy
import numpy as np
import pytest
import requests
import scenes
from conftest import API_KEY, API_SECRET, data_folder
from fake_ui import FakeOperator, draw, texts
from PIL import Image

pytestmark = pytest.mark.usefixtures("clean_file", "prefs")


def module(addon: str, name: str):
    return sys.modules[f"{addon}.{name}"]


@pytest.fixture(autouse=True)
def _preview_settings(emulator, prefs):
    emulator.reset(clear_state=True)  # each test sees only its own uploads
    settings = bpy.context.scene.scenario_upscale
    settings.variant_field = "NONE"
    settings.preview_size = "512"
    spending = {name: getattr(prefs, name) for name in ("confirm_expensive",
                                                         "confirm_above_credits", "never_spend")}
    yield
    for name, value in spending.items():
        setattr(prefs, name, value)


def sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def uploaded(emulator, name_part: str) -> list[np.ndarray]:
    """The images the emulator received whose name contains ``name_part``, decoded."""
    found = []
    for asset in emulator.state()["assets"]:
        if name_part in asset["name"] and asset["source"] == "uploaded":
            meta = requests.get(f"{emulator.root}/v1/assets/{asset['id']}",
                                auth=(API_KEY, API_SECRET), timeout=30).json()["asset"]
            data = requests.get(meta["url"], timeout=30).content
            found.append(np.asarray(Image.open(io.BytesIO(data))))
    return found


def blender_crop(image: bpy.types.Image, x: int, y: int, width: int, height: int
                 ) -> np.ndarray:
    """What Blender holds in the region, as 8-bit RGB rows top-down (files' order)."""
    w, h = image.size
    pixels = np.empty(w * h * 4, dtype=np.float32)
    image.pixels.foreach_get(pixels)
    cut = pixels.reshape(h, w, 4)[y:y + height, x:x + width, :3]  # bottom-up
    return np.rint(cut[::-1] * 255).astype(np.uint8)


def previews_of(name: str) -> list[bpy.types.Image]:
    return sorted((i for i in bpy.data.images if i.get("scenario_preview_of") == name
                   and i.get("scenario_preview_role") == "preview"),
                  key=lambda i: tuple(i["scenario_preview_order"]))


REGION = (10, 6, 40, 24)


@pytest.mark.parametrize("kind", ["PNG", "JPEG", "generated", "packed JPEG"])
def test_the_upload_is_exactly_the_crop(tmp_path, emulator, kind) -> None:
    if kind == "generated":
        image = scenes.generated_image("brick", 64, 48)
    else:
        image = scenes.texture_file(tmp_path / "src", "brick", 64, 48,
                                    file_format="JPEG" if "JPEG" in kind else "PNG")
        if kind.startswith("packed"):
            image.pack()

    assert bpy.ops.scenario.preview_upscale(image_name="brick", region=REGION) == {"FINISHED"}

    [sent] = uploaded(emulator, "brick_preview")
    expected = blender_crop(bpy.data.images["brick"], *REGION)
    assert sent.shape[:2] == (24, 40), "the region's size"
    assert np.array_equal(sent[:, :, :3], expected), "the region's pixels, bottom-left origin"
    [made] = previews_of("brick")
    assert tuple(made.size) == (80, 48)
    assert list(made["scenario_preview_region"]) == list(REGION)


def test_nothing_in_the_scene_or_the_texture_changes(tmp_path, emulator, prefs) -> None:
    brick = scenes.texture_file(tmp_path / "src", "brick", 64, 48)
    before = sha256(brick.filepath)
    material = scenes.material_with("Brick", brick)
    scenes.object_with("Wall", [material], selected=True)
    settings = bpy.context.scene.scenario_upscale
    settings.variant_field = "PRESET"

    assert bpy.ops.scenario.preview_upscale(image_name="brick") == {"FINISHED"}

    assert [n.image.name for n in scenes.texture_nodes(material)] == ["brick"]
    assert sha256(brick.filepath) == before
    out = Path(prefs.output_dir)
    assert [p.name for p in out.iterdir()] == ["previews"], "previews only, in their folder"
    names = sorted(p.name for p in (out / "previews").iterdir())
    assert len(names) == 4 and len(set(names)) == 4, names  # 3 presets and the A/B reference
    assert not [i for i in bpy.data.images if "scenario_source_image" in i], "no result"
    assert len(emulator.paid()) == 3


VARIED = {
    "PRESET": ("preset", "preset", ["creative", "precise"]),
    "STRENGTH": ("strength", "strength", [0.25, 0.8]),
    "BASE_MODEL": ("base_model", "baseModel", ["FLUX.1-Krea-dev", "FLUX.1-dev"]),
    "SEED": ("seed", "seed", [11, 222]),
    "PROMPT": ("prompt", "prompt", ["moss in the joints", "dry"]),
}


@pytest.mark.parametrize("field", sorted(VARIED))
def test_each_variant_sends_its_value_and_use_these_settings_copies_it(tmp_path, emulator,
                                                                       field) -> None:
    scenes.texture_file(tmp_path / "src", "brick", 64, 48)
    settings = bpy.context.scene.scenario_upscale
    settings.random_seed = True
    settings.strength, settings.prompt = 0.4, ""
    attribute, api_name, values = VARIED[field]
    settings.variant_field = field
    settings.variants.clear()
    for value in values:
        setattr(settings.variants.add(), attribute, value)

    assert bpy.ops.scenario.preview_upscale(image_name="brick") == {"FINISHED"}

    bodies = [r["body"] for r in emulator.paid()]
    assert sorted(b[api_name] for b in bodies) == sorted(values), "one generate per value"
    seeds = {b["seed"] for b in bodies}
    if field == "SEED":
        assert seeds == set(values)
    else:
        assert len(seeds) == 1, "one seed for all: only the varied setting differs"
    made = previews_of("brick")
    for image in made:
        sent = next(b for b in bodies if b[api_name] == json.loads(
            image["scenario_preview_params"])[api_name])
        recorded = json.loads(image["scenario_preview_params"])
        assert recorded == {k: v for k, v in sent.items() if k != "image"}, \
            "the exact inputs sent, seed included"

    chosen = made[0]
    recorded = json.loads(chosen["scenario_preview_params"])
    settings.variant_field = "NONE"
    settings.random_seed, settings.seed, settings.preset = True, 5, "balanced"
    assert bpy.ops.scenario.use_preview_settings(image_name=chosen.name) == {"FINISHED"}
    assert getattr(settings, attribute) == pytest.approx(recorded[api_name])
    assert settings.random_seed is False and settings.seed == recorded["seed"]
    assert settings.preset == recorded["preset"]
    assert settings.strength == pytest.approx(recorded["strength"])


def drive(addon: str, view, answer: bool | None = None, timeout: float = 60.0) -> list:
    """What the operator's modal timer does, answering the price question with ``answer``;
    returns every question asked."""
    rt = module(addon, "bridge.runtime").get()
    asked = []
    deadline = time.monotonic() + timeout
    while view.status == "running":
        assert time.monotonic() < deadline
        rt.pump(timeout=0.05)
        if view.question is not None and answer is not None:
            asked.append(view.question)
            rt.answer(view.local_id, answer)
    return asked


def start_preview(addon: str, image_name: str, can_ask: bool = True, **options):
    request = module(addon, "bridge.preview_request")
    rt = module(addon, "bridge.runtime").get()
    prepared = request.prepare(bpy.context, bpy.data.images[image_name], None, rt.user_dir,
                               rt.work_dir, **options)
    if can_ask:  # as with a window: somebody is there to answer
        job = prepared.job
        job.spend = type(job.spend)(**{**job.spend.__dict__, "can_ask": True})
    return rt, request.start(rt, prepared, image_name)


@pytest.mark.parametrize("yes", [True, False])
def test_one_price_question_covers_every_variant(addon, prefs, emulator, tmp_path, yes) -> None:
    prefs.confirm_expensive, prefs.confirm_above_credits = True, 0.5
    scenes.texture_file(tmp_path / "src", "brick", 64, 48)
    settings = bpy.context.scene.scenario_upscale
    settings.variant_field = "PRESET"  # three presets

    rt, view = start_preview(addon, "brick")
    asked = drive(addon, view, answer=yes)
    outcome = module(addon, "bridge.previews").conclude(rt, view)

    [question] = asked
    assert question.previews == 3 and question.cost == 3, "1 credit each, asked once"
    assert "3 previews of 64×48 → 128×96, 3 credits (the whole texture: 1 credit)" in \
        question.note
    assert len(emulator.paid()) == (3 if yes else 0)
    assert len(previews_of("brick")) == (3 if yes else 0)
    if not yes:
        assert "Declined at 3 credits" in outcome.message


def test_never_spend_and_no_one_to_ask_spend_nothing(addon, prefs, emulator, tmp_path) -> None:
    scenes.texture_file(tmp_path / "src", "brick", 64, 48)
    prefs.confirm_expensive, prefs.confirm_above_credits = True, 0.5
    with pytest.raises(RuntimeError, match="above your confirmation limit"):
        bpy.ops.scenario.preview_upscale(image_name="brick")  # background: nobody to ask
    prefs.confirm_expensive, prefs.never_spend = False, True
    try:
        with pytest.raises(RuntimeError, match="Rehearsal: the 1 preview of 'brick' would cost"):
            bpy.ops.scenario.preview_upscale(image_name="brick")
    finally:
        prefs.never_spend = False
    assert emulator.paid() == [] and previews_of("brick") == []


def test_clear_previews_leaves_nothing_behind(addon, prefs, emulator, tmp_path) -> None:
    scenes.texture_file(tmp_path / "src", "brick", 64, 48)
    bpy.context.scene.scenario_upscale.variant_field = "SEED"
    assert bpy.ops.scenario.preview_upscale(image_name="brick") == {"FINISHED"}
    rt = module(addon, "bridge.runtime").get()
    rt.refresh_journal()
    record = next(r for r in rt.recent if r.is_preview_set)  # newest first
    work = [rt.work_dir / record.local_id] + [rt.work_dir / e["local_id"]
                                              for e in record.preview["variants"]]
    assert any(p.exists() for p in work)
    assert len([i for i in bpy.data.images if "scenario_preview_of" in i]) == 3
    previews = module(addon, "bridge.previews")
    assert previews.reference_of(previews_of("brick")[0]) is not None, "A/B loads its image"
    assert len([i for i in bpy.data.images if "scenario_preview_of" in i]) == 4

    assert bpy.ops.scenario.clear_previews(image_name="brick") == {"FINISHED"}

    assert [i.name for i in bpy.data.images] == ["brick"]
    out = Path(prefs.output_dir)
    assert not (out / "previews").exists() or list((out / "previews").iterdir()) == []
    assert not any(p.exists() for p in work), "their work files too"


def journal_states(addon: str) -> dict[str, str]:
    folder = data_folder(addon) / "journal"
    return {p.stem: json.loads(p.read_text())["state"] for p in folder.glob("*.json")}


def test_a_preview_is_journaled_cancelled_and_recovered(addon, prefs, emulator,
                                                        tmp_path) -> None:
    emulator.faults([{"kind": "delay", "method": "GET", "path": "^/v1/jobs/", "seconds": 4.0}])
    scenes.texture_file(tmp_path / "src", "brick", 64, 48)
    # A file of its own: Recover below looks only at this file's jobs, not other tests'.
    bpy.ops.wm.save_as_mainfile(filepath=str(tmp_path / "preview.blend"))
    bpy.context.scene.scenario_upscale.variant_field = "SEED"
    rt, view = start_preview(addon, "brick")
    record = view.record
    deadline = time.monotonic() + 30
    while len(emulator.paid()) < 3:
        assert time.monotonic() < deadline
        rt.pump(timeout=0.05)
    assert journal_states(addon)[record.local_id] == "submitted", "journaled before paying"

    assert rt.cancel(view.local_id, by_user=True)
    drive(addon, view)
    outcome = module(addon, "bridge.previews").conclude(rt, view)

    assert view.status == "cancelled" and "Recover" in outcome.message
    states = journal_states(addon)
    assert states[record.local_id] == "abandoned"
    variants = {states[e["local_id"]] for e in record.preview["variants"]}
    assert "abandoned" in variants and variants <= {"abandoned", "succeeded", "downloaded"}, \
        "every variant paid for stays collectable"
    rt.refresh_journal()
    assert [r.local_id for r in rt.recoverable(bpy.data.filepath)] == [record.local_id], \
        "the set is offered, its variants are part of it"
    emulator.faults([])

    assert bpy.ops.scenario.recover_jobs() == {"FINISHED"}

    assert len(previews_of("brick")) == 3
    assert len(emulator.paid()) == 3, "recovered without paying again"
    assert journal_states(addon)[record.local_id] == "applied"
    bpy.ops.wm.read_homefile(use_empty=True)


def test_cancel_before_paying_costs_nothing(addon, prefs, emulator, tmp_path) -> None:
    prefs.confirm_expensive, prefs.confirm_above_credits = True, 0.5
    scenes.texture_file(tmp_path / "src", "brick", 64, 48)
    rt, view = start_preview(addon, "brick")
    deadline = time.monotonic() + 30
    while view.question is None:
        assert time.monotonic() < deadline
        rt.pump(timeout=0.05)
    rt.cancel(view.local_id, by_user=True)
    drive(addon, view)
    assert emulator.paid() == []
    assert journal_states(addon)[view.local_id] == "failed"


def test_a_udim_image_previews_the_tile_asked_for_or_under_the_view(addon, emulator,
                                                                     tmp_path) -> None:
    image = scenes.udim_files(tmp_path / "src", "skin", {1001: (64, 64), 1002: (48, 32)})
    frame = module(addon, "bridge.preview_frame")
    # An editor whose view is centred on the middle of the second tile (u 1.5, v 0.5).
    view = SimpleNamespace(width=400, height=300, view2d=SimpleNamespace(
        region_to_view=lambda x, y: (1.5, 0.5)))
    found = frame.view_crop(view, image, 256)
    assert found.tile == 1002 and found.region.as_list() == [0, 0, 48, 32]

    region = (8, 4, 32, 24)
    assert bpy.ops.scenario.preview_upscale(image_name="skin", region=region,
                                            tile=1002) == {"FINISHED"}

    tile = bpy.data.images.load(str(tmp_path / "src" / "skin.1002.png"))
    [sent] = uploaded(emulator, "skin_preview")
    assert np.array_equal(sent[:, :, :3], blender_crop(tile, *region))
    [made] = previews_of("skin")
    assert made["scenario_preview_tile"] == 1002 and tuple(made.size) == (64, 48)


def test_what_an_upscale_refuses_a_preview_refuses_too(addon, prefs, emulator,
                                                       tmp_path) -> None:
    scenes.texture_file(tmp_path / "src", "brick", 64, 48)
    with pytest.raises(RuntimeError, match=r"does not lie inside the 64×48 px image"):
        bpy.ops.scenario.preview_upscale(image_name="brick", region=(40, 0, 32, 32))
    settings = bpy.context.scene.scenario_upscale
    for _ in range(5):
        settings.image_prompts.add().image = bpy.data.images["brick"]
    with pytest.raises(RuntimeError, match="5 style images are set, but Scenario takes at most 4"):
        bpy.ops.scenario.preview_upscale(image_name="brick")
    settings.image_prompts.clear()
    prefs.base_url = "https://api.cloud.scenario.com/v1"
    bpy.context.preferences.system.use_online_access = False
    try:
        with pytest.raises(RuntimeError, match="Allow Online Access"):
            bpy.ops.scenario.preview_upscale(image_name="brick")
    finally:
        bpy.context.preferences.system.use_online_access = True
        prefs.base_url = emulator.root + "/v1"
    assert emulator.requests() == []


def test_a_preview_is_never_upscaled_or_previewed_itself(addon, emulator, tmp_path) -> None:
    scenes.texture_file(tmp_path / "src", "brick", 64, 48)
    assert bpy.ops.scenario.preview_upscale(image_name="brick") == {"FINISHED"}
    [made] = previews_of("brick")
    sent = len(emulator.requests())
    for call in (bpy.ops.scenario.upscale_image, bpy.ops.scenario.preview_upscale):
        with pytest.raises(RuntimeError, match=rf"'{made.name}' is a preview of 'brick'"):
            call(image_name=made.name)
    assert len(emulator.requests()) == sent


def test_the_panel_shows_the_thumbnails_and_what_to_do_with_them(addon, emulator,
                                                                  tmp_path) -> None:
    scenes.texture_file(tmp_path / "src", "brick", 64, 48)
    settings = bpy.context.scene.scenario_upscale
    settings.variant_field = "STRENGTH"
    panel = module(addon, "ui.panel_preview").IMAGE_PT_scenario_preview
    log = draw(panel, bpy.data.images["brick"])
    [button] = [e for e in log if isinstance(e, FakeOperator)
                and e.idname == "scenario.preview_upscale"]
    assert "template_icon" not in [e[0] for e in log if isinstance(e, tuple)]

    assert bpy.ops.scenario.preview_upscale(image_name="brick") == {"FINISHED"}

    made = previews_of("brick")
    log = draw(panel, bpy.data.images["brick"])
    assert [e[0] for e in log if isinstance(e, tuple)].count("template_icon") == len(made) == 3
    shows = [e.values["image_name"] for e in log if isinstance(e, FakeOperator)
             and e.idname == "scenario.show_preview" and e.values.get("mode") == "PREVIEW"]
    assert shows == [i.name for i in made]
    for image in made:
        assert image["scenario_preview_label"] in texts(log), "labelled with what differs"
    assert "scenario.use_preview_settings" not in [e.idname for e in log
                                                   if isinstance(e, FakeOperator)]
    log = draw(panel, made[1])  # the editor shows a preview
    ops = [e for e in log if isinstance(e, FakeOperator)]
    assert [o.values.get("mode") for o in ops if o.idname == "scenario.show_preview"][-2:] == [
        "AB", "TEXTURE"]
    assert [o.values["image_name"] for o in ops
            if o.idname == "scenario.use_preview_settings"] == [made[1].name]
    assert "scenario.clear_previews" in [o.idname for o in ops]


def test_alpha_and_normals_are_kept_but_no_seam_work_is_done(addon, emulator, tmp_path) -> None:
    settings = bpy.context.scene.scenario_upscale
    settings.keep_alpha, settings.check_tiling, settings.seam_safe = True, True, True
    settings.normal_map = "YES"
    try:
        scenes.texture_file(tmp_path / "src", "leaf", 64, 48, alpha=True)
        assert bpy.ops.scenario.preview_upscale(image_name="leaf") == {"FINISHED"}
    finally:
        settings.seam_safe, settings.normal_map = False, "AUTO"

    [made] = previews_of("leaf")
    with Image.open(bpy.path.abspath(made.filepath)) as result:
        assert result.mode == "RGBA", "the emulator dropped alpha; it is back"
        assert result.size == (128, 96), "no seam-safe padding: the crop at ×2, nothing cropped"
    rt = module(addon, "bridge.runtime").get()
    rt.refresh_journal()
    record = next(r for r in rt.recent if r.is_preview_set)
    [variant] = [rt.journal.load(e["local_id"]) for e in record.preview["variants"]]
    fidelity = variant.fidelity
    assert fidelity["alpha_rebuilt"] and fidelity["normals_renormalized"]
    assert fidelity["cropped"] == 0 and fidelity["source_seam"] is None
    assert fidelity["result_seam"] is None, "a crop has no wrap seam to check"


def test_variants_wait_for_the_teams_slots_like_any_job(addon, prefs, emulator,
                                                        tmp_path) -> None:
    from test_team_limit import peak, span

    prefs.max_concurrent_jobs = 4  # more places than the team's 2 slots (the emulator's limit)
    try:
        scenes.texture_file(tmp_path / "src", "brick", 64, 48)
        settings = bpy.context.scene.scenario_upscale
        settings.variant_field = "SEED"
        settings.variants.add().seed = 4  # four values
        assert bpy.ops.scenario.preview_upscale(image_name="brick") == {"FINISHED"}
    finally:
        prefs.max_concurrent_jobs = 0

    assert len(previews_of("brick")) == 4
    assert len(emulator.paid()) == 4, "each variant paid once, refusals re-sent"
    assert peak([span(job) for job in emulator.state()["jobs"]]) <= 2
