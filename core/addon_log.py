"""The add-on's one logger, written to the console (stderr) and to a rotating file in the add-on's
user folder, with API keys and secrets masked.

Every module logs through ``logging.getLogger(__name__)``, a child of this package's logger, so
the two handlers attached here see them all. The root logger belongs to Blender and to other
add-ons: nothing is attached to it, and nothing of ours reaches it.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
import threading
from pathlib import Path
from typing import TextIO

from ..api.config import Credentials
from ..api.redact import redact_keys
from ..api.service_text import visible
from . import ADDON_PACKAGE

PACKAGE = ADDON_PACKAGE
FILE_NAME = "scenario_upscale.log"
FILE_BYTES = 1_000_000  # per file: with its backups the log never takes more than ~4 MB
BACKUPS = 3
# The file keeps what helps a maintainer (retries, failed jobs with their ids); the console only
# what is wrong, so Blender's console is not filled by a normal day's retries.
FILE_LEVEL = logging.INFO
CONSOLE_LEVEL = logging.WARNING
LINE_FORMAT = "%(asctime)s %(levelname)s %(module_name)s [%(threadName)s] %(message)s"
# Starts the lines a record adds after its first (a traceback's): never mistaken for a record.
CONTINUATION = "    | "
# Found again by name, so a re-enabled (re-imported) add-on replaces its handlers, never adds.
HANDLER_NAMES = (f"{PACKAGE}.console", f"{PACKAGE}.file")


class _Masks:
    """What no line may show. Grows as credentials are used; read by whichever thread logs."""

    secrets: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    lock = threading.Lock()
    file: Path | None = None


def logger() -> logging.Logger:
    return logging.getLogger(PACKAGE)


def hide(credentials: Credentials) -> None:
    """From now on, lines show none of the secret and only the start of the key."""
    # A half-filled pair has no token: the token of "key:" alone would mask common text.
    whole = credentials.api_key and credentials.api_secret
    secrets = credentials.secrets if whole else (credentials.api_secret,)
    with _Masks.lock:
        _Masks.secrets = tuple({*_Masks.secrets, *secrets} - {""})
        _Masks.keys = tuple({*_Masks.keys, credentials.api_key} - {""})


def mask(text: str) -> str:
    """``text`` with every hidden secret and key masked, as the log writes it."""
    return redact_keys(text, _Masks.secrets, _Masks.keys)


def file_path() -> Path | None:
    """Where the log is written, while it is installed."""
    return _Masks.file


class _MaskingFormatter(logging.Formatter):
    """Masks keys and secrets, and keeps one record from passing for another: a value's line
    breaks and control characters are written as escapes (``\\n``, ``\\x1b``), and the
    lines a traceback adds are indented, so only a record's first line starts a line."""

    def format(self, record: logging.LogRecord) -> str:
        # The package prefix (bl_ext.user_default.…) would be on every line: keep the module.
        record.module_name = record.name.removeprefix(f"{PACKAGE}.")
        first, *more = mask(super().format(record)).split("\n")
        return "\n".join([visible(first), *(CONTINUATION + visible(line) for line in more)])

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = visible(record.message)
        return super().formatMessage(record)


class _Console(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to sys.stderr as it is when a line comes: Blender or a test may replace it."""

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def install(folder: Path) -> Path:
    """Attaches the console and file handlers to the add-on's logger, replacing any it had;
    returns the log file's path. The file is made when the first line is written."""
    uninstall()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / FILE_NAME
    formatter = _MaskingFormatter(LINE_FORMAT)
    console = _Console()
    console.setLevel(CONSOLE_LEVEL)
    to_file = logging.handlers.RotatingFileHandler(
        path, maxBytes=FILE_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=True)
    to_file.setLevel(FILE_LEVEL)
    log = logger()
    for handler, name in zip((console, to_file), HANDLER_NAMES, strict=True):
        handler.name = name
        handler.setFormatter(formatter)
        log.addHandler(handler)
    log.setLevel(min(FILE_LEVEL, CONSOLE_LEVEL))
    # Handlers above (the root's, should Blender or another add-on attach one) would write the
    # lines unmasked: only these two see them.
    log.propagate = False
    _Masks.file = path
    return path


def uninstall() -> None:
    """Detaches and closes this add-on's handlers (those of an earlier import too)."""
    log = logger()
    for handler in list(log.handlers):
        if handler.name in HANDLER_NAMES:
            log.removeHandler(handler)
            handler.close()
    log.setLevel(logging.NOTSET)
    log.propagate = True
    _Masks.file = None
