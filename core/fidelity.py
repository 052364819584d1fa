"""Keeping what an upscale must not lose: alpha, unit-length normals and tiling.

Runs in a worker, through ``offload`` (a child process for big images). The source is read once
(``analyse_source``, while Scenario works; pixel sources when they are encoded, ``prepare_pixels``);
the result is fixed after download (``finish_result``) and rewritten only if something changed.
Sources that cannot be decoded here (JPEG, WebP, …: no codec in Blender's Python) have no alpha
to keep; their seam is reported for the result only.
"""

from __future__ import annotations

import io
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from . import pixels, png
from .imagefile import ImageHeaderError, read_image_header, sniff_format
from .source import (
    BytesSource,
    FileSource,
    PixelSource,
    Source,
    head_bytes,
    prepare_upload,
)

# A source whose wrap seam changes no more than this times its neighbourhood counts as tileable.
TILEABLE_RATIO = 1.5
# A result of a tileable source whose seam ratio exceeds this gets a warning.
SEAM_WARN_RATIO = 2.0
# Padding added on every side in seam-safe mode, as a fraction of the shorter side.
SEAM_PAD_FRACTION = 1 / 8

Pixels = npt.NDArray[Any]


@dataclass(frozen=True)
class FidelityPlan:
    """What to preserve, decided on the main thread from the image and its nodes."""

    keep_alpha: bool = True
    normal_map: bool = False
    check_tiling: bool = True
    seam_pad: int = 0


@dataclass
class FidelityReport:
    source_seam: float | None = None
    result_seam: float | None = None
    alpha_rebuilt: bool = False
    normals_renormalized: bool = False
    normal_length_error: float | None = None
    cropped: int = 0
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("source_seam", "result_seam"):
            if data[key] is not None and not math.isfinite(data[key]):
                data[key] = 1e9  # JSON has no infinity; "a hard seam" either way
        return data


@dataclass
class SourceAnalysis:
    alpha: Pixels | None = None  # H x W, the source's alpha when it carries a meaningful one
    alpha_tileable: bool = False
    seam: float | None = None


def seam_pad_for(width: int, height: int) -> int:
    return max(8, int(min(width, height) * SEAM_PAD_FRACTION))


def can_decode(source: Source) -> bool:
    """Whether ``decode_source`` can read it: pixels, or a PNG."""
    return isinstance(source, PixelSource) or sniff_format(head_bytes(source, 16)) == "png"


def pixel_count(source: Source | Path) -> int:
    """How many pixels decoding ``source`` (or the PNG at a path) would give; 0 if it cannot."""
    if isinstance(source, PixelSource):
        return source.width * source.height
    # The IHDR chunk ends at byte 33: enough for the header reader, without reading the file.
    head = _head(source, 33) if isinstance(source, Path) else head_bytes(source, 33)
    if sniff_format(head) != "png":
        return 0
    try:
        info = read_image_header(io.BytesIO(head))
    except ImageHeaderError:
        return 0
    return info.width * info.height


def decode_source(source: Source) -> Pixels | None:
    """The source's pixels, top-down, when a codec here can read them."""
    if not can_decode(source):
        return None
    if isinstance(source, PixelSource):
        return source.rgba8
    return png.decode_png(source.data if isinstance(source, BytesSource) else source.path)


def pad_source(source: Source, pad: int, work_dir: Path) -> FileSource:
    """The source wrapped around by ``pad`` pixels on every side, as a PNG to upload."""
    decoded = decode_source(source)
    if decoded is None:
        raise ValueError("seam-safe mode needs a source this add-on can decode")
    work_dir.mkdir(parents=True, exist_ok=True)
    target = work_dir / "source-padded.png"
    png.write_png(target, pixels.pad_wrap(decoded, pad))
    return FileSource(str(target), source.name)


def prepare_pixels(source: PixelSource, plan: FidelityPlan,
                   work_dir: Path) -> tuple[FileSource, SourceAnalysis]:
    """Blender's pixels as the PNG to upload (padded in seam-safe mode), and their analysis:
    converted once for both."""
    analysis = analyse_source(source, plan)
    if plan.seam_pad:
        return pad_source(source, plan.seam_pad, work_dir), analysis
    path, name = prepare_upload(source, work_dir)
    return FileSource(str(path), name), analysis


def analyse_source(source: Source | None, plan: FidelityPlan) -> SourceAnalysis:
    analysis = SourceAnalysis()
    if source is None or not (plan.keep_alpha or plan.check_tiling):
        return analysis
    stream = _stream(source)
    if stream is not None:
        with stream:
            scan = _scan(stream, plan.keep_alpha)
        borders, alpha = scan.borders, scan.alpha
    else:
        decoded = decode_source(source)
        if decoded is None:
            return analysis
        borders = pixels.borders(decoded) if min(decoded.shape[:2]) >= 2 else None
        meaningful = plan.keep_alpha and pixels.has_meaningful_alpha(decoded)
        alpha = decoded[:, :, -1] if meaningful else None
    if plan.check_tiling and borders is not None:
        analysis.seam = pixels.seam_ratio_of(borders).worst
    if alpha is not None:
        analysis.alpha = alpha
        # Alpha often has its own layout (a cut-out on a tiling colour): judge it by itself.
        analysis.alpha_tileable = (borders is not None
                                   and pixels.seam_ratio(alpha).worst <= TILEABLE_RATIO)
    return analysis


def result_needs_pixels(plan: FidelityPlan, analysis: SourceAnalysis) -> bool:
    """Whether ``finish_result`` reads the result's pixels (seconds for a large one). A seam is
    only worth measuring where the source had none."""
    return _may_rewrite(plan, analysis) or (plan.check_tiling and _tileable(analysis))


def _may_rewrite(plan: FidelityPlan, analysis: SourceAnalysis) -> bool:
    """Whether the result may be cropped, get alpha or be re-normalised: decoded whole then."""
    return bool(plan.seam_pad or plan.normal_map or analysis.alpha is not None)


def _tileable(analysis: SourceAnalysis) -> bool:
    return analysis.seam is not None and analysis.seam <= TILEABLE_RATIO


def finish_result(path: Path, plan: FidelityPlan, analysis: SourceAnalysis,
                  factor: int) -> FidelityReport:
    """Crops, rebuilds alpha, re-normalises and measures the downloaded result in place."""
    report = FidelityReport(source_seam=analysis.seam)
    tileable = _tileable(analysis)
    if not result_needs_pixels(plan, analysis):
        return report
    if sniff_format(_head(path, 16)) != "png":
        report.notes.append("The result is not a PNG, so it was kept exactly as Scenario sent it.")
        return report
    if not _may_rewrite(plan, analysis):
        # Only the seam is wanted: its borders, read in one pass, without holding the image.
        stream = png.stream_png(str(path))
        if stream is not None:
            with stream:  # unmapped before the file is moved into place
                borders = _scan(stream, want_alpha=False).borders
            if borders is not None:
                _measure_seam(report, borders, analysis)
            return report
    decoded = png.read_png(str(path))
    result: Pixels = decoded.pixels
    changed = False
    if plan.seam_pad:
        result = pixels.crop(result, plan.seam_pad * factor)
        report.cropped, changed = plan.seam_pad * factor, True
    if analysis.alpha is not None and _needs_alpha(result, analysis.alpha):
        alpha = pixels.resample(analysis.alpha, result.shape[0], result.shape[1],
                                wrap=analysis.alpha_tileable)
        result = pixels.merge_alpha(_as_colour(result), alpha)
        report.alpha_rebuilt, changed = True, True
        report.notes.append("Scenario returned no usable alpha: the source's alpha was resampled "
                            "to the new size and merged in.")
    if plan.normal_map:
        result = _renormalized(result)
        report.normals_renormalized, changed = True, True
        report.normal_length_error = pixels.normal_length_stats(result[:, :, :3])[1]
    if plan.check_tiling and tileable and min(result.shape[:2]) >= 2:
        _measure_seam(report, pixels.borders(result), analysis)
    if changed:
        png.write_png(path, result)
    return report


def _measure_seam(report: FidelityReport, borders: pixels.Borders,
                  analysis: SourceAnalysis) -> None:
    report.result_seam = pixels.seam_ratio_of(borders).worst
    if report.result_seam > SEAM_WARN_RATIO:
        report.warnings.append(
            f"The source tiles seamlessly but the result shows a seam (seam ratio "
            f"{report.result_seam:.1f}, source {analysis.seam:.1f}). Try seam-safe mode."
        )


@dataclass
class _Scan:
    borders: pixels.Borders | None  # None below 2 x 2 pixels: no seam to speak of
    alpha: Pixels | None  # the alpha channel, when there is one and it is not all opaque


def _scan(stream: png.RowStream, want_alpha: bool) -> _Scan:
    """One pass over a PNG's rows keeping its borders (and its alpha when asked): an 8K source
    or a 16K result is read a strip at a time (tens of MB), not decoded whole."""
    dtype = np.dtype(np.uint16 if stream.depth == 16 else np.uint8)
    collector = (pixels.BorderCollector(stream.height, stream.width, dtype, stream.channels)
                 if min(stream.height, stream.width) >= 2 else None)
    alpha = (np.empty((stream.height, stream.width), dtype)
             if want_alpha and stream.channels in (2, 4) else None)
    for top, block in stream.blocks():
        if collector is not None:
            collector.add(top, block)
        if alpha is not None:
            alpha[top : top + block.shape[0]] = block[:, :, -1]
    if alpha is not None and alpha.min() == (65535 if stream.depth == 16 else 255):
        alpha = None
    return _Scan(collector.borders() if collector is not None else None, alpha)


def _stream(source: Source) -> png.RowStream | None:
    """The source as a row stream, when it is a PNG that streams."""
    if isinstance(source, PixelSource) or not can_decode(source):
        return None
    return png.stream_png(source.data if isinstance(source, BytesSource) else source.path)


def _head(path: Path, count: int) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(count)


def _needs_alpha(result: Pixels, source_alpha: Pixels) -> bool:
    if result.shape[2] not in (2, 4):
        return True
    # An alpha channel that is flat while the source's is not was not really kept.
    return not pixels.has_meaningful_alpha(result)


def _as_colour(result: Pixels) -> Pixels:
    if result.shape[2] in (3, 4):
        return result[:, :, :3]
    grey = result[:, :, :1]
    return np.repeat(grey, 3, axis=2)


def _renormalized(result: Pixels) -> Pixels:
    if result.shape[2] < 3:
        return result
    fixed = pixels.renormalize_normal_map(np.ascontiguousarray(result[:, :, :3]))
    if result.shape[2] == 4:
        return np.concatenate([fixed, result[:, :, 3:]], axis=2)
    return fixed
