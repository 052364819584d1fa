"""The job journal: one small JSON file per job, written before every step that costs or changes
something, so that a crash, a closed file or a quit never loses a paid result.

States, in order: prepared → submitting → submitted → succeeded → downloaded → applied.
Side exits: uncertain (a generate whose answer was lost: never re-sent), failed, abandoned (the
user stopped waiting; the job id is kept so the result can still be collected), cancelled (the
user stopped it and Scenario accepted the cancel), timed_out.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from .naming import UDIM_TOKEN
from .states import JobState

# A job in one of these states holds, or may still produce, a result the user paid for.
RECOVERABLE_STATES = frozenset({JobState.SUBMITTED, JobState.SUCCEEDED, JobState.DOWNLOADED,
                                JobState.ABANDONED, JobState.TIMED_OUT})
FINAL_STATES = frozenset({JobState.APPLIED, JobState.FAILED, JobState.UNCERTAIN,
                          JobState.CANCELLED})

JOURNAL_VERSION = 1


def new_job_id() -> str:
    return uuid.uuid4().hex[:16]


@dataclass
class JobRecord:
    """Everything needed to finish a job later. Never holds credentials or pixel data."""

    local_id: str
    source_image: str
    blend_file: str = ""
    scope: str = "SELECTED_OBJECTS"
    target_materials: list[str] = field(default_factory=list)
    source_colorspace: str = ""
    source_alpha_mode: str = ""
    source_size: list[int] = field(default_factory=list)
    # Blender's id of the source image, valid only in the Blender session that started the job
    # (``session``): it finds the image again after a rename.
    source_session_uid: int = 0
    session: str = ""
    base_url: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    output_dir: str = ""
    output_stem: str = ""
    state: JobState = JobState.PREPARED
    input_asset_id: str = ""
    style_asset_ids: list[str] = field(default_factory=list)
    job_id: str = ""
    result_asset_ids: list[str] = field(default_factory=list)
    quote: float | None = None  # the dry-run price, before paying
    cost: float | None = None
    fidelity: dict[str, Any] = field(default_factory=dict)
    result_path: str = ""
    result_size: int = 0
    result_sha256: str = ""
    error: str = ""
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    history: list[list[Any]] = field(default_factory=list)
    # A UDIM set has a record of its own (``tiles``: the number, label and local id of each
    # tile) and one per tile (``tile_set``: the set's local id; ``output_name``: the file name
    # the set chose for the tile's result). Empty for an ordinary image.
    tiles: list[dict[str, Any]] = field(default_factory=list)
    tile_set: str = ""
    tile: int = 0
    output_name: str = ""
    # Previews (core/preview.py): the set's record holds the crop and its variants (``variants``,
    # each with its local id); a variant's record names its set (``set``) and its label.
    preview: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        if not data["preview"]:  # only previews have it: other records stay as they were
            del data["preview"]
        data["version"] = JOURNAL_VERSION
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JobRecord:
        known = {f.name for f in fields(cls)}
        record = cls(**{k: v for k, v in data.items() if k in known})
        record.state = JobState(record.state)  # the file holds its value
        return record

    @property
    def recoverable(self) -> bool:
        return self.state in RECOVERABLE_STATES

    @property
    def is_set(self) -> bool:
        return bool(self.tiles)

    @property
    def is_preview_set(self) -> bool:
        return bool(self.preview.get("variants"))

    @property
    def preview_set(self) -> str:
        """The local id of the preview set this record is a variant of, else ""."""
        return str(self.preview.get("set", ""))

    @property
    def result_files(self) -> list[str]:
        """The result's files: a set's path names its tiles with a token."""
        if not self.is_set:
            return [self.result_path] if self.result_path else []
        return [self.result_path.replace(UDIM_TOKEN, str(entry["tile"])) for entry in self.tiles]


class JournalError(Exception):
    pass


class Journal:
    """Thread-safe store of JobRecords in ``folder``; every write is atomic (temp file + rename)."""

    SUFFIX = ".json"

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self._lock = threading.Lock()

    def _path(self, local_id: str) -> Path:
        if not local_id or not local_id.isalnum():
            raise JournalError(f"invalid job id {local_id!r}")
        return self.folder / f"{local_id}{self.SUFFIX}"

    def save(self, record: JobRecord, durable: bool = True) -> None:
        record.updated_at = time.time()
        payload = json.dumps(record.to_json(), indent=1, sort_keys=True).encode("utf-8")
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            _atomic_write(self._path(record.local_id), payload, durable)

    def transition(self, record: JobRecord, state: JobState, durable: bool = True,
                   **changes: Any) -> None:
        """Moves ``record`` to ``state`` with ``changes`` applied, and writes it before returning."""
        for name, value in changes.items():
            if not hasattr(record, name):
                raise JournalError(f"unknown journal field {name!r}")
            setattr(record, name, value)
        record.state = state
        record.history.append([state, round(time.time(), 3)])
        self.save(record, durable)

    def load(self, local_id: str) -> JobRecord | None:
        path = self._path(local_id)
        try:
            return JobRecord.from_json(json.loads(path.read_text("utf-8")))
        except FileNotFoundError:
            return None
        except (ValueError, TypeError) as exc:
            raise JournalError(f"journal entry {path.name} is damaged: {exc}") from exc

    def load_all(self) -> tuple[list[JobRecord], list[Path]]:
        """All readable records, newest first, and the damaged files (moved aside, never deleted)."""
        records: list[JobRecord] = []
        damaged: list[Path] = []
        if not self.folder.is_dir():
            return records, damaged
        with self._lock:
            for path in sorted(self.folder.glob(f"*{self.SUFFIX}")):
                try:
                    data = json.loads(path.read_text("utf-8"))
                    if not isinstance(data, dict):
                        raise ValueError("not an object")
                    records.append(JobRecord.from_json(data))
                except (ValueError, TypeError, UnicodeDecodeError):
                    aside = path.with_suffix(f".damaged-{int(time.time())}")
                    os.replace(path, aside)
                    damaged.append(aside)
        records.sort(key=lambda r: r.created_at, reverse=True)
        return records, damaged

    def recoverable(self, blend_file: str | None = None) -> list[JobRecord]:
        records, _ = self.load_all()
        return [
            r for r in records
            if r.recoverable and (blend_file is None or r.blend_file == blend_file)
        ]

    def forget(self, local_id: str) -> None:
        """Removes the record, and a UDIM set's tile records with it."""
        try:
            record = self.load(local_id)
        except JournalError:
            record = None
        parts = (record.tiles + record.preview.get("variants", [])) if record is not None else []
        for entry in parts:
            self.forget(str(entry["local_id"]))
        with self._lock:
            try:
                self._path(local_id).unlink()
            except FileNotFoundError:
                pass


def _atomic_write(path: Path, payload: bytes, durable: bool = True) -> None:
    # The journal may hold prompts and paths: readable by the user only.
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        os.fchmod(fd, 0o600) if hasattr(os, "fchmod") else None
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            if durable:  # waits for the disk: tens of ms on a slow one
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
