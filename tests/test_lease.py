"""The run lease: one holder at a time across threads and processes, renewed while alive."""

from __future__ import annotations

import multiprocessing
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier, Event
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from core.runs import RunInProgress
from core.store import LeaseBusy, LeaseInfo, RunKind, RunLease, Store
from core.store.database import utc_now
from core.store.lease import holder_is_dead
from core.store.secrets import SecretCipher

TTL = timedelta(seconds=120)


class Clock:
    """Real time plus an offset the test moves forward."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return utc_now() + self.offset


def open_store(path: Path, clock: Callable[[], datetime] = utc_now) -> Store:
    return Store(f"sqlite:///{path}", SecretCipher([Fernet.generate_key()]), clock=clock)


class FrozenClock:
    """A clock that moves only when the test moves it, for exact boundaries."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class DatabaseOutage:
    """While ``down``, every UPDATE sent to the store's database fails, as in an outage."""

    def __init__(self, store: Store) -> None:
        self.down = False
        event.listen(store.engine, "before_cursor_execute", self._statement)

    def _statement(self, conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        if self.down and statement.lstrip().upper().startswith("UPDATE"):
            raise OperationalError(statement, None, Exception("database is unavailable"))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> Iterator[Store]:
    store = open_store(tmp_path / "lease.db", clock)
    yield store
    store.close()


@pytest.fixture
def frozen_clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def frozen(tmp_path: Path, frozen_clock: FrozenClock) -> Iterator[Store]:
    store = open_store(tmp_path / "frozen.db", frozen_clock)
    yield store
    store.close()


def test_a_second_acquire_is_refused_with_the_holder_and_time(store: Store) -> None:
    lease = RunLease(store, ttl=TTL)
    held = lease.acquire("UALICE", RunKind.MANUAL)
    with pytest.raises(LeaseBusy) as caught:
        lease.acquire("scheduler", RunKind.SCHEDULED)
    info = caught.value.info
    assert (info.holder, info.kind, info.owner) == ("UALICE", RunKind.MANUAL, held.owner)
    assert info.expires_at - info.acquired_at == TTL
    held.release()
    assert lease.current() is None
    lease.acquire("scheduler", RunKind.SCHEDULED).release()


def test_owner_tokens_are_unique_per_acquisition(store: Store) -> None:
    lease = RunLease(store, ttl=TTL)
    first = lease.acquire("UALICE", RunKind.MANUAL)
    first.release()
    second = lease.acquire("UALICE", RunKind.MANUAL)
    assert first.owner != second.owner
    second.release()


def test_after_expiry_the_next_caller_takes_over(store: Store, clock: Clock) -> None:
    """A crashed holder never renews; one ttl later its lease is simply taken."""
    lease = RunLease(store, ttl=TTL)
    crashed = lease.acquire("UALICE", RunKind.MANUAL)
    clock.offset += TTL
    assert lease.current() is None
    successor = lease.acquire("UBOB", RunKind.MANUAL)
    assert crashed.expired()
    assert not crashed.renew() and crashed.lost.is_set()
    crashed.release()  # no longer the owner: does nothing
    current = lease.current()
    assert current is not None and current.owner == successor.owner
    successor.release()


def test_release_by_a_non_owner_does_nothing(store: Store, clock: Clock) -> None:
    lease = RunLease(store, ttl=TTL)
    stale = lease.acquire("UALICE", RunKind.MANUAL)
    clock.offset += TTL + timedelta(seconds=1)
    fresh = lease.acquire("UBOB", RunKind.MANUAL)
    stale.release()
    with pytest.raises(LeaseBusy) as caught:
        lease.acquire("UCAROL", RunKind.MANUAL)
    assert caught.value.info.holder == "UBOB"
    fresh.release()


def test_renewal_keeps_a_long_run_alive_past_the_ttl(store: Store) -> None:
    """A 0.3 s lease renewed every 0.1 s is still held after 1 s; released, it is free."""
    lease = RunLease(store, ttl=timedelta(seconds=0.3))
    with lease.acquire("UALICE", RunKind.MANUAL) as held:
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            with pytest.raises(LeaseBusy):
                lease.acquire("UBOB", RunKind.MANUAL)
            time.sleep(0.05)
        assert not held.expired()
        assert not held.lost.is_set()
    assert lease.current() is None


def test_renewal_notices_a_lost_lease(store: Store, clock: Clock) -> None:
    """Taken over while paused: the renewal thread sets ``lost`` for the applier to see."""
    lease = RunLease(store, ttl=timedelta(seconds=0.3))
    with lease.acquire("UALICE", RunKind.MANUAL) as held:
        clock.offset += timedelta(seconds=1)
        taker = lease.acquire("UBOB", RunKind.MANUAL)
        assert held.lost.wait(2.0)
    current = lease.current()
    assert current is not None and current.owner == taker.owner  # our release left it alone
    taker.release()


def test_a_failed_renewal_before_expiry_keeps_the_lease(store: Store, clock: Clock) -> None:
    """A database hiccup is not a loss by itself: nobody else can take the lease yet."""
    outage = DatabaseOutage(store)
    lease = RunLease(store, ttl=TTL)
    held = lease.acquire("UALICE", RunKind.MANUAL)
    clock.offset += TTL / 2
    outage.down = True
    assert held.renew()
    assert not held.lost.is_set() and not held.expired()
    outage.down = False
    held.release()


def test_a_failed_renewal_after_expiry_is_a_lost_lease(
    frozen: Store, frozen_clock: FrozenClock
) -> None:
    """From the expiry on a successor may be writing already, so an unconfirmed renewal
    must stop the applier: ``renew`` answers False and ``lost`` is set."""
    outage = DatabaseOutage(frozen)
    lease = RunLease(frozen, ttl=TTL)
    held = lease.acquire("UALICE", RunKind.MANUAL)
    frozen_clock.now += TTL  # exactly the expiry
    outage.down = True
    assert held.renew() is False
    assert held.lost.is_set()
    outage.down = False
    held.release()


def test_the_lease_ends_exactly_at_its_expiry(frozen: Store, frozen_clock: FrozenClock) -> None:
    """One ttl after the last renewal the lease is free and its holder must stop."""
    lease = RunLease(frozen, ttl=TTL)
    held = lease.acquire("UALICE", RunKind.MANUAL)
    frozen_clock.now += TTL - timedelta(microseconds=1)
    assert lease.current() is not None and not held.expired()
    with pytest.raises(LeaseBusy):
        lease.acquire("UBOB", RunKind.MANUAL)
    frozen_clock.now += timedelta(microseconds=1)
    assert lease.current() is None
    assert held.expired()
    successor = lease.acquire("UBOB", RunKind.MANUAL)
    current = lease.current()
    assert current is not None and current.owner == successor.owner
    successor.release()


def test_busy_names_the_lease_holder_kind_and_time(frozen: Store) -> None:
    lease = RunLease(frozen, name="nightly", ttl=TTL)
    lease.acquire("scheduler", RunKind.SCHEDULED)
    with pytest.raises(LeaseBusy) as caught:
        lease.acquire("UALICE", RunKind.MANUAL)
    info = caught.value.info
    assert (info.name, info.holder, info.kind) == ("nightly", "scheduler", RunKind.SCHEDULED)
    assert info.acquired_at == frozen.now() and info.expires_at == frozen.now() + TTL
    assert info.run_id is None
    assert str(caught.value) == (f"the nightly lease is held by scheduler since {info.acquired_at}")


def test_leases_of_different_names_do_not_meet(store: Store) -> None:
    sync = RunLease(store, ttl=TTL).acquire("UALICE", RunKind.MANUAL)
    other = RunLease(store, name="other", ttl=TTL).acquire("UBOB", RunKind.MANUAL)
    assert RunLease(store, name="other").current() is not None
    other.release()
    assert RunLease(store, name="other").current() is None
    assert RunLease(store).current() is not None
    sync.release()


def test_a_released_lease_cannot_be_renewed(store: Store) -> None:
    lease = RunLease(store, ttl=TTL)
    held = lease.acquire("UALICE", RunKind.MANUAL)
    held.release()
    assert held.renew() is False
    assert held.lost.is_set()
    assert lease.current() is None


def test_renewal_moves_the_expiry_one_ttl_ahead(frozen: Store, frozen_clock: FrozenClock) -> None:
    lease = RunLease(frozen, ttl=TTL)
    held = lease.acquire("UALICE", RunKind.MANUAL)
    frozen_clock.now += TTL / 2
    assert held.renew() is True
    current = lease.current()
    assert current is not None and current.expires_at == frozen_clock.now + TTL
    frozen_clock.now += TTL - timedelta(seconds=1)
    assert not held.expired()
    held.release()


def test_a_ttl_must_be_positive(store: Store) -> None:
    for ttl in (timedelta(), timedelta(seconds=-1)):
        with pytest.raises(ValueError, match="ttl must be positive"):
            RunLease(store, ttl=ttl)


def test_a_lease_never_taken_is_free(store: Store) -> None:
    assert RunLease(store).current() is None


def test_attaching_the_run_renews_the_lease(frozen: Store, frozen_clock: FrozenClock) -> None:
    lease = RunLease(frozen, ttl=TTL)
    held = lease.acquire("UALICE", RunKind.MANUAL)
    frozen_clock.now += TTL / 2
    held.attach_run(7)
    current = lease.current()
    assert current is not None and current.expires_at == frozen_clock.now + TTL
    frozen_clock.now += TTL / 2  # past the first expiry, within the renewed one
    assert not held.expired()
    held.release()


def test_attach_run_names_the_run(store: Store) -> None:
    lease = RunLease(store, ttl=TTL)
    held = lease.acquire("UALICE", RunKind.PREVIEW)
    held.attach_run(42)
    current = lease.current()
    assert current is not None and current.run_id == 42
    held.release()


# -- two processes, one SQLite file ------------------------------------------------------


def _contender(
    path: str,
    name: str,
    signals: tuple[Barrier, Event, Event],
    results: Queue[tuple[str, str, str, float, float]],
) -> None:
    """Try once at the barrier; the winner holds until the loser was refused, then
    releases, and the loser takes it. Each held interval is reported in wall time."""
    start, refused, released = signals
    store = open_store(Path(path))
    lease = RunLease(store, ttl=TTL)
    start.wait()
    try:
        held = lease.acquire(name, RunKind.MANUAL)
    except LeaseBusy as busy:
        results.put((name, "refused", busy.info.holder, 0.0, 0.0))
        refused.set()
        released.wait(10)
        held = lease.acquire(name, RunKind.MANUAL)
        acquired = time.time()
        held.release()
        results.put((name, "second", name, acquired, time.time()))
        store.close()
        return
    acquired = time.time()
    refused.wait(10)
    released_at = time.time()
    held.release()
    released.set()
    results.put((name, "first", name, acquired, released_at))
    store.close()


def test_two_processes_never_hold_the_lease_at_once(tmp_path: Path) -> None:
    """Two spawned processes race for the lease on one SQLite file: exactly one wins, the
    other is refused naming the winner, then gets it after the release; no overlap."""
    path = tmp_path / "shared.db"
    open_store(path).close()  # create the tables before the race
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    refused, released = context.Event(), context.Event()
    results = context.Queue()
    processes = [
        context.Process(
            target=_contender, args=(str(path), name, (start, refused, released), results)
        )
        for name in ("A", "B")
    ]
    for process in processes:
        process.start()
    rows = [results.get(timeout=20) for _ in range(3)]
    for process in processes:
        process.join(10)
        assert process.exitcode == 0
    by_role = {role: (name, holder, start_, end) for name, role, holder, start_, end in rows}
    assert set(by_role) == {"first", "second", "refused"}
    winner, _, first_start, first_end = by_role["first"]
    loser, named, _, _ = by_role["refused"]
    assert winner != loser and named == winner
    second, _, second_start, second_end = by_role["second"]
    assert second == loser
    assert first_start <= first_end <= second_start <= second_end  # never overlapping


_HOLD_AND_WAIT = """
import sys, time
from datetime import timedelta
from cryptography.fernet import Fernet
from core.store import RunKind, RunLease, Store
from core.store.secrets import SecretCipher
store = Store(sys.argv[1], SecretCipher([Fernet.generate_key()]))
RunLease(store, ttl=timedelta(minutes=10)).acquire("cli:ops", RunKind.MANUAL)
print("held", flush=True)
time.sleep(120)
"""


def _holder_process(database: Path) -> subprocess.Popen[str]:
    """A child process on this host that takes the lease (ttl 10 min) and keeps it."""
    child = subprocess.Popen(
        [sys.executable, "-c", _HOLD_AND_WAIT, f"sqlite:///{database}"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "held"
    return child


def test_a_killed_holder_on_this_host_is_taken_over_at_once(tmp_path: Path) -> None:
    """kill -9 of a run: the next one need not wait out the ten-minute ttl."""
    store = open_store(tmp_path / "lease.db")
    child = _holder_process(tmp_path / "lease.db")
    lease = RunLease(store, ttl=timedelta(minutes=10))
    with pytest.raises(LeaseBusy):
        lease.acquire("UALICE", RunKind.MANUAL)  # alive: refused
    child.kill()
    child.wait(timeout=30)
    held = lease.acquire("UALICE", RunKind.MANUAL)
    current = lease.current()
    assert current is not None and current.owner == held.owner
    held.release()
    store.close()


def test_the_refusal_names_host_start_and_expiry(tmp_path: Path) -> None:
    """A live holder: the message says who, on which host, since when, and until when."""
    store = open_store(tmp_path / "lease.db")
    child = _holder_process(tmp_path / "lease.db")
    try:
        with pytest.raises(LeaseBusy) as caught:
            RunLease(store, ttl=TTL).acquire("UALICE", RunKind.MANUAL)
        busy = RunInProgress.leased(caught.value.info)
        assert busy.host == socket.gethostname()
        text = str(busy)
        assert text.startswith("A sync is already running, started by cli:ops at ")
        assert f" UTC on host {socket.gethostname()}." in text
        assert f"its lease expires at {caught.value.info.expires_at:%H:%M:%S} UTC" in text
    finally:
        child.kill()
        child.wait(timeout=30)
        store.close()


def test_a_holder_on_another_host_is_never_presumed_dead() -> None:
    """We cannot see another host's processes: only the ttl frees its lease."""
    now = utc_now()
    info = LeaseInfo("sync", "elsewhere.example:1:abc", "cli:ops", RunKind.MANUAL, now, now, None)
    assert not holder_is_dead(info)
    mine = LeaseInfo(
        "sync", f"{socket.gethostname()}:{os.getpid()}:x", "me", RunKind.MANUAL, now, now, None
    )
    assert not holder_is_dead(mine)


def _dead_pid() -> int:
    """The id of a process that has exited and been reaped: nobody answers to it."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=30)
    return child.pid


def test_a_dead_process_on_another_host_is_not_presumed_dead_here() -> None:
    """Its number means nothing on this host, even when no process here has it."""
    now = utc_now()
    info = LeaseInfo(
        "sync", f"elsewhere.example:{_dead_pid()}:x", "cli:ops", RunKind.MANUAL, now, now, None
    )
    assert not holder_is_dead(info)
    here = LeaseInfo(
        "sync", f"{socket.gethostname()}:{_dead_pid()}:x", "cli:ops", RunKind.MANUAL, now, now, None
    )
    assert holder_is_dead(here)


def test_asking_whether_a_holder_lives_does_not_disturb_it(tmp_path: Path) -> None:
    """The check is signal 0: the holder keeps running and keeps its lease."""
    store = open_store(tmp_path / "lease.db")
    child = _holder_process(tmp_path / "lease.db")
    try:
        info = RunLease(store, ttl=TTL).current()
        assert info is not None
        assert not holder_is_dead(info)
        time.sleep(0.2)
        assert child.poll() is None
    finally:
        child.kill()
        child.wait(timeout=30)
        store.close()


def test_an_unreadable_owner_on_this_host_is_presumed_alive() -> None:
    """No process id to ask about: only the ttl frees that lease."""
    now = utc_now()
    info = LeaseInfo(
        "sync", f"{socket.gethostname()}:not-a-pid:x", "cli:ops", RunKind.MANUAL, now, now, None
    )
    assert not holder_is_dead(info)
