"""Safe output file names: sanitised stems, "<stem>_x<factor>.<ext>", unique reserved paths.

Image names in Blender are free text ("../../x", "CON", "brick.png", emoji, 300 characters), and
results are written on Windows, macOS and Linux, so every name goes through
:func:`sanitize_stem`. :func:`reserve_unique_path` claims a free name atomically, so concurrent
jobs writing into the same folder never pick the same file.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path
from typing import Final

__all__ = [
    "DEFAULT_STEM",
    "IMAGE_EXTENSIONS",
    "is_within",
    "reserve_unique_path",
    "sanitize_stem",
    "upscaled_file_name",
    "upscaled_stem",
    "tile_set_stem",
    "reserve_tile_names",
]

DEFAULT_STEM: Final = "texture"
MAX_STEM_BYTES: Final = 100

# Extensions dropped from the end of an image name ("brick.png" -> "brick").
IMAGE_EXTENSIONS: Final = frozenset(
    {
        "png", "jpg", "jpeg", "jpe", "jfif", "webp", "gif", "tif", "tiff", "bmp", "tga", "exr",
        "hdr", "avif", "heic", "heif", "dds", "psd", "j2c", "jp2", "cin", "dpx", "sgi", "rgb",
        "rgba", "bw",
    }
)

_ILLEGAL: Final = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
# Windows refuses these device names as file names, with any extension and in any case.
_RESERVED: Final = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{dev}{n}" for dev in ("COM", "LPT") for n in (*"123456789", "¹", "²", "³")}
)
_JOINERS: Final = {"\u200c", "\u200d"}  # kept: they hold emoji and some scripts together


def sanitize_stem(name: str, *, max_bytes: int = MAX_STEM_BYTES) -> str:
    """Turns a Blender image name into a file stem that is safe on Windows, macOS and Linux.

    Keeps only the last path component, drops one trailing image extension, replaces characters
    that are illegal or invisible in file names with ``_``, strips leading dots (no hidden files)
    and trailing dots/spaces (Windows drops them), suffixes Windows device names (``CON`` ->
    ``CON_``), NFC-normalises (macOS stores decomposed names otherwise) and limits the stem to
    ``max_bytes`` of UTF-8 without splitting a character. Never returns an empty string.
    """
    if max_bytes < 16:
        raise ValueError(f"max_bytes must be at least 16, got {max_bytes}")
    text = unicodedata.normalize("NFC", name)
    parts = [p for p in re.split(r"[\\/]", text) if p.strip() not in ("", ".", "..")]
    text = parts[-1] if parts else ""
    stem, dot, extension = text.rpartition(".")
    if dot and stem and extension.lower() in IMAGE_EXTENSIONS:
        text = stem
    text = "".join(_safe_char(c) for c in _ILLEGAL.sub("_", text))
    text = _trim(text)
    text = _truncate(text, max_bytes)
    text = _trim(text)
    if not text:
        return DEFAULT_STEM
    base = text.split(".", 1)[0].rstrip(" ")
    if base.upper() in _RESERVED:
        text = _truncate(base + "_" + text[len(base) :], max_bytes)
    return text


def _safe_char(char: str) -> str:
    category = unicodedata.category(char)
    # Cc: controls, Cs: lone surrogates (not encodable), Cf: invisible formatting such as
    # right-to-left overrides that disguise extensions, Zl/Zp: line and paragraph separators.
    if category in ("Cc", "Cs", "Zl", "Zp") or (category == "Cf" and char not in _JOINERS):
        return "_"
    return char


def _trim(text: str) -> str:
    return text.strip().lstrip(".").rstrip(". ").strip()


def _truncate(text: str, max_bytes: int) -> str:
    if len(text.encode("utf-8")) <= max_bytes:
        return text
    used = 0
    kept = []
    for char in text:
        size = len(char.encode("utf-8"))
        if used + size > max_bytes:
            break
        kept.append(char)
        used += size
    # Do not leave a dangling joiner or combining mark of a cut-off sequence.
    while kept and (kept[-1] in _JOINERS or unicodedata.combining(kept[-1])):
        kept.pop()
    return "".join(kept)


def upscaled_stem(stem: str, factor: int | float | str) -> str:
    """``f"{stem}_x{factor}"``; whole float factors are written without ".0"."""
    if isinstance(factor, float) and factor.is_integer():
        factor = int(factor)
    return f"{stem}_x{factor}"


def upscaled_file_name(stem: str, factor: int | float | str, ext: str = "png") -> str:
    """``f"{stem}_x{factor}.{ext}"``."""
    return f"{upscaled_stem(stem, factor)}.{ext.lstrip('.')}"


_TILE_SUFFIX = re.compile(r"[._](<UDIM>|<UVTILE>|1\d{3})(\.[^.]*)?$")


def tile_set_stem(name: str) -> str:
    """The file stem of a UDIM set's name: ``skin.<UDIM>.png`` and ``skin.1001.png`` give
    ``skin``."""
    return sanitize_stem(_TILE_SUFFIX.sub("", name) or name)


def reserve_unique_path(folder: str | os.PathLike[str], file_name: str) -> Path:
    """Returns ``folder / file_name``, or ``<stem>_2<ext>``, ``<stem>_3<ext>``, ... : the first name
    not taken yet, and reserves it by creating it empty with O_CREAT | O_EXCL.

    The exclusive create is atomic in the file system, so two jobs (threads or processes) never
    get the same path. The caller then writes its result elsewhere and moves it over the
    placeholder with ``os.replace`` (or deletes the placeholder if it gives up). The folder is
    created if missing.
    """
    if not file_name or file_name != Path(file_name).name or file_name in (".", ".."):
        raise ValueError(f"not a plain file name: {file_name!r}")
    directory = Path(folder)
    directory.mkdir(parents=True, exist_ok=True)
    stem, dot, extension = file_name.rpartition(".")
    if not dot or not stem:
        stem, extension = file_name, ""
    suffix = f".{extension}" if extension else ""
    counter = 1
    while True:
        # Plain names cannot leave the folder, and O_EXCL never follows an existing symlink.
        candidate = directory / (file_name if counter == 1 else f"{stem}_{counter}{suffix}")
        try:
            handle = os.open(candidate, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        except FileExistsError:
            counter += 1
            continue
        os.close(handle)
        return candidate


UDIM_TOKEN = "<UDIM>"  # noqa: S105 - the file-name token, not a secret


def reserve_tile_names(folder: str | os.PathLike[str], stem: str, tiles: list[int],
                       ext: str = "png") -> str:
    """Reserves ``<stem>.<tile>.<ext>`` for every tile, or under ``<stem>_2``, ``<stem>_3``, … :
    the first stem with no tile file taken, so a set never overwrites nor mixes with another.
    Returns the name with the UDIM token, ``<stem>.<UDIM>.<ext>``. Placeholders as in
    ``reserve_unique_path``."""
    directory = Path(folder)
    directory.mkdir(parents=True, exist_ok=True)
    counter = 1
    while True:
        base = stem if counter == 1 else f"{stem}_{counter}"
        made: list[Path] = []
        try:
            for tile in tiles:
                path = directory / f"{base}.{tile}.{ext}"
                os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
                made.append(path)
        except FileExistsError:
            for path in made:
                path.unlink()
            counter += 1
            continue
        return f"{base}.{UDIM_TOKEN}.{ext}"


def is_within(folder: str | os.PathLike[str], path: str | os.PathLike[str]) -> bool:
    """True if ``path`` lies inside ``folder`` (at any depth, not the folder itself), after
    resolving ``..`` and symbolic links, so a name cannot escape the output folder."""
    root = os.path.normcase(os.path.realpath(folder))
    target = os.path.normcase(os.path.realpath(path))
    if target == root:
        return False
    try:
        return os.path.commonpath([root, target]) == root
    except ValueError:  # different drives on Windows
        return False
