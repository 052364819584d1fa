"""Scenario's team limit: the jobs a team may run at once, shared by every job on this computer.

A slot is a lock file, ``<folder>/<account>/slot-NN.lock``, held by the job that uses it from its
paid generate until Scenario ends the job. The operating system drops a process's locks when it
dies, so a crash never leaks a slot, and every Blender that uses the same user folder (two files
open, a farm node running the command line per .blend) counts the same slots. A job that has to
wait queues behind the jobs that waited longer, in this process and, through ticket files in
``<account>/queue/`` (locked by their owner while it lives), in the others: a freed slot goes to
the job that has waited longest, so no process takes every slot as it frees.

The limit itself is learned: a generate refused with 429 names it (``details.actionLimit``). It is
kept for this session and written beside the slots for the other processes. Before it is known,
jobs go ahead and the first refusal teaches it. Other computers of the team cannot see these
files: against them each process waits politely, trying again with backoff after each 429.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..api import errors
from .states import Stage

if TYPE_CHECKING:
    from .scheduler import JobContext

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]
    import msvcrt

log = logging.getLogger(__name__)

# More slots than any plan has: the bound while the team's limit is not known yet.
UNKNOWN_LIMIT_SLOTS = 64
# Another process cannot wake this one: how often a waiting job looks at the shared files.
SHARED_POLL_SECONDS = 0.05
# A learned limit is trusted this long without another refusal (a plan can grow).
LIMIT_TTL_SECONDS = 12 * 3600.0
# Backoff after a refusal while this computer holds fewer slots than the limit (the team's other
# clients hold them): doubling from the first, at most the cap, less up to a quarter of jitter.
REFUSED_FIRST_WAIT = 2.0
REFUSED_MAX_WAIT = 30.0

_ticket_numbers = itertools.count()


class SlotWaitExpired(errors.ScenarioError):
    """No slot came free within the job's time limit; nothing was sent or spent."""


def waiting_text(limit: int | None, retry_in: float | None = None) -> str:
    """The line the panel, the batch list and the command line show while a job waits: every
    one of the team's slots is in use (else it would not wait)."""
    counted = f" ({limit} of {limit} in use)" if limit else ""
    again = f"; trying again in {retry_in:.0f} s" if retry_in else ""
    return f"Waiting for a free slot at Scenario{counted}{again}"


class _FileLock:
    """An exclusive, non-blocking lock on a whole file, dropped by the OS when its owner dies."""

    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

    @classmethod
    def try_take(cls, path: Path) -> _FileLock | None:
        """The lock, or None when another owner holds it. OSError when the file is unusable."""
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            else:
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            os.close(fd)
            return None
        return cls(fd)

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_UN)
            else:
                os.lseek(fd, 0, os.SEEK_SET)
                msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        except OSError:
            pass  # closing drops it anyway
        finally:
            os.close(fd)


@dataclass
class Slot:
    """One of the team's slots, held by one job from its paid generate until its end."""

    account: str
    index: int
    lock: _FileLock | None = field(default=None, repr=False)  # None: not shared through files


@dataclass(eq=False)
class _Waiter:
    """A job waiting for a slot: its place in line (creation time) and, once it has waited, a
    ticket file that tells the other processes it is there."""

    account: str
    born_ns: int = field(default_factory=time.time_ns)
    ticket: Path | None = None
    ticket_lock: _FileLock | None = None


class TeamSlots:
    """The team's slots as this process sees them. ``folder`` shares them with the other
    processes of this user folder (None: this process only, as in tests of the core)."""

    def __init__(self, folder: Path | None = None, *, rand: Callable[[], float] = random.random
                 ) -> None:
        self.folder = folder
        self._rand = rand
        self._changed = threading.Condition()
        self._changes = 0  # counts releases, departures and lessons: what a waiter waits for
        self._releases = 0  # counts releases only: what a job refused by Scenario waits for
        self._learned: dict[str, tuple[int, float]] = {}  # account -> (limit, when)
        self._held: dict[str, set[int]] = {}  # this process's slots
        self._line: dict[str, list[_Waiter]] = {}  # this process's waiters, longest first
        self._sharing = folder is not None
        # Names this instance's tickets (one per process in the add-on; tests make several).
        self._token = f"{os.getpid()}.{uuid.uuid4().hex[:8]}"

    # --- the limit ------------------------------------------------------------------------
    def limit(self, account: str) -> int | None:
        """The team's limit as last learned here or by another process, while still fresh."""
        best = self._learned.get(account)
        shared = self._shared_limit(account)
        if shared is not None and (best is None or shared[1] > best[1]):
            best = shared
        if best is None or time.time() - best[1] > LIMIT_TTL_SECONDS:
            return None
        return best[0]

    def learn(self, account: str, limit: int | None) -> None:
        """Keeps the limit a refusal named, for the session and the other processes."""
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 10_000:
            return  # absent, or nonsense from the network: not a limit to live by
        learned = (limit, time.time())
        self._learned[account] = learned
        folder = self._shared_folder(account)
        if folder is not None:
            try:
                temp = folder / f".limit-{os.getpid()}-{threading.get_ident()}.tmp"
                temp.write_text(json.dumps({"limit": learned[0], "at": learned[1]}))
                os.replace(temp, folder / "limit.json")
            except OSError as exc:
                self._stop_sharing(exc)
        self._notify()

    # --- taking and giving back -------------------------------------------------------------
    def acquire(self, account: str, ctx: JobContext, deadline: float) -> Slot:
        """A free slot, waiting in turn when all are taken. The wait is reported through
        ``ctx.progress``; JobCancelled when the job is cancelled, SlotWaitExpired at
        ``deadline`` (time.monotonic())."""
        waiter = _Waiter(account)
        with self._changed:
            self._line.setdefault(account, []).append(waiter)
        reported = ""
        try:
            while True:
                limit = self.limit(account)
                if self._first_in_line(waiter):
                    slot = self._take(account, limit)
                    if slot is not None:
                        return slot
                self._queue_file(waiter)  # an uncontended job leaves no file behind
                text = waiting_text(limit)
                if text != reported:
                    ctx.progress(Stage.WAITING_SLOT, message=text)
                    reported = text
                self._wait(ctx, deadline, limit)
        finally:
            self._leave(waiter)

    def release(self, slot: Slot | None) -> None:
        """Gives the slot back; the job waiting longest on this computer takes it."""
        if slot is None:
            return
        with self._changed:
            held = self._held.get(slot.account, set())
            if slot.index not in held:
                return
            held.discard(slot.index)
            if slot.lock is not None:
                slot.lock.release()
                slot.lock = None
            self._changes += 1
            self._releases += 1
            self._changed.notify_all()

    def refused(self, slot: Slot, action_limit: int | None, retry_after: float | None,
                refusals: int, ctx: JobContext, deadline: float) -> Slot | None:
        """A generate sent in ``slot`` was refused with 429, so nothing was created. Learns the
        limit it names; a slot beyond it is given back (None: acquire a real one). Otherwise the
        team's other clients hold the slots: waits (Scenario's Retry-After, else backoff; at
        once when a job of this computer ends) and keeps the slot for the next try."""
        self.learn(slot.account, action_limit)
        limit = self.limit(slot.account)
        if limit is not None and (slot.index >= limit or self.held(slot.account) - 1 >= limit):
            # A slot the team does not have, or this process's own jobs fill the team's slots
            # (some were sent before the limit was known): wait in line for a real one.
            self.release(slot)
            return None
        if retry_after is not None and 0 <= retry_after <= REFUSED_MAX_WAIT:
            wait = retry_after
        else:
            wait = min(REFUSED_MAX_WAIT, REFUSED_FIRST_WAIT * 2 ** min(refusals - 1, 8))
            wait *= 1.0 - 0.25 * self._rand()
        ctx.progress(Stage.WAITING_SLOT, message=waiting_text(limit, wait))
        try:
            self._wait(ctx, deadline, limit, wait, releases_only=True)
        except BaseException:
            self.release(slot)
            raise
        return slot

    def awaited(self, account: str) -> bool:
        """Whether a job on this computer waits for a slot of ``account``."""
        with self._changed:
            if self._line.get(account):
                return True
        folder = self._shared_folder(account)
        try:
            return folder is not None and any(
                name.endswith(".ticket") for name in os.listdir(folder / "queue"))
        except OSError:
            return False

    def held(self, account: str) -> int:
        """How many slots this process holds."""
        with self._changed:
            return len(self._held.get(account, ()))

    # --- waiting ----------------------------------------------------------------------------
    def _wait(self, ctx: JobContext, deadline: float, limit: int | None,
              longest: float | None = None, releases_only: bool = False) -> None:
        """Until a slot is given back here (or, unless ``releases_only``, anything else changes
        here: a departure, a lesson), the shared files may have changed (a poll), ``longest``
        passed, or the job is cancelled."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _expired(limit)
        timeout = min(remaining, longest if longest is not None else remaining)
        if self._sharing and longest is None:
            timeout = min(timeout, SHARED_POLL_SECONDS)
        with self._changed:
            seen = self._releases if releases_only else self._changes
            ctx.wait_for(self._changed, lambda: seen != (
                self._releases if releases_only else self._changes), timeout)

    def _first_in_line(self, waiter: _Waiter) -> bool:
        """No job on this computer has waited longer for a slot of this account."""
        with self._changed:
            if self._line[waiter.account][0] is not waiter:
                return False
        return not self._older_foreign_tickets(waiter)

    def _older_foreign_tickets(self, waiter: _Waiter) -> bool:
        folder = self._shared_folder(waiter.account)
        if folder is None:
            return False
        mine = f"-{self._token}-"
        try:
            names = sorted(p.name for p in (folder / "queue").iterdir())
        except OSError as exc:
            self._stop_sharing(exc)
            return False
        for name in names:
            born = _ticket_birth(name)
            if born is None or mine in name:
                continue
            if born >= waiter.born_ns:
                return False
            if self._ticket_is_live(folder / "queue" / name):
                return True
        return False

    @staticmethod
    def _ticket_is_live(path: Path) -> bool:
        """A ticket whose lock can be taken belongs to a process that is gone: removed."""
        try:
            lock = _FileLock.try_take(path)
        except OSError:
            return False
        if lock is None:
            return True
        try:
            path.unlink()
        except OSError:
            pass
        lock.release()
        return False

    def _queue_file(self, waiter: _Waiter) -> None:
        """Tells the other processes that ``waiter`` is in line (once). Written under another
        name and renamed: a ticket is never visible unlocked, so never mistaken for a dead one."""
        folder = self._shared_folder(waiter.account)
        if folder is None or waiter.ticket is not None:
            return
        name = f"{waiter.born_ns:020d}-{self._token}-{next(_ticket_numbers)}.ticket"
        temp = folder / "queue" / f".{name}.new"
        try:
            lock = _FileLock.try_take(temp)
            if lock is None:
                return
            os.replace(temp, folder / "queue" / name)
        except OSError as exc:
            self._stop_sharing(exc)
            return
        waiter.ticket, waiter.ticket_lock = folder / "queue" / name, lock

    def _leave(self, waiter: _Waiter) -> None:
        with self._changed:
            self._line[waiter.account].remove(waiter)
            self._changes += 1
            self._changed.notify_all()
        if waiter.ticket is not None:
            try:
                waiter.ticket.unlink()
            except OSError:
                pass
        if waiter.ticket_lock is not None:
            waiter.ticket_lock.release()

    # --- slots ------------------------------------------------------------------------------
    def _take(self, account: str, limit: int | None) -> Slot | None:
        folder = self._shared_folder(account)
        with self._changed:
            held = self._held.setdefault(account, set())
            if limit is not None and len(held) >= limit:
                return None  # e.g. slots taken before the limit was learned
            for index in range(limit or UNKNOWN_LIMIT_SLOTS):
                if index in held:
                    continue
                lock = None
                if folder is not None:
                    try:
                        lock = _FileLock.try_take(folder / f"slot-{index:02d}.lock")
                    except OSError as exc:
                        self._stop_sharing(exc)
                        folder = None
                    else:
                        if lock is None:
                            continue  # another process holds it
                held.add(index)
                return Slot(account, index, lock)
        return None

    # --- the shared folder ------------------------------------------------------------------
    def _shared_folder(self, account: str) -> Path | None:
        if not self._sharing or self.folder is None:
            return None
        folder = self.folder / account
        try:
            (folder / "queue").mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self._stop_sharing(exc)
            return None
        return folder

    def _shared_limit(self, account: str) -> tuple[int, float] | None:
        folder = self._shared_folder(account)
        if folder is None:
            return None
        try:
            data = json.loads((folder / "limit.json").read_text())
            limit, at = data["limit"], float(data["at"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return (limit, at) if isinstance(limit, int) and limit >= 1 else None

    def _stop_sharing(self, exc: OSError) -> None:
        if self._sharing:
            log.warning("Scenario's team slots are not shared with other Blender processes "
                        "(%s): this one counts its own, and waits whenever Scenario refuses.", exc)
        self._sharing = False

    def _notify(self) -> None:
        with self._changed:
            self._changes += 1
            self._changed.notify_all()


def _ticket_birth(name: str) -> int | None:
    if not name.endswith(".ticket"):
        return None
    try:
        return int(name.split("-", 1)[0])
    except ValueError:
        return None


def _expired(limit: int | None) -> SlotWaitExpired:
    team = f"your team's {limit} parallel jobs" if limit else "your team's parallel jobs"
    return SlotWaitExpired(
        f"Gave up waiting for a free slot at Scenario: {team} stayed in use for as long as a "
        "job may wait. Nothing was sent or spent. Try again later, or raise Give Up Waiting "
        "After in the add-on's preferences.", not_sent=True)
