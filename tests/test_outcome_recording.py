"""Outcomes reach the run's history while the apply runs, not only when it ends.

The process is "killed" from inside a write: the sandbox transport raises a
BaseException on the (N+1)th write, the way a signal or a dying process stops the run
mid-apply. The run's stored outcomes are then exactly the N writes that happened. A
run whose lease runs out after N writes has those N, and the rest as skipped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from core.cli.demo import configure_sandbox, sandbox_environ
from core.clients import RetryPolicy
from core.config import load_settings
from core.runs import LeaseLost, SyncService
from core.sandbox import Sandbox
from core.store import RunStatus, Store, load_cipher
from core.sync import Attr, ChangeKind, OutcomeStatus
from tests.clock import HandClock

CREATES = 38  # seed 7, 60 people, 45 accounts: see tests/e2e/test_cli_flow.py

Build = Callable[[httpx.BaseTransport, int], SyncService]


class Killed(BaseException):
    """Stands in for the process dying: not an Exception, so nothing swallows it."""


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(seed=7, people=60, atlassian=45)


@pytest.fixture
def clock() -> HandClock:
    return HandClock(datetime(2025, 3, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def build(tmp_path: Path, clock: HandClock) -> Iterator[Build]:
    built: list[SyncService] = []
    key = Fernet.generate_key().decode()

    def make(transport: httpx.BaseTransport, concurrency: int) -> SyncService:
        environ = {
            **sandbox_environ(f"sqlite:///{tmp_path / 'sync.db'}"),
            "ENTRA_SYNC_SECRET_KEY": key,
            "ENTRA_SYNC_WRITE_CONCURRENCY": str(concurrency),
        }
        settings = load_settings(environ, env_file=None)
        store = Store(settings.database_url, load_cipher(settings), clock=clock)
        service = SyncService(
            settings, store, transport=transport, retry=RetryPolicy(sleep=lambda _: None)
        )
        built.append(service)
        configure_sandbox(service)
        service.create_schema("UADMIN")
        return service

    yield make
    for service in built:
        service.close()
        service.store.close()


def is_write(request: httpx.Request) -> bool:
    path = request.url.path
    return (request.method == "POST" and path.endswith("/object/create")) or (
        request.method == "PUT" and "/object/" in path
    )


@pytest.mark.parametrize("written", [1, 7, 25])
def test_a_run_killed_after_n_writes_has_exactly_those_n_in_its_history(
    build: Build, sandbox: Sandbox, written: int
) -> None:
    writes = 0

    def dies_mid_apply(request: httpx.Request) -> httpx.Response:
        nonlocal writes
        if is_write(request):
            writes += 1
            if writes > written:
                raise Killed
        return sandbox.handle(request)

    service = build(httpx.MockTransport(dies_mid_apply), 1)
    run_ids: list[int] = []
    with pytest.raises(Killed):
        service.sync("UADMIN", started=run_ids.append)

    (run_id,) = run_ids
    stored = service.store.outcomes(run_id)
    employees = {str(e["attributes"][Attr.ENTRA_USER_ID.value]) for e in sandbox.employees()}
    assert len(employees) == written
    assert len(stored) == written
    assert {o.entra_user_id for o in stored} == employees
    assert all(o.kind is ChangeKind.CREATE and o.status is OutcomeStatus.OK for o in stored)
    assert {o.object_key for o in stored} == {str(e["objectKey"]) for e in sandbox.employees()}
    run = service.store.run(run_id)
    assert run is not None and run.status is RunStatus.INTERRUPTED


def test_outcomes_are_stored_while_the_apply_is_still_writing(
    build: Build, sandbox: Sandbox
) -> None:
    """Before the last create is sent, most earlier outcomes are already stored."""
    run_ids: list[int] = []
    seen: list[tuple[int, int]] = []  # (creates sent before this one, outcomes stored)
    lock = threading.Lock()
    service: SyncService | None = None

    def watching(request: httpx.Request) -> httpx.Response:
        if is_write(request) and request.method == "POST" and run_ids and service is not None:
            with lock:
                seen.append((len(seen), len(service.store.outcomes(run_ids[0]))))
        return sandbox.handle(request)

    service = build(httpx.MockTransport(watching), 1)
    result = service.sync("UADMIN", started=run_ids.append)

    assert result.status is RunStatus.SUCCEEDED
    assert len(seen) == CREATES
    before_last, stored_then = seen[-1]
    assert before_last == CREATES - 1
    assert stored_then >= before_last // 2, seen
    assert result.applied is not None
    assert len(service.store.outcomes(result.run_id)) == len(result.applied.outcomes)


def test_a_run_stopped_by_its_lease_records_what_it_wrote_and_what_it_skipped(
    build: Build, sandbox: Sandbox, clock: HandClock
) -> None:
    """The lease expires after N writes: the rest are skipped, and all of it is on record."""
    written = 5
    writes = 0
    service: SyncService | None = None

    def lease_runs_out(request: httpx.Request) -> httpx.Response:
        nonlocal writes
        response = sandbox.handle(request)
        if is_write(request):
            writes += 1
            if writes == written and service is not None:
                clock.now += service.lease.ttl + timedelta(seconds=1)
        return response

    service = build(httpx.MockTransport(lease_runs_out), 1)
    run_ids: list[int] = []
    with pytest.raises(LeaseLost):
        service.sync("UADMIN", started=run_ids.append)

    stored = service.store.outcomes(run_ids[0])
    done = [o for o in stored if o.status is OutcomeStatus.OK]
    assert len(done) == written
    assert {o.object_key for o in done} == {str(e["objectKey"]) for e in sandbox.employees()}
    creates = [o for o in stored if o.kind is ChangeKind.CREATE]
    assert len(creates) == CREATES
    assert all(o.status is OutcomeStatus.SKIPPED for o in stored if o not in done)
