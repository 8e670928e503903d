"""The applier on the in-process sandbox: one change's failure, or a broken progress
callback, never costs the other changes their write or their recorded outcome."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from core.cli.demo import configure_sandbox, sandbox_environ
from core.clients import RetryPolicy
from core.config import load_settings
from core.runs import SyncService
from core.sandbox import Sandbox
from core.store import RunStatus, Store, load_cipher
from core.sync import Attr, ChangeKind, OutcomeStatus

CREATES = 38  # seed 7, 60 people, 45 accounts: see tests/e2e/test_cli_flow.py

Build = Callable[[httpx.BaseTransport], SyncService]


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(seed=7, people=60, atlassian=45)


@pytest.fixture
def build(tmp_path: Path) -> Iterator[Build]:
    """A configured service with the Employee schema, talking through ``transport``."""
    built: list[SyncService] = []
    key = Fernet.generate_key().decode()

    def make(transport: httpx.BaseTransport) -> SyncService:
        environ = {
            **sandbox_environ(f"sqlite:///{tmp_path / 'sync.db'}"),
            "ENTRA_SYNC_SECRET_KEY": key,
            "ENTRA_SYNC_WRITE_CONCURRENCY": "4",
        }
        settings = load_settings(environ, env_file=None)
        store = Store(settings.database_url, load_cipher(settings))
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


def test_a_progress_callback_that_raises_does_not_stop_the_apply(
    build: Build, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    """A Slack error while showing progress is logged; every change is still written."""
    service = build(sandbox.transport())
    calls: list[tuple[int, int]] = []
    lock = threading.Lock()

    def progress(done: int, total: int) -> None:
        with lock:
            calls.append((done, total))
            if len(calls) == 2:
                raise RuntimeError("slack said ratelimited")

    with caplog.at_level(logging.WARNING, logger="core.sync.applier"):
        result = service.sync("UADMIN", progress=progress)

    assert result.status is RunStatus.SUCCEEDED
    assert result.applied is not None
    outcomes = result.applied.outcomes
    assert outcomes and all(o.status is OutcomeStatus.OK for o in outcomes)
    creates = [o for o in outcomes if o.kind is ChangeKind.CREATE]
    assert len(creates) == len(result.plan.creates) == CREATES
    # One write each: every manager was made before its reports, whose creates carry it.
    assert len(outcomes) == CREATES
    managed = [c for c in result.plan.creates if c.get(Attr.MANAGER) is not None]
    employees = sandbox.employees()
    assert len(employees) == CREATES
    assert sum(1 for e in employees if e["attributes"].get(Attr.MANAGER.value)) == len(managed)
    # Stored as each change finished: the same outcomes, in the order they completed.
    assert Counter(service.store.outcomes(result.run_id)) == Counter(outcomes)
    # The callback kept being called after it failed, once per change.
    assert sorted(done for done, _ in calls) == list(range(1, len(outcomes) + 1))
    assert "progress callback failed" in caplog.text
    assert "slack said ratelimited" in caplog.text


def test_a_write_answered_with_non_json_fails_only_that_change(
    build: Build, sandbox: Sandbox
) -> None:
    """A create answered with a proxy's page, each time it is sent, is that create's
    failed outcome (looked up, resent once, never made); the rest apply."""
    bodies: list[bytes] = []  # each create's body, in the order first sent
    garbled = 0
    lock = threading.Lock()

    def garbling(request: httpx.Request) -> httpx.Response:
        nonlocal garbled
        if request.method == "POST" and request.url.path.endswith("/object/create"):
            with lock:
                if request.content not in bodies:
                    bodies.append(request.content)
                garble = len(bodies) >= 3 and request.content == bodies[2]
                garbled += garble
            if garble:
                return httpx.Response(200, text="<html>upstream proxy error</html>")
        return sandbox.handle(request)

    service = build(httpx.MockTransport(garbling))
    result = service.sync("UADMIN")

    assert result.status is RunStatus.PARTIAL
    assert result.applied is not None
    outcomes = result.applied.outcomes
    creates = [o for o in outcomes if o.kind is ChangeKind.CREATE]
    failed = [o for o in creates if o.status is OutcomeStatus.FAILED]
    assert len(creates) == CREATES
    assert len(failed) == 1
    assert "not json" in failed[0].detail.lower()  # names what went wrong
    assert failed[0].object_key is None
    assert all(o.status is OutcomeStatus.OK for o in creates if o not in failed)
    assert len(sandbox.employees()) == CREATES - 1
    assert garbled == 2  # the third create: sent, looked up, sent once more
    # Everyone else whose manager was made has that manager's key as Manager.
    made = {e["attributes"][Attr.ENTRA_USER_ID.value]: e for e in sandbox.employees()}
    reachable = [
        (made[c.entra_user_id], made[manager])
        for c in result.plan.creates
        if c.entra_user_id in made and (manager := c.get(Attr.MANAGER)) in made
    ]
    assert reachable
    assert all(e["attributes"][Attr.MANAGER.value] == m["objectKey"] for e, m in reachable)
    # Stored as each change finished: the same outcomes, in the order they completed.
    assert Counter(service.store.outcomes(result.run_id)) == Counter(outcomes)
    run = service.store.run(result.run_id)
    assert run is not None and run.counts["failed"] == result.applied.failed
