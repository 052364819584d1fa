import numpy as np
import pytest
from scenario_texture_upscale.core import fidelity, pixels, png
from scenario_texture_upscale.core.source import BytesSource, FileSource


def tileable_rgba(size=32):
    y, x = np.mgrid[0:size, 0:size] / size
    rgba = np.empty((size, size, 4), np.uint8)
    rgba[..., 0] = 128 + 100 * np.sin(2 * np.pi * x)
    rgba[..., 1] = 128 + 100 * np.cos(2 * np.pi * y)
    rgba[..., 2] = 90
    rgba[..., 3] = (40 + 200 * x).astype(np.uint8)  # a ramp: not tileable
    return rgba


def write(path, image):
    png.write_png(path, image)
    return path


def test_alpha_is_rebuilt_at_the_result_size(tmp_path):
    source = tileable_rgba()
    src = FileSource(str(write(tmp_path / "s.png", source)), "s.png")
    result_path = write(tmp_path / "r.png", source.repeat(2, 0).repeat(2, 1)[:, :, :3])
    analysis = fidelity.analyse_source(src, fidelity.FidelityPlan())

    report = fidelity.finish_result(result_path, fidelity.FidelityPlan(), analysis, 2)

    result = png.decode_png(result_path)
    expected = pixels.resample(source[:, :, 3], 64, 64)
    assert report.alpha_rebuilt and result.shape == (64, 64, 4)
    assert np.abs(result[:, :, 3].astype(int) - expected.astype(int)).max() <= 1
    assert analysis.seam < fidelity.TILEABLE_RATIO and not analysis.alpha_tileable


def test_normals_are_renormalised_and_seams_measured(tmp_path):
    rng = np.random.default_rng(3)
    bent = rng.integers(60, 200, (16, 16, 3)).astype(np.uint8)
    path = write(tmp_path / "n.png", bent)
    plan = fidelity.FidelityPlan(normal_map=True)

    report = fidelity.finish_result(path, plan, fidelity.SourceAnalysis(seam=1.0), 2)

    assert report.normals_renormalized and report.normal_length_error <= 0.01
    assert pixels.normal_length_stats(png.decode_png(path))[1] <= 0.01
    assert report.result_seam is not None


def test_a_seam_in_the_result_of_a_tileable_source_is_a_warning(tmp_path):
    ramp = np.tile(np.linspace(0, 255, 32).astype(np.uint8)[None, :, None], (32, 1, 3))
    path = write(tmp_path / "r.png", ramp)
    report = fidelity.finish_result(path, fidelity.FidelityPlan(), fidelity.SourceAnalysis(seam=1.0), 2)
    assert report.result_seam > fidelity.SEAM_WARN_RATIO
    assert "seam-safe" in report.warnings[0]


def test_seam_safe_padding_round_trips(tmp_path):
    source = tileable_rgba(24)[:, :, :3]
    src = BytesSource(png.encode_png(source), "s.png")
    pad = fidelity.seam_pad_for(24, 24)
    padded = png.decode_png(fidelity.pad_source(src, pad, tmp_path).path)
    assert padded.shape == (24 + 2 * pad, 24 + 2 * pad, 3)
    result = write(tmp_path / "r.png", padded.repeat(2, 0).repeat(2, 1))
    report = fidelity.finish_result(result, fidelity.FidelityPlan(seam_pad=pad),
                                    fidelity.SourceAnalysis(), 2)
    assert report.cropped == 2 * pad
    assert np.array_equal(png.decode_png(result), source.repeat(2, 0).repeat(2, 1))


def test_results_that_are_not_png_are_left_exactly_as_sent(tmp_path):
    path = tmp_path / "r.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 64)
    before = path.read_bytes()
    report = fidelity.finish_result(path, fidelity.FidelityPlan(normal_map=True),
                                    fidelity.SourceAnalysis(), 2)
    assert path.read_bytes() == before and "not a PNG" in report.notes[0]
    assert not fidelity.can_decode(FileSource(str(path), "r.jpg"))


def test_pixel_sources_are_converted_once_for_upload_padding_and_checks(tmp_path, monkeypatch):
    from scenario_texture_upscale.core.source import PixelSource, prepare_upload

    calls = []
    convert = pixels.blender_float_to_rgba8
    monkeypatch.setattr(pixels, "blender_float_to_rgba8",
                        lambda *a, **k: calls.append(1) or convert(*a, **k))
    src = PixelSource(np.linspace(0, 1, 16 * 16 * 4, dtype=np.float32), 16, 16, "g.png")
    prepare_upload(src, tmp_path)
    fidelity.pad_source(src, 8, tmp_path)
    fidelity.analyse_source(src, fidelity.FidelityPlan())
    assert len(calls) == 1


def test_png_sources_are_read_in_one_pass_with_the_whole_decodes_analysis(tmp_path, monkeypatch):
    from scenario_texture_upscale.core.source import PixelSource

    rgba = tileable_rgba(48)
    path = write(tmp_path / "s.png", rgba)
    floats = (rgba[::-1].reshape(-1) / 255).astype(np.float32)
    whole = fidelity.analyse_source(PixelSource(floats, 48, 48, "s"), fidelity.FidelityPlan())
    monkeypatch.setattr(png, "read_png", lambda *a, **k: pytest.fail("decoded whole"))
    for src in (FileSource(str(path), "s.png"), BytesSource(path.read_bytes(), "s.png")):
        streamed = fidelity.analyse_source(src, fidelity.FidelityPlan())
        assert streamed.seam == whole.seam and streamed.alpha_tileable == whole.alpha_tileable
        np.testing.assert_array_equal(streamed.alpha, whole.alpha)
    opaque = write(tmp_path / "o.png", tileable_rgba(16)[:, :, :3])
    assert fidelity.analyse_source(FileSource(str(opaque), "o.png"),
                                   fidelity.FidelityPlan()).alpha is None


def test_a_seam_check_alone_reads_the_result_in_one_pass(tmp_path, monkeypatch):
    source = tileable_rgba(32)[:, :, :3]
    analysis = fidelity.analyse_source(FileSource(str(write(tmp_path / "s.png", source)), "s"),
                                       fidelity.FidelityPlan())
    broken = source.repeat(2, 0).repeat(2, 1).astype(np.int16)
    broken[:, :32] += 60  # the left half brighter: a seam where the tiles meet
    result_path = write(tmp_path / "r.png", np.clip(broken, 0, 255).astype(np.uint8))
    expected = pixels.seam_ratio(png.decode_png(result_path)).worst
    monkeypatch.setattr(png, "read_png", lambda *a, **k: pytest.fail("decoded whole"))
    report = fidelity.finish_result(result_path, fidelity.FidelityPlan(), analysis, 2)
    assert report.result_seam == expected > fidelity.SEAM_WARN_RATIO
    assert "result shows a seam" in report.warnings[0]
