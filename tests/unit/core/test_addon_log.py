"""The add-on's one logger: a console and a rotating file handler on the package's logger (never
the root's), unexpected job failures with their traceback, keys and secrets masked."""

from __future__ import annotations

import logging

import pytest
from scenario_texture_upscale.api.config import Credentials
from scenario_texture_upscale.core import addon_log
from scenario_texture_upscale.core.scheduler import Event, JobContext, Scheduler
from scenario_texture_upscale.core.states import EventKind

KEY, SECRET = "key-4e1f-canary", "secret-9a7c-canary"


@pytest.fixture
def log_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(addon_log._Masks, "secrets", ())
    monkeypatch.setattr(addon_log._Masks, "keys", ())
    addon_log.install(tmp_path)
    yield tmp_path
    addon_log.uninstall()


def ours(log: logging.Logger) -> list[logging.Handler]:
    return [h for h in log.handlers if h.name in addon_log.HANDLER_NAMES]


def flush() -> None:
    for handler in addon_log.logger().handlers:
        handler.flush()


def test_the_handlers_are_on_the_package_logger_only_and_never_twice(tmp_path) -> None:
    root_handlers = list(logging.getLogger().handlers)
    addon_log.install(tmp_path)
    addon_log.install(tmp_path)  # a re-enabled add-on
    try:
        assert len(ours(addon_log.logger())) == 2
        assert logging.getLogger().handlers == root_handlers
        assert addon_log.file_path() == tmp_path / addon_log.FILE_NAME
        assert addon_log.logger().name == "scenario_texture_upscale"
        assert not addon_log.logger().propagate, "the root's handlers would write it unmasked"
    finally:
        addon_log.uninstall()
    assert ours(addon_log.logger()) == [] and addon_log.file_path() is None
    assert addon_log.logger().level == logging.NOTSET and addon_log.logger().propagate


def test_modules_log_through_it_to_the_file_and_problems_to_the_console(log_folder,
                                                                        capsys) -> None:
    module_log = logging.getLogger("scenario_texture_upscale.core.pipeline")
    module_log.info("retrying the upload")
    module_log.warning("the helper could not start")
    module_log.debug("GET /jobs/x -> 200")
    flush()
    text = (log_folder / addon_log.FILE_NAME).read_text(encoding="utf-8")
    assert "INFO core.pipeline" in text and "retrying the upload" in text
    assert "WARNING core.pipeline" in text and "the helper could not start" in text
    assert "GET /jobs" not in text
    console = capsys.readouterr().err
    assert "the helper could not start" in console and "retrying the upload" not in console


def test_keys_and_secrets_are_masked_even_in_a_traceback(log_folder, capsys) -> None:
    credentials = Credentials(KEY, SECRET)
    addon_log.hide(credentials)
    try:
        raise RuntimeError(f"sent {KEY}:{SECRET} as Basic {credentials.basic_token}")
    except RuntimeError:
        addon_log.logger().exception("failed with %s", SECRET)
    flush()
    written = (log_folder / addon_log.FILE_NAME).read_text(encoding="utf-8")
    for text in (written, capsys.readouterr().err):
        assert "Traceback (most recent call last)" in text
        assert SECRET not in text and KEY not in text and credentials.basic_token not in text
        assert "key-…" in text and "***" in text
    assert addon_log.mask(f"{KEY} {SECRET}") == "key-… ***"


def test_a_half_filled_pair_hides_its_secret_and_no_token(monkeypatch) -> None:
    monkeypatch.setattr(addon_log._Masks, "secrets", ())
    monkeypatch.setattr(addon_log._Masks, "keys", ())
    addon_log.hide(Credentials("", SECRET))
    assert addon_log._Masks.secrets == (SECRET,)
    assert addon_log.mask("Og== stays") == "Og== stays"


def test_the_file_rotates_and_keeps_a_bounded_number_of_backups(log_folder, monkeypatch) -> None:
    addon_log.uninstall()
    monkeypatch.setattr(addon_log, "FILE_BYTES", 2_000)
    addon_log.install(log_folder)
    for index in range(200):
        addon_log.logger().info("line %d %s", index, "x" * 80)
    flush()
    files = sorted(p.name for p in log_folder.iterdir())
    name = addon_log.FILE_NAME
    assert files == sorted([name] + [f"{name}.{n}" for n in range(1, addon_log.BACKUPS + 1)])
    assert all((log_folder / f).stat().st_size <= 2_200 for f in files)
    assert "line 199" in (log_folder / name).read_text(encoding="utf-8")


def run_failing_job(error: Exception, expected: tuple[type[BaseException], ...]) -> Event:
    pool = Scheduler(1, expected=expected)

    def job(ctx: JobContext) -> None:
        raise error

    pool.submit("job4f00d", job)
    events: list[Event] = []
    while not any(e.kind == EventKind.FAILED for e in events):
        events += pool.drain(timeout=5)
    assert pool.shutdown()
    return events[-1]


def test_an_unexpected_job_failure_is_logged_with_its_traceback_and_id(log_folder) -> None:
    event = run_failing_job(KeyError("tile"), expected=(ValueError,))
    assert event.message == "'tile'"
    flush()
    text = (log_folder / addon_log.FILE_NAME).read_text(encoding="utf-8")
    assert "ERROR core.scheduler" in text and "job job4f00d failed unexpectedly" in text
    assert "Traceback (most recent call last)" in text and "KeyError: 'tile'" in text


def test_an_expected_job_failure_is_one_line_with_its_id(log_folder) -> None:
    run_failing_job(ValueError("Scenario refused the keys"), expected=(ValueError,))
    flush()
    text = (log_folder / addon_log.FILE_NAME).read_text(encoding="utf-8")
    assert "INFO core.scheduler" in text and "job job4f00d failed: Scenario refused the keys" in text
    assert "Traceback" not in text


FORGED = "\r\n2030-01-01 00:00:00,000 ERROR core.pipeline [MainThread] forged record"


def test_no_value_can_forge_a_line_or_steer_a_terminal(log_folder, capsys) -> None:
    from scenario_texture_upscale.api.service_text import UNSAFE

    from emulator.answer_faults import HOSTILE_TEXT

    log = logging.getLogger("scenario_texture_upscale.core.pipeline")
    log.warning("Scenario said: %s", HOSTILE_TEXT)
    log.warning(f"a path with a line break{FORGED}.png")
    try:
        raise RuntimeError(f"boom{FORGED}\x1b[2J")
    except RuntimeError:
        log.exception("job x failed%s", FORGED)
    flush()
    for text in ((log_folder / addon_log.FILE_NAME).read_text(encoding="utf-8"),
                 capsys.readouterr().err):
        lines = text.splitlines()
        records = [line for line in lines if not line.startswith(addon_log.CONTINUATION)]
        assert len(records) == 3, lines
        assert not any(line.startswith("2030-01-01") for line in lines)
        assert all(UNSAFE.search(line) is None for line in lines)
        assert "\\r\\n2030-01-01" in records[0] and "\\x1b[31m" in records[0]
        assert any("Traceback (most recent call last)" in line for line in lines)
        assert "RuntimeError: boom" in text
