"""Two ``serve`` replicas on one PostgreSQL database and one sandbox, as two OS processes.

Each replica is its own process running what ``serve`` runs for a daily check and an
Approve click (``ScheduledSync.run_check`` as the bot's scheduler calls it,
``Approvals.approve``) and a person's sync, over HTTPS against one sandbox server, so
both write into the same Assets. The parent sends both replicas the same command at
the same moment and prints who ran what. They must show: both upgrade the empty
database at start and exactly one does the work; one scheduled run per due check; an
approval applied once whichever replica gets the click; the run lease holding across
processes, so no two runs ever overlap.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.context import SpawnContext, SpawnProcess
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import pytest

from core.cli.demo import configure_sandbox, sandbox_environ
from core.config import TeamSettings, load_settings
from core.runs import Approvals, RunInProgress, ScheduledSync, SyncService
from core.sandbox import Sandbox, SandboxServer
from core.sandbox.server import settings_env
from core.store import RunKind, RunStatus
from tests.schema_data import KEY

APPROVER = "UAPPROVER"
CREATES = 38  # seed 7, 60 people, 45 accounts: see tests/e2e/test_cli_flow.py
REPLICAS = ("replica-a", "replica-b")
WAIT_SECONDS = 60

Event = dict[str, Any]


def _replica(
    name: str, environ: dict[str, str], start: Barrier, inbox: Queue[Any], outbox: Queue[Event]
) -> None:
    """One replica: open the service (upgrading the schema), then run what it is told."""
    os.environ.update(environ)
    start.wait(WAIT_SECONDS)  # both open the empty database at the same moment
    service = SyncService.open(load_settings(env_file=None))
    schema = service.store.schema
    outbox.put(_event(name, "start", "upgraded" if schema.changed else "up to date", 0.0))
    while (command := inbox.get()) is not None:
        started = time.time()
        try:
            event = _run(service, command)
        except Exception as exc:  # reported to the test, which fails on it at once
            event = _result(str(command[0]), "crashed", None, repr(exc))
        outbox.put({**event, "replica": name, "started": started})
    service.close()
    service.store.close()


def _run(service: SyncService, command: tuple[Any, ...]) -> Event:
    if command[0] == "check":
        outcome = ScheduledSync(service).run_check(once_per_check=True)
        preview = outcome.preview.id if outcome.preview is not None else None
        return _result("check", outcome.kind.value, outcome.run_id, outcome.error, preview)
    if command[0] == "approve":
        decision = Approvals(service).approve(command[1], APPROVER)
        run_id = decision.result.run_id if decision.result is not None else None
        return _result("approve", decision.kind.value, run_id, decision.reason)
    try:
        result = service.sync(APPROVER)
    except RunInProgress as busy:
        return _result("sync", "busy", None, str(busy))
    return _result("sync", result.status.value, result.run_id, None)


def _result(
    step: str, outcome: str, run_id: int | None, detail: str | None, preview: int | None = None
) -> Event:
    return {
        "step": step,
        "outcome": outcome,
        "run_id": run_id,
        "detail": detail,
        "preview": preview,
        "ended": time.time(),
    }


def _event(name: str, step: str, outcome: str, started: float) -> Event:
    return {**_result(step, outcome, None, None), "replica": name, "started": started}


@dataclass
class Replicas:
    processes: list[SpawnProcess]
    inboxes: list[Queue[Any]]
    outbox: Queue[Event]
    log: list[Event]

    def expect(self, step: str) -> list[Event]:
        events = sorted(
            (self.outbox.get(timeout=WAIT_SECONDS) for _ in self.processes),
            key=lambda e: str(e["replica"]),
        )
        assert {e["step"] for e in events} == {step}, events
        self.log.extend(events)
        return events

    def both(self, *command: Any) -> list[Event]:
        """The same command to every replica at once; their answers, by replica name."""
        for inbox in self.inboxes:
            inbox.put(command)
        return self.expect(str(command[0]))


@pytest.fixture
def replicas(postgres_url: str, tmp_path: Path) -> Iterator[tuple[Replicas, Sandbox, str]]:
    sandbox = Sandbox(seed=7, people=60, atlassian=45, latency=0.005)
    with SandboxServer(sandbox, cert_dir=tmp_path / "tls") as server:
        environ = {
            **settings_env(server),
            "ENTRA_SYNC_DATABASE_URL": postgres_url,
            "ENTRA_SYNC_SECRET_KEY": KEY,
            "ENTRA_SYNC_ASSETS_RATE": "0",
        }
        context: SpawnContext = multiprocessing.get_context("spawn")
        outbox: Queue[Event] = context.Queue()
        inboxes: list[Queue[Any]] = [context.Queue() for _ in REPLICAS]
        start = context.Barrier(len(REPLICAS))
        processes = [
            context.Process(target=_replica, args=(name, environ, start, inbox, outbox))
            for name, inbox in zip(REPLICAS, inboxes, strict=True)
        ]
        for process in processes:
            process.start()
        group = Replicas(processes, inboxes, outbox, [])
        try:
            yield group, sandbox, postgres_url
        finally:
            for inbox in inboxes:
                inbox.put(None)
            for process in processes:
                process.join(WAIT_SECONDS)
                if process.is_alive():  # pragma: no cover - only when a replica hangs
                    process.kill()
            _print_log(group.log)
        assert [p.exitcode for p in processes] == [0, 0]


def _print_log(log: list[Event]) -> None:
    print("\nwho ran what (replica, step, outcome, run, detail):")
    for event in log:
        detail = (event["detail"] or "")[:110]
        run = f"run {event['run_id']}" if event["run_id"] else ""
        print(
            f"  {event['replica']:<10} {event['step']:<8} {event['outcome']:<16} {run:<7} {detail}"
        )


def test_two_replicas_share_one_postgres_database(
    replicas: tuple[Replicas, Sandbox, str],
) -> None:
    group, sandbox, url = replicas
    # Both start on the empty database at once: one upgrades it, the other waits its turn.
    started = group.expect("start")
    assert sorted(e["outcome"] for e in started) == ["up to date", "upgraded"]

    admin = SyncService.open(  # setup, in the parent: straight to the same sandbox
        load_settings({**sandbox_environ(url), "ENTRA_SYNC_SECRET_KEY": KEY}, None),
        transport=sandbox.transport(),
    )
    configure_sandbox(admin)
    admin.save_team_settings(TeamSettings("C0REPORTS", (APPROVER,)), "UADMIN")
    admin.create_schema("UADMIN")

    # The daily check fires in both: one scheduled run (held: nobody has synced yet).
    checks = group.both("check")
    assert sorted(e["outcome"] for e in checks) == ["busy", "held"]
    held = next(e for e in checks if e["outcome"] == "held")
    # The same check again (a catch-up at start, a second tick): nobody runs it twice.
    assert [e["outcome"] for e in group.both("check")] == ["busy", "busy"]
    assert len(admin.store.runs(kind=RunKind.SCHEDULED)) == 1

    # The Approve click reaches both replicas: applied once, Assets written once.
    approvals = group.both("approve", held["preview"])
    outcomes = sorted(e["outcome"] for e in approvals)
    assert outcomes.count("applied") == 1, approvals
    employees = sandbox.employees()
    ids = [e["attributes"]["Entra User ID"] for e in employees]
    assert len(ids) == CREATES == len(set(ids))

    # A person syncs in both at once, with writes to make: the lease lets one through.
    for employee in employees[:5]:
        sandbox.set_job_title(str(employee["attributes"]["Entra User ID"]), "Replica Tester")
    syncs = group.both("sync")
    assert sorted(e["outcome"] for e in syncs) == ["busy", "succeeded"]
    assert "already running" in next(e["detail"] for e in syncs if e["outcome"] == "busy")
    titles = [e["attributes"].get("Job Title") for e in sandbox.employees()]
    assert titles.count("Replica Tester") == 5

    runs = admin.store.runs()
    admin.close()
    admin.store.close()
    assert all(r.status is not RunStatus.RUNNING for r in runs)
    spans = sorted((r.started_at, r.finished_at) for r in runs if r.finished_at is not None)
    assert all(end <= next_start for (_, end), (next_start, _) in itertools.pairwise(spans))
