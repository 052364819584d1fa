"""The job journal: one small JSON file per job, written before every step that costs or changes
something, so that a crash, a closed file or a quit never loses a paid result.

States, in order: prepared → submitting → submitted → succeeded → downloaded → applied.
Side exits: uncertain (a generate whose answer was lost: never re-sent), failed (with
``declined`` when the artist said no to the price), abandoned (the
user stopped waiting; the job id is kept so the result can still be collected), cancelled (the
user stopped it and Scenario accepted the cancel), timed_out.

Reading never fails because of one file: the folder may hold anything (a link, a folder or a
pipe named like an entry, a huge or binary file, JSON of another shape, an entry whose fields
have the wrong types or that names another job). Such a file is moved aside as
``<name>.damaged-<time>``, with a log line, and the other entries load. An entry written by a
newer version of the add-on is listed and otherwise left exactly as it is.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import tempfile
import threading
import time
import typing
import uuid
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, NamedTuple

from ..api.service_text import clean_text
from .journal_schema import EntryDamaged, check_fields, is_local_id
from .naming import UDIM_TOKEN
from .states import JobState

log = logging.getLogger(__name__)

# A job in one of these states holds, or may still produce, a result the user paid for.
RECOVERABLE_STATES = frozenset({JobState.SUBMITTED, JobState.SUCCEEDED, JobState.DOWNLOADED,
                                JobState.ABANDONED, JobState.TIMED_OUT})

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
    # The image that went up (the padded source in Seam-Safe mode): the result must be this
    # times the factor. Empty until the upload, and in journals older than the check.
    sent_size: list[int] = field(default_factory=list)
    # Blender's id of the source image, valid only in the Blender session that started the job
    # (``session``): it finds the image again after a rename.
    source_session_uid: int = 0
    session: str = ""
    base_url: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    output_dir: str = ""
    output_stem: str = ""  # the result's name before "_x<factor>" (a UDIM set's: without its tile)
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
    # The artist answered no to its price (its state is failed, nothing was paid). Older
    # journals have no such field: they load with the default.
    declined: bool = False
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
        """The record ``data`` describes (checked first by ``check_fields`` when it comes from
        a file)."""
        known = {f.name for f in fields(cls)}
        record = cls(**{k: v for k, v in data.items() if k in known})
        record.state = JobState(record.state)  # the file holds its value
        return record

    @property
    def factor(self) -> int:
        """The upscale factor the job asked for (2, the model's default, when it does not say)."""
        return int(self.params.get("upscaleFactor") or 2)

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


# The schema (journal_schema.py): each field's declared type, and those without a default.
_FIELD_TYPES = typing.get_type_hints(JobRecord)
_REQUIRED_FIELDS = tuple(f.name for f in fields(JobRecord)
                         if f.default is MISSING and f.default_factory is MISSING)
# A record is a few kilobytes (a UDIM set's, tens): anything near this is not one.
MAX_ENTRY_BYTES = 4 * 1024 * 1024


class JournalError(Exception):
    pass


class NewerEntryError(JournalError):
    """The entry was written by a newer version of the add-on: this one leaves it alone."""


@dataclass(frozen=True)
class NewerEntry:
    """An entry of a newer journal version: listed, never rewritten, moved or removed."""

    path: Path
    version: int
    title: str  # its source image when it names one, else its file name

    @property
    def local_id(self) -> str:
        return self.path.stem


class JournalContents(NamedTuple):
    records: list[JobRecord]  # newest first
    damaged: list[Path]  # files moved aside by this reading
    newer: list[NewerEntry]


class Journal:
    """Thread-safe store of JobRecords in ``folder``; every write is atomic (temp file + rename)."""

    SUFFIX = ".json"

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self._lock = threading.Lock()

    def _path(self, local_id: str) -> Path:
        if not is_local_id(local_id):
            raise JournalError(f"invalid job id {local_id!r}")
        return self.folder / f"{local_id}{self.SUFFIX}"

    def save(self, record: JobRecord, durable: bool = True) -> None:
        record.updated_at = time.time()
        payload = json.dumps(record.to_json(), indent=1, sort_keys=True).encode("utf-8")
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            _atomic_write(self._path(record.local_id), payload, durable)

    def save_new(self, record: JobRecord) -> None:
        """Saves a job (or a set) that has not started yet, so that it is on disk before
        anything is uploaded or spent; one already under way is left as it is."""
        if record.state == JobState.PREPARED and not record.history:
            self.save(record)

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
        """The record, None when there is none; JournalError when its file is damaged, and
        NewerEntryError when a newer version of the add-on wrote it."""
        path = self._path(local_id)
        try:
            entry = _read_entry(path)
        except FileNotFoundError:
            return None
        except (EntryDamaged, OSError) as exc:
            raise JournalError(f"journal entry {path.name} is damaged: {_why(exc)}") from exc
        if isinstance(entry, NewerEntry):
            raise NewerEntryError(f"journal entry {path.name} {_LEFT_ALONE % entry.version}")
        return entry

    def load_all(self) -> JournalContents:
        """All readable records, newest first; the files found damaged, moved aside (never
        deleted); the entries of a newer version, untouched."""
        found = JournalContents([], [], [])
        with self._lock:
            for path in self._entry_paths():
                try:
                    entry = _read_entry(path)
                except FileNotFoundError:
                    continue  # gone since the folder was listed
                except (EntryDamaged, OSError) as exc:
                    aside = _move_aside(path, _why(exc))
                    if aside is not None:
                        found.damaged.append(aside)
                    continue
                if isinstance(entry, NewerEntry):
                    log.info("Journal entry %s %s", path.name, _LEFT_ALONE % entry.version)
                    found.newer.append(entry)
                else:
                    found.records.append(entry)
        found.records.sort(key=lambda r: r.created_at, reverse=True)
        return found

    def _entry_paths(self) -> list[Path]:
        try:
            names = sorted(entry.name for entry in os.scandir(self.folder)
                           if entry.name.endswith(self.SUFFIX))
        except FileNotFoundError:
            return []  # no job yet
        except OSError as exc:
            log.warning("The journal folder %s cannot be read (%s): no job is listed",
                        self.folder, exc)
            return []
        return [self.folder / name for name in names]

    def recoverable(self, blend_file: str | None = None) -> list[JobRecord]:
        return [
            r for r in self.load_all().records
            if r.recoverable and (blend_file is None or r.blend_file == blend_file)
        ]

    def forget(self, local_id: str) -> bool:
        """Removes the record, and a UDIM set's tile records with it. False, removing nothing,
        when its file cannot be read as this version's entry (damaged, or a newer version's)."""
        try:
            record = self.load(local_id)
        except JournalError as exc:
            log.warning("Job %s is not forgotten: %s", local_id, exc)
            return False
        parts = (record.tiles + record.preview.get("variants", [])) if record is not None else []
        tiles = [str(entry["local_id"]) for entry in parts]
        for tile in tiles:
            if tile != local_id:
                self._forget_one(tile)
        self._forget_one(local_id)
        return True

    def _forget_one(self, local_id: str) -> None:
        try:
            self.load(local_id)  # refuses a newer version's file
        except JournalError as exc:
            log.warning("Job %s is not forgotten: %s", local_id, exc)
            return
        with self._lock:
            try:
                self._path(local_id).unlink()
            except FileNotFoundError:
                pass


_LEFT_ALONE = ("was written by a newer version of the add-on (journal version %d): this "
               "version leaves it as it is")


def _read_entry(path: Path) -> JobRecord | NewerEntry:
    """The entry in ``path``. Raises EntryDamaged (or OSError) for anything else; never follows
    a link, never opens what is not a regular file (a pipe would block), never reads a huge
    file."""
    data = _parse(_read_bytes(path))
    version = data.get("version", JOURNAL_VERSION)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise EntryDamaged("its version is not a whole number from 1")
    if version > JOURNAL_VERSION:
        title = clean_text(data.get("source_image"), 80) or clean_text(path.name, 80) or "?"
        return NewerEntry(path, version, title)
    check_fields(data, _FIELD_TYPES, _REQUIRED_FIELDS)
    record = JobRecord.from_json(data)
    if record.local_id != path.stem:
        raise EntryDamaged(f"it is the file of job {path.stem} but names job {record.local_id}")
    return record


def _read_bytes(path: Path) -> bytes:
    mode = os.lstat(path).st_mode
    if stat.S_ISLNK(mode):
        raise EntryDamaged("it is a link, not a file")
    if not stat.S_ISREG(mode):
        raise EntryDamaged("it is not a file (a folder, a pipe or a device)")
    flags = (os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
             | getattr(os, "O_BINARY", 0))
    with os.fdopen(os.open(path, flags), "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise EntryDamaged("it is not a file")  # replaced since it was looked at
        data = handle.read(MAX_ENTRY_BYTES + 1)
    if len(data) > MAX_ENTRY_BYTES:
        raise EntryDamaged(f"it is larger than {MAX_ENTRY_BYTES} bytes")
    return data


def _parse(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw.decode("utf-8-sig"))  # a BOM an editor added is no damage
    except UnicodeDecodeError as exc:
        raise EntryDamaged("it is not UTF-8 text") from exc
    except (ValueError, RecursionError) as exc:
        raise EntryDamaged("it is not JSON") from exc
    if not isinstance(data, dict):
        raise EntryDamaged(f"it holds a JSON {type(data).__name__}, not an object")
    return data


def _why(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return f"it cannot be read: {exc.strerror or type(exc).__name__}"
    return str(exc)


def _move_aside(path: Path, why: str) -> Path | None:
    """Renames a damaged entry (the link itself, for a link) so it is never read again but never
    lost; None when even that fails (then it is only skipped)."""
    stamp = int(time.time())
    names = (f"{path.stem}.damaged-{stamp}{f'-{n}' if n else ''}" for n in range(1000))
    aside = next((path.with_name(n) for n in names if not os.path.lexists(path.with_name(n))),
                 None)
    try:
        if aside is None:
            raise FileExistsError("no free name")
        os.replace(path, aside)
    except OSError as exc:
        log.warning("Journal entry %s is damaged (%s) and could not be moved aside (%s): it is "
                    "skipped", path.name, why, exc)
        return None
    log.warning("Journal entry %s is damaged (%s): moved aside as %s", path.name, why, aside.name)
    return aside


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
