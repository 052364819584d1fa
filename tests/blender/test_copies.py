"""The folder every copy of the add-on shares: jobs an earlier version (or another repository's
copy) kept in its own per-package folder are copied in once, never moved, and a job forgotten
afterwards does not come back."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import bpy
import pytest
from conftest import data_folder

pytestmark = pytest.mark.usefixtures("clean_file")


def module(addon: str, name: str):
    return sys.modules[f"{addon}.{name}"]


def an_entry(addon: str, folder: Path) -> str:
    journal = module(addon, "core.journal")
    record = journal.JobRecord(local_id=journal.new_job_id(), source_image="old",
                               state="submitted", job_id="job_old")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{record.local_id}.json").write_text(json.dumps(record.to_json()), "utf-8")
    return record.local_id


def test_an_older_copys_jobs_are_copied_in_once(addon) -> None:
    copies = module(addon, "bridge.copies")
    shared = data_folder(addon)
    assert shared == copies.data_folder()
    package = Path(bpy.utils.extension_path_user(addon, create=True))
    elsewhere = package.parent.parent / "user_default" / package.name  # a zip install's
    old_log = elsewhere / "scenario_upscale.log"
    local_id = an_entry(addon, elsewhere / "journal")
    old_log.write_text("an older line\n", "utf-8")

    copied = copies.gather_old_data(shared)

    assert str(elsewhere / "journal" / f"{local_id}.json") in copied
    assert (shared / "journal" / f"{local_id}.json").is_file()
    assert (elsewhere / "journal" / f"{local_id}.json").is_file(), "copied, never moved"
    rt = module(addon, "bridge.runtime").get()
    rt.refresh_journal()
    assert local_id in [r.local_id for r in rt.recent]

    rt.forget(local_id)
    assert str(elsewhere / "journal" / f"{local_id}.json") not in copies.gather_old_data(shared)
    assert not (shared / "journal" / f"{local_id}.json").exists(), "a forgotten job stays gone"

    newer = an_entry(addon, elsewhere / "journal")  # that older copy, still in use, adds one
    assert str(elsewhere / "journal" / f"{newer}.json") in copies.gather_old_data(shared)
    rt.forget(newer)
