"""A first sync writes each Employee once: managers are created before their reports,
whose creates carry the manager's key. Only what no create can carry (a cycle, a
manager whose create failed) is left to the last pass, and is set or reported there."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
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
from core.sync.plan import WarningCode

ACTOR = "UADMIN"
MANAGER_KEY = re.compile(r"^ENTRA-\d+$")  # an Employee's object key: a Manager value


@dataclass
class Wire:
    """The sandbox behind a transport that notes every Assets write and can refuse some."""

    sandbox: Sandbox
    refuse: Callable[[dict[str, str]], bool] = lambda values: False
    creates: list[dict[str, str]] = field(default_factory=list)  # values sent, in order
    updates: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "PUT" and "/object/" in path:
            with self._lock:
                self.updates += 1
        if request.method == "POST" and path.endswith("/object/create"):
            values = _values(request)
            with self._lock:
                self.creates.append(values)
            if self.refuse(values):
                return httpx.Response(400, json={"errorMessages": ["refused"], "errors": {}})
        return self.sandbox.handle(request)

    @property
    def writes(self) -> int:
        return len(self.creates) + self.updates


def _values(request: httpx.Request) -> dict[str, str]:
    """A create's values by attribute id (the first value of each)."""
    body = json.loads(request.content)
    return {
        str(a["objectTypeAttributeId"]): str(a["objectAttributeValues"][0]["value"])
        for a in body["attributes"]
        if a["objectAttributeValues"]
    }


def carries_manager(values: dict[str, str]) -> bool:
    return any(MANAGER_KEY.match(v) for v in values.values())


Build = Callable[[Wire], SyncService]


@pytest.fixture
def build(tmp_path: Path) -> Iterator[Build]:
    """A configured service with the Employee schema, writing through ``wire``."""
    built: list[SyncService] = []
    key = Fernet.generate_key().decode()

    def make(wire: Wire) -> SyncService:
        environ = {
            **sandbox_environ(f"sqlite:///{tmp_path / 'sync.db'}"),
            "ENTRA_SYNC_SECRET_KEY": key,
        }
        settings = load_settings(environ, env_file=None)
        store = Store(settings.database_url, load_cipher(settings))
        service = SyncService(
            settings,
            store,
            transport=httpx.MockTransport(wire),
            retry=RetryPolicy(sleep=lambda _: None),
        )
        built.append(service)
        if len(built) == 1:
            configure_sandbox(service)
            service.create_schema(ACTOR)
        return service

    yield make
    for service in built:
        service.close()
        service.store.close()


def manager_pairs(sandbox: Sandbox) -> list[tuple[int, int]]:
    """(manager's object id, report's object id) of every Employee with a Manager."""
    employees = sandbox.employees()
    by_key = {e["objectKey"]: int(e["id"]) for e in employees}
    return [
        (by_key[e["attributes"][Attr.MANAGER.value]], int(e["id"]))
        for e in employees
        if Attr.MANAGER.value in e["attributes"]
    ]


def test_a_first_sync_writes_each_employee_once_managers_first(build: Build) -> None:
    """400 people, reporting lines up to several levels deep: one write per Employee,
    every manager created before each report, and nothing left to change after."""
    sandbox = Sandbox(seed=5, people=400, atlassian=200)
    wire = Wire(sandbox)
    service = build(wire)

    result = service.sync(ACTOR)

    assert result.status is RunStatus.SUCCEEDED
    creates = result.plan.creates
    managed = [c for c in creates if c.get(Attr.MANAGER) is not None]
    assert len(managed) > len(creates) / 2
    assert wire.writes == len(wire.creates) == len(creates)  # no second pass at all
    assert sum(carries_manager(values) for values in wire.creates) == len(managed)
    pairs = manager_pairs(sandbox)
    assert len(pairs) == len(managed)
    assert all(manager < report for manager, report in pairs)  # object ids: creation order
    assert result.applied is not None
    assert {o.kind for o in result.applied.outcomes} == {ChangeKind.CREATE}
    assert service.preview(ACTOR).plan.is_empty  # every reference is the right one


def hire_a_cycle(sandbox: Sandbox) -> tuple[str, str]:
    """Two new hires who report to each other."""
    ceo = sandbox.org.notes["ceo"][0]
    first = sandbox.hire("Cyc Alpha", "Engineering", "Engineer", ceo)
    second = sandbox.hire("Cyc Beta", "Engineering", "Engineer", first)
    sandbox.set_manager(first, second)
    return first, second


def test_a_manager_cycle_costs_one_more_write_and_both_references_are_set(
    build: Build,
) -> None:
    sandbox = Sandbox(seed=7, people=60, atlassian=45)
    first, second = hire_a_cycle(sandbox)
    wire = Wire(sandbox)
    service = build(wire)

    result = service.sync(ACTOR)

    assert result.status is RunStatus.SUCCEEDED
    assert any(w.code is WarningCode.MANAGER_CYCLE for w in result.plan.warnings)
    assert wire.writes == len(result.plan.creates) + 1
    assert result.applied is not None
    (link,) = [o for o in result.applied.outcomes if o.kind is ChangeKind.MANAGER]
    assert link.status is OutcomeStatus.OK and link.entra_user_id in {first, second}
    by_entra = {e["attributes"][Attr.ENTRA_USER_ID.value]: e for e in sandbox.employees()}
    assert by_entra[first]["attributes"][Attr.MANAGER.value] == by_entra[second]["objectKey"]
    assert by_entra[second]["attributes"][Attr.MANAGER.value] == by_entra[first]["objectKey"]
    assert service.preview(ACTOR).plan.is_empty


def test_a_manager_whose_create_fails_leaves_the_reports_created_and_reported(
    build: Build,
) -> None:
    """The reports are made without the reference, which the last pass reports as failed;
    the next sync creates the manager and sets it on every report."""
    sandbox = Sandbox(seed=7, people=60, atlassian=45)
    ceo = sandbox.org.notes["ceo"][0]
    manager = sandbox.hire("Mona Lead", "Engineering", "Team Lead", ceo)
    reports = [sandbox.hire(f"Rep Ort{n}", "Engineering", "Engineer", manager) for n in range(3)]
    wire = Wire(sandbox, refuse=lambda values: manager in values.values())
    service = build(wire)

    result = service.sync(ACTOR)

    assert result.status is RunStatus.PARTIAL
    assert result.applied is not None
    outcomes = result.applied.outcomes
    failed = {
        (o.kind, o.entra_user_id): o.detail for o in outcomes if o.status is OutcomeStatus.FAILED
    }
    assert set(failed) == {(ChangeKind.CREATE, manager)} | {
        (ChangeKind.MANAGER, report) for report in reports
    }
    gone = "the manager's Employee does not exist"
    assert all(failed[ChangeKind.MANAGER, report] == gone for report in reports)
    made = {e["attributes"][Attr.ENTRA_USER_ID.value] for e in sandbox.employees()}
    assert manager not in made and set(reports) <= made

    wire.refuse = lambda values: False
    rerun = build(wire).sync(ACTOR)
    assert rerun.status is RunStatus.SUCCEEDED
    assert rerun.plan.counts()["creates"] == 1 and rerun.plan.counts()["updates"] == 3
    assert build(wire).preview(ACTOR).plan.is_empty
