"""One run at a time, across threads, processes and hosts: a lease row in the database.

Two runs at once would race on Assets (two creates for one new hire), and the bot,
its scheduler and the CLI may each run in their own process, so an in-process lock
is not enough. The lease is one row per name:

* :meth:`RunLease.acquire` is one conditional ``UPDATE ... WHERE expires_at < now``
  (plus an ``INSERT`` the very first time; losing that insert race is an
  ``IntegrityError``, read as "held"). Every database lets exactly one caller
  through, with no lock held between statements.
* While a run lives, a daemon thread renews the lease every ``ttl / 3``. A holder
  that crashes stops renewing, so its lease expires and the next caller takes over:
  nobody has to clean up after a dead process.
* A renewal that finds the lease gone (expired and taken by someone else) sets
  :attr:`HeldLease.lost`, and the applier stops writing: two writers must never
  overlap, even if one of them was paused for longer than the ttl.
* :meth:`HeldLease.release` only clears a lease its own owner token still holds.
* A holder on this host whose process is gone (``kill -9``, a crash) cannot renew
  and cannot have written since it died, so its lease is taken over at once rather
  than after the ttl; the owner token names the host and process id for this.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, col

from core.errors import SyncError
from core.store.database import Store
from core.store.tables import LeaseRow, RunKind

SYNC_LEASE = "sync"
DEFAULT_TTL = timedelta(seconds=120)
RELEASED_AT = datetime(1970, 1, 1, tzinfo=UTC)
"""``expires_at`` of a released lease: always in the past, so always acquirable."""
_ACQUIRE_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class LeaseInfo:
    """The lease as stored: who holds it, for what, since when and until when."""

    name: str
    owner: str
    holder: str
    kind: RunKind
    acquired_at: datetime
    expires_at: datetime
    run_id: int | None

    @property
    def host(self) -> str:
        """The host the holder runs on."""
        return owner_host_pid(self.owner)[0]


class LeaseBusy(SyncError):
    """Someone else holds the lease; ``info`` says who and since when."""

    def __init__(self, info: LeaseInfo) -> None:
        self.info = info
        super().__init__(f"the {info.name} lease is held by {info.holder} since {info.acquired_at}")


class RunLease:
    """Acquires the named lease on ``store``'s database; one object serves many runs."""

    def __init__(
        self, store: Store, *, name: str = SYNC_LEASE, ttl: timedelta = DEFAULT_TTL
    ) -> None:
        if ttl <= timedelta():
            raise ValueError("the lease ttl must be positive")
        self.store = store
        self.name = name
        self.ttl = ttl

    def acquire(self, holder: str, kind: RunKind) -> HeldLease:
        """Take the lease for ``holder`` or raise :class:`LeaseBusy` naming the holder.

        The lease is not renewed until :meth:`HeldLease.start_renewing` (or ``with``).
        """
        owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4()}"
        for _ in range(_ACQUIRE_ATTEMPTS):
            if self._take(owner, holder, kind) or self._insert(owner, holder, kind):
                return HeldLease(self, owner)
            info = self.current()
            if info is not None and holder_is_dead(info):
                if self._take_from(info.owner, owner, holder, kind):
                    return HeldLease(self, owner)
                continue  # someone else took it first: read again
            if info is not None:
                raise LeaseBusy(info)
            # Released between our update and our read: try again.
        raise SyncError(f"could not acquire the {self.name} lease")  # pragma: no cover

    def current(self) -> LeaseInfo | None:
        """The live lease, or None when it is free (never taken, released or expired)."""
        with Session(self.store.engine) as session:
            row = session.get(LeaseRow, self.name)
            if row is None or row.owner is None or row.expires_at <= self.store.now():
                return None
            return _info(row)

    def _take(self, owner: str, holder: str, kind: RunKind) -> bool:
        now = self.store.now()
        statement = (
            update(LeaseRow)
            .where(col(LeaseRow.name) == self.name, col(LeaseRow.expires_at) <= now)
            .values(**self._values(owner, holder, kind, now))
        )
        return self._execute(statement)

    def _take_from(self, dead: str, owner: str, holder: str, kind: RunKind) -> bool:
        """Take a live-looking lease whose holder's process is gone; one taker wins."""
        now = self.store.now()
        statement = (
            update(LeaseRow)
            .where(col(LeaseRow.name) == self.name, col(LeaseRow.owner) == dead)
            .values(**self._values(owner, holder, kind, now))
        )
        return self._execute(statement)

    def _insert(self, owner: str, holder: str, kind: RunKind) -> bool:
        """First ever acquisition: a concurrent insert of the same name loses cleanly."""
        now = self.store.now()
        with Session(self.store.engine) as session:
            if session.get(LeaseRow, self.name) is not None:
                return False
            session.add(LeaseRow(name=self.name, **self._values(owner, holder, kind, now)))
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                return False
        return True

    def _values(self, owner: str, holder: str, kind: RunKind, now: datetime) -> dict[str, Any]:
        return {
            "owner": owner,
            "holder": holder,
            "kind": RunKind(kind).value,
            "run_id": None,
            "acquired_at": now,
            "expires_at": now + self.ttl,
        }

    def _owned_update(self, token: str, /, **values: Any) -> bool:
        """Change the row only while the owner ``token`` still holds it; True when it did."""
        statement = (
            update(LeaseRow)
            .where(col(LeaseRow.name) == self.name, col(LeaseRow.owner) == token)
            .values(**values)
        )
        return self._execute(statement)

    def _execute(self, statement: Any) -> bool:
        with Session(self.store.engine) as session:
            result = session.exec(statement)
            session.commit()
            return bool(result.rowcount == 1)


class HeldLease:
    """One acquisition. ``lost`` is set once another owner has taken the lease."""

    def __init__(self, lease: RunLease, owner: str) -> None:
        self.lease = lease
        self.owner = owner
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._valid_until = lease.store.now() + lease.ttl

    def __enter__(self) -> HeldLease:
        self.start_renewing()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def attach_run(self, run_id: int) -> None:
        """Record the run this lease protects (others show it as the current run).

        Renews too, so the lease outlives the run row by a full ttl: a successor can
        tell a dead holder's run (older than the ttl) from a live one.
        """
        now = self.lease.store.now()
        expires = now + self.lease.ttl
        if self.lease._owned_update(self.owner, run_id=run_id, expires_at=expires):
            self._valid_until = expires
        else:
            self.lost.set()

    def renew(self) -> bool:
        """Push the expiry one ttl ahead; False (and ``lost`` set) if someone else owns it.

        A database error is not a loss by itself: the lease is still ours until it
        expires, so only a failure past that moment counts as lost.
        """
        now = self.lease.store.now()
        try:
            renewed = self.lease._owned_update(self.owner, expires_at=now + self.lease.ttl)
        except SQLAlchemyError:
            renewed = None
        if renewed:
            self._valid_until = now + self.lease.ttl
            return True
        if renewed is False or now >= self._valid_until:
            self.lost.set()
            return False
        return True

    def expired(self) -> bool:
        """Lost, or past the expiry we last stored: a successor may be writing already.

        Checked before every write, so a process paused longer than the ttl stops
        before its renewal thread has even noticed.
        """
        return self.lost.is_set() or self.lease.store.now() >= self._valid_until

    def start_renewing(self) -> None:
        """Renew every ttl/3 on a daemon thread until :meth:`release`."""
        if self._thread is not None:
            return
        interval = self.lease.ttl.total_seconds() / 3
        self._thread = threading.Thread(
            target=self._renew_loop, args=(interval,), name="lease-renewal", daemon=True
        )
        self._thread.start()

    def _renew_loop(self, interval: float) -> None:
        while not self._stop.wait(interval):
            if not self.renew():
                return

    def release(self) -> None:
        """Stop renewing and free the lease, unless another owner has it by now."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        self.lease._owned_update(
            self.owner, owner=None, holder=None, run_id=None, expires_at=RELEASED_AT
        )


def holder_is_dead(info: LeaseInfo) -> bool:
    """True only when the holder ran on this host and its process no longer exists.

    A holder on another host, an unreadable owner token, or a process we may not
    signal all count as alive: the lease then expires after its ttl as before.
    """
    host, pid = owner_host_pid(info.owner)
    if host != socket.gethostname() or pid is None or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, but belongs to someone else: alive
        return False
    return False


def owner_host_pid(owner: str) -> tuple[str, int | None]:
    """The host and process id an owner token names (``host:pid:uuid``)."""
    host, _, rest = owner.partition(":")
    pid, _, _ = rest.partition(":")
    return host, int(pid) if pid.isdigit() else None


def _info(row: LeaseRow) -> LeaseInfo:
    return LeaseInfo(
        name=row.name,
        owner=row.owner or "",
        holder=row.holder or "",
        kind=RunKind(row.kind or RunKind.MANUAL.value),
        acquired_at=row.acquired_at or row.expires_at,
        expires_at=row.expires_at,
        run_id=row.run_id,
    )
