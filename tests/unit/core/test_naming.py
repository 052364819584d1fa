"""core.naming: hostile image names, output names and race-free unique paths."""

from __future__ import annotations

import os
import threading
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from scenario_texture_upscale.core import naming
from scenario_texture_upscale.core.naming import (
    is_within,
    reserve_tile_names,
    reserve_unique_path,
    sanitize_stem,
    tile_set_stem,
    upscaled_file_name,
)

ILLEGAL = set('<>:"/\\|?*') | {chr(c) for c in range(32)} | {"\x7f"}
RESERVED = ["CON", "PRN", "AUX", "NUL"] + [f"{d}{n}" for d in ("COM", "LPT") for n in range(1, 10)]


def assert_safe(stem: str) -> None:
    assert stem
    assert not ILLEGAL & set(stem)
    assert stem == unicodedata.normalize("NFC", stem)
    assert len(stem.encode("utf-8")) <= naming.MAX_STEM_BYTES
    assert not stem.startswith(".") and not stem.endswith((".", " "))
    assert stem.split(".")[0].upper() not in RESERVED
    assert stem not in (".", "..")


@pytest.mark.parametrize(
    "name,expected",
    [
        ("brick", "brick"),
        ("brick.png", "brick"),
        ("Brick.JPEG", "Brick"),
        ("brick.png.png", "brick.png"),  # only one extension is dropped
        ("brick.v2", "brick.v2"),  # not an image extension: kept
        ("../../x", "x"),
        ("..\\..\\Windows\\system32\\evil.exr", "evil"),
        ("/abs/path/to/wood.tif", "wood"),
        ("folder/", "folder"),
        ("x/..", "x"),
        ("con", "con_"),
        ("CON.png", "CON_"),
        ("Nul.txt", "Nul_.txt"),
        ("lpt9", "lpt9_"),
        ("com1.tar.gz", "com1_.tar.gz"),
        ("aux .png", "aux_"),
        ("console", "console"),  # only exact device names are reserved
        ("", "texture"),
        ("...", "texture"),
        (". .", "texture"),
        ("..", "texture"),
        (".png", "png"),  # a dot file: its name is all there is
        ("   ", "texture"),
        (".hidden", "hidden"),
        ("trailing. . ", "trailing"),
        ('a<b>c:d"e|f?g*h', "a_b_c_d_e_f_g_h"),
        ("tab\there\nnewline", "tab_here_newline"),
        ("Ziegel_Öl_日本語", "Ziegel_Öl_日本語"),
        ("😀 brick 🧱.png", "😀 brick 🧱"),
    ],
)
def test_sanitize_stem(name: str, expected: str) -> None:
    stem = sanitize_stem(name)
    assert stem == expected
    assert_safe(stem)


def test_nfc_normalisation() -> None:
    decomposed = "Cafe\u0301 Noe\u0308l"  # what macOS file dialogs may hand over
    assert sanitize_stem(decomposed) == "Café Noël"
    assert len(sanitize_stem(decomposed)) == len("Café Noël")


def test_invisible_and_spoofing_characters_replaced() -> None:
    # A right-to-left override can make "x\u202egnp.exe" display as "xexe.png".
    assert sanitize_stem("x\u202egnp.exe") == "x_gnp.exe"
    assert sanitize_stem("line\u2028break") == "line_break"
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # zero-width joiners kept
    assert sanitize_stem(family) == family


@pytest.mark.parametrize("unit", ["a", "é", "日", "😀", "\U0001f468\u200d\U0001f469"])
def test_long_names_are_cut_on_character_boundaries(unit: str) -> None:
    stem = sanitize_stem(unit * 300)
    assert_safe(stem)
    encoded = stem.encode("utf-8")
    assert len(encoded) > naming.MAX_STEM_BYTES - 8  # cut close to the limit, not far below
    assert encoded.decode("utf-8") == stem  # no broken character
    assert not stem.endswith("\u200d")
    assert (unit * 300).startswith(stem)


def test_limit_is_configurable_and_reserved_suffix_fits() -> None:
    assert len(sanitize_stem("x" * 50, max_bytes=20)) == 20
    stem = sanitize_stem("con." + "y" * 200)
    assert stem.startswith("con_.")
    assert len(stem.encode()) <= naming.MAX_STEM_BYTES
    with pytest.raises(ValueError):
        sanitize_stem("x", max_bytes=3)


def test_fuzz_never_unsafe() -> None:
    import random

    chooser = random.Random(5)
    alphabet = list("abc.. /\\:*?\"<>| \t\x00\x7féß日😀\u202e\u200d\u0301") + ["CON", "lpt3"]
    for _ in range(2000):
        name = "".join(chooser.choice(alphabet) for _ in range(chooser.randint(0, 40)))
        assert_safe(sanitize_stem(name))


@pytest.mark.parametrize(
    "args,expected",
    [
        (("brick", 2), "brick_x2.png"),
        (("brick", 4, "jpg"), "brick_x4.jpg"),
        (("brick", 2.0, ".webp"), "brick_x2.webp"),
        (("brick", 1.5), "brick_x1.5.png"),
        (("brick", "8"), "brick_x8.png"),
    ],
)
def test_upscaled_file_name(args: tuple, expected: str) -> None:
    assert upscaled_file_name(*args) == expected


def test_reserve_unique_path_sequence(tmp_path: Path) -> None:
    first = reserve_unique_path(tmp_path, "brick_x2.png")
    second = reserve_unique_path(tmp_path, "brick_x2.png")
    third = reserve_unique_path(tmp_path, "brick_x2.png")
    assert [p.name for p in (first, second, third)] == [
        "brick_x2.png", "brick_x2_2.png", "brick_x2_3.png"
    ]
    assert all(p.exists() and p.stat().st_size == 0 for p in (first, second, third))
    assert reserve_unique_path(tmp_path, "noext").name == "noext"
    assert reserve_unique_path(tmp_path, "noext").name == "noext_2"
    assert reserve_unique_path(tmp_path, "a.tar.gz").name == "a.tar.gz"
    assert reserve_unique_path(tmp_path, "a.tar.gz").name == "a.tar_2.gz"


def test_reserve_skips_existing_files_and_creates_folder(tmp_path: Path) -> None:
    folder = tmp_path / "new" / "deeper"
    folder.mkdir(parents=True)
    (folder / "t_x2.png").write_bytes(b"taken")
    (folder / "t_x2_2.png").write_bytes(b"taken")
    path = reserve_unique_path(folder, "t_x2.png")
    assert path == folder / "t_x2_3.png"
    assert (folder / "t_x2.png").read_bytes() == b"taken"  # never touched
    created = reserve_unique_path(tmp_path / "missing" / "dir", "a.png")
    assert created.exists()


def test_caller_replaces_the_placeholder(tmp_path: Path) -> None:
    placeholder = reserve_unique_path(tmp_path, "out.png")
    temp = tmp_path / "work.tmp"
    temp.write_bytes(b"result")
    os.replace(temp, placeholder)
    assert placeholder.read_bytes() == b"result"
    assert reserve_unique_path(tmp_path, "out.png").name == "out_2.png"


def test_reserve_unique_path_under_concurrency(tmp_path: Path) -> None:
    workers = 8
    per_worker = 15
    barrier = threading.Barrier(workers)

    def claim(_: int) -> list[Path]:
        barrier.wait()  # all threads race for the same names at once
        return [reserve_unique_path(tmp_path, "race_x2.png") for _ in range(per_worker)]

    with ThreadPoolExecutor(workers) as pool:
        claimed = [path for batch in pool.map(claim, range(workers)) for path in batch]
    assert len(claimed) == workers * per_worker
    assert len(set(claimed)) == len(claimed)  # nobody got a name twice
    assert len(list(tmp_path.iterdir())) == len(claimed)
    expected = {"race_x2.png"} | {f"race_x2_{n}.png" for n in range(2, len(claimed) + 1)}
    assert {p.name for p in claimed} == expected  # and no gaps


@pytest.mark.parametrize("bad", ["", ".", "..", "../x.png", "a/b.png", "sub\\x.png"])
def test_reserve_rejects_non_plain_names(tmp_path: Path, bad: str) -> None:
    if bad == "sub\\x.png" and os.sep == "/":
        # On POSIX a backslash is an ordinary character, still not a path escape.
        path = reserve_unique_path(tmp_path, bad)
        assert path.parent == tmp_path
        return
    with pytest.raises(ValueError):
        reserve_unique_path(tmp_path, bad)


def test_is_within(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    assert is_within(out, out / "a.png")
    assert is_within(out, out / "sub" / "a.png")
    assert is_within(str(out), str(out / "x" / ".." / "a.png"))
    assert not is_within(out, out / ".." / "a.png")
    assert not is_within(out, tmp_path / "outside.png")
    assert not is_within(out, tmp_path / "out2" / "a.png")  # prefix of the name is not enough
    assert not is_within(out, out)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_is_within_follows_symlinks(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    try:
        (out / "link").symlink_to(elsewhere, target_is_directory=True)
    except OSError:
        pytest.skip("symbolic links not permitted")
    assert not is_within(out, out / "link" / "a.png")


def test_tile_names_are_reserved_together_under_a_free_stem(tmp_path) -> None:
    (tmp_path / "skin_x2.1002.png").write_bytes(b"someone else's")
    assert reserve_tile_names(tmp_path, "skin_x2", [1001, 1002]) == "skin_x2_2.<UDIM>.png"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "skin_x2.1002.png", "skin_x2_2.1001.png", "skin_x2_2.1002.png"]
    assert (tmp_path / "skin_x2.1002.png").read_bytes() == b"someone else's"


@pytest.mark.parametrize(("name", "stem"), [
    ("skin.<UDIM>.png", "skin"), ("skin.1001.png", "skin"), ("skin_1002", "skin"),
    ("skin", "skin"), ("face.<UVTILE>.exr", "face"),
])
def test_tile_set_stem(name: str, stem: str) -> None:
    assert tile_set_stem(name) == stem
