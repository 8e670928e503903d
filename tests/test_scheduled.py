"""The scheduled check on the in-process sandbox: cadence, guard rails, quarantine, lease."""

from __future__ import annotations

import argparse
import io
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

import httpx
import pytest
import sqlalchemy
from cryptography.fernet import Fernet

from core.cli.commands import cmd_check, cmd_status
from core.cli.demo import configure_sandbox, sandbox_environ
from core.clients import RetryPolicy
from core.config import TeamSettings, load_settings
from core.runs import (
    Approvals,
    DecisionKind,
    FailureCause,
    LeaseLost,
    ScheduledKind,
    ScheduledSync,
    SyncService,
    cause_fix,
)
from core.runs.guard_rails import FIRST_SYNC, NO_REPORT_CHANNEL
from core.sandbox import Fault, Sandbox
from core.store import HeldLease, PreviewStatus, RunKind, RunStatus, Store, load_cipher

APPROVER = "UAPPROVER"
CREATES = 38  # seed 7, 60 people, 45 accounts: see tests/e2e/test_cli_flow.py
DAY = timedelta(days=1)


class Clock:
    """Starts at a fixed check time and runs in real time; tests jump it forward."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.began = time.monotonic()
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return self.start + self.offset + timedelta(seconds=time.monotonic() - self.began)

    def advance(self, delta: timedelta) -> None:
        self.offset += delta


class Build(Protocol):
    """The ``build`` fixture: a service whose keyword arguments are ENTRA_SYNC_* variables."""

    def __call__(self, **env: str) -> SyncService: ...


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(seed=7, people=60, atlassian=45)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 20, 2, 0, tzinfo=UTC))


@pytest.fixture
def priorities() -> list[str | None]:
    """The x-ms-throttle-priority header of every Graph request."""
    return []


@pytest.fixture
def build(
    tmp_path: Path, sandbox: Sandbox, clock: Clock, priorities: list[str | None]
) -> Iterator[Build]:
    built: list[SyncService] = []
    secret_key = Fernet.generate_key().decode()

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/v1.0"):
            priorities.append(request.headers.get("x-ms-throttle-priority"))
        return sandbox.handle(request)

    def make(**env: str) -> SyncService:
        environ = {
            **sandbox_environ(f"sqlite:///{tmp_path / 'sync.db'}"),
            "ENTRA_SYNC_SECRET_KEY": secret_key,
            **{f"ENTRA_SYNC_{name}": value for name, value in env.items()},
        }
        settings = load_settings(environ, env_file=None)
        store = Store(settings.database_url, load_cipher(settings), clock=clock)
        retry = RetryPolicy(sleep=lambda _: None)
        transport = httpx.MockTransport(handle)
        service = SyncService(settings, store, transport=transport, retry=retry)
        built.append(service)
        return service

    yield make
    for service in built:
        service.close()
        service.store.close()


def ready(
    service: SyncService, cadence_days: int = 7, *, person_first: bool = True
) -> ScheduledSync:
    """Configured, with a report channel; unless told otherwise, a person's first sync done.

    The scheduler never applies an installation's first sync, so most tests start
    after an approver has applied it (all the sandbox's Employees exist).
    """
    configure_sandbox(service, cadence_days)
    service.create_schema("UADMIN")
    service.save_team_settings(TeamSettings("C0REPORTS", (APPROVER,)), "UADMIN")
    if person_first:
        assert service.sync(APPROVER).status is RunStatus.SUCCEEDED
    return ScheduledSync(service)


@pytest.fixture
def service(build: Build) -> SyncService:
    return build()


def inactive(sandbox: Sandbox) -> int:
    return sum(
        1 for e in sandbox.employees() if str(e["attributes"].get("Active")).lower() != "true"
    )


def linked_user(sandbox: Sandbox) -> str:
    """The Entra user id of an active Employee: a change to them is a change to write."""
    return next(
        str(e["attributes"]["Entra User ID"])
        for e in sandbox.employees()
        if str(e["attributes"].get("Active")).lower() == "true"
    )


def scheduled_runs(service: SyncService) -> int:
    return len(service.store.runs(kind=RunKind.SCHEDULED))


# -- cadence ---------------------------------------------------------------------------


def test_not_configured_runs_nothing(service: SyncService) -> None:
    outcome = ScheduledSync(service).run_check()
    assert outcome.kind is ScheduledKind.NOT_CONFIGURED
    assert service.store.recent_runs() == []
    assert ScheduledSync(service).status().cadence_days is None


def test_a_scheduled_check_applies_at_low_graph_priority(
    service: SyncService, sandbox: Sandbox, priorities: list[str | None]
) -> None:
    scheduler = ready(service)
    sandbox.set_job_title(linked_user(sandbox), "Chief Scheduling Officer")
    priorities.clear()
    outcome = scheduler.run_check()
    assert outcome.kind is ScheduledKind.APPLIED
    assert outcome.result is not None and outcome.result.applied is not None
    assert outcome.result.applied.succeeded == 1
    run = service.store.run(outcome.run_id or 0)
    assert run is not None and (run.kind, run.status) == (RunKind.SCHEDULED, RunStatus.SUCCEEDED)
    assert run.counts["directory_users"] == 60 and run.counts["atlassian_accounts"] > 0
    assert priorities and set(priorities) == {"Low"}
    assert outcome.requests == run.requests and outcome.seconds > 0


def test_the_first_sync_of_an_installation_is_held_for_a_person(
    service: SyncService, sandbox: Sandbox
) -> None:
    """Nobody has applied a sync yet: the scheduler previews and waits for an approver."""
    scheduler = ready(service, person_first=False)
    assert scheduler.status().holds == (FIRST_SYNC,)
    assert "will wait for approval: No sync has been applied by a person yet" in (
        scheduler.status().summary
    )
    outcome = scheduler.run_check()
    assert outcome.kind is ScheduledKind.HELD
    assert outcome.hold_reasons == (FIRST_SYNC,)
    assert sandbox.employees() == []
    assert outcome.preview is not None
    decision = Approvals(service).approve(outcome.preview.id, APPROVER)
    assert decision.kind is DecisionKind.APPLIED
    assert len(sandbox.employees()) == CREATES
    assert scheduler.status().holds == ()


def test_without_a_report_channel_a_scheduled_run_holds(
    service: SyncService, sandbox: Sandbox
) -> None:
    """Nobody would see what it wrote: the check previews, holds, and the status says why."""
    scheduler = ready(service)
    service.save_team_settings(TeamSettings(None, (APPROVER,)), "UADMIN")
    sandbox.set_job_title(linked_user(sandbox), "Unreported Title")
    sandbox.request_log.clear()
    assert scheduler.status().holds == (NO_REPORT_CHANNEL,)
    outcome = scheduler.run_check()
    assert outcome.kind is ScheduledKind.HELD
    assert outcome.hold_reasons == (NO_REPORT_CHANNEL,)
    assert not [e for e in sandbox.request_log if e[1] in {"POST", "PUT"} and "/aql" not in e[2]]


def test_a_scheduled_run_with_nothing_to_change_is_never_held(service: SyncService) -> None:
    """Holding an empty plan would ask a person to approve nothing."""
    scheduler = ready(service)
    service.save_team_settings(TeamSettings(None, (APPROVER,)), "UADMIN")
    assert scheduler.run_check().kind is ScheduledKind.NO_CHANGES


def test_manual_runs_send_no_priority(service: SyncService, priorities: list[str | None]) -> None:
    ready(service)
    service.preview("UALICE")
    assert priorities and set(priorities) == {None}


@pytest.mark.parametrize("cadence", [1, 7, 100])
def test_due_after_cadence_days_and_not_the_day_before(
    service: SyncService, clock: Clock, cadence: int
) -> None:
    scheduler = ready(service, cadence)
    assert scheduler.run_check().kind is ScheduledKind.NO_CHANGES
    if cadence > 1:
        clock.advance((cadence - 1) * DAY)
        assert scheduler.run_check().kind is ScheduledKind.NOT_DUE
        assert scheduler.status().due  # the next check, tomorrow, will sync
        assert scheduled_runs(service) == 1  # a check that is not due leaves no run
        clock.advance(DAY)
    else:
        assert scheduler.run_check().kind is ScheduledKind.NOT_DUE  # same day
        clock.advance(DAY)
    assert scheduler.run_check().kind is ScheduledKind.NO_CHANGES
    assert scheduled_runs(service) == 2


def test_manual_syncs_do_not_move_the_cadence(service: SyncService, clock: Clock) -> None:
    scheduler = ready(service, 7)
    scheduler.run_check()
    clock.advance(6 * DAY)
    service.sync("UALICE")
    clock.advance(DAY)
    assert scheduler.run_check().kind is ScheduledKind.NO_CHANGES


def test_failed_runs_do_not_move_the_cadence(
    service: SyncService, sandbox: Sandbox, clock: Clock
) -> None:
    scheduler = ready(service, 7)
    scheduler.run_check()
    clock.advance(7 * DAY)
    sandbox.add_fault(Fault(service="graph", status=403, times=100))
    outcome = scheduler.run_check()
    assert outcome.kind is ScheduledKind.FAILED
    assert outcome.cause is FailureCause.PERMISSION
    assert outcome.error is not None and outcome.error.startswith("graph HTTP 403")
    assert outcome.alert is None
    run = service.store.run(outcome.run_id or 0)
    assert run is not None and (run.status, run.cause) == (RunStatus.FAILED, "permission")
    sandbox.clear_faults()
    clock.advance(DAY)
    assert scheduler.status().due
    assert scheduler.run_check().kind is ScheduledKind.NO_CHANGES


def test_status_summary_says_when_and_whether(service: SyncService, clock: Clock) -> None:
    scheduler = ready(service, 7)
    first = scheduler.status()
    assert first.summary == (
        "Next check 2026-11-21 02:00 UTC: will sync (no scheduled sync has succeeded yet)."
    )
    scheduler.run_check()
    status = scheduler.status()
    assert (status.due, status.cadence_days, status.quarantined) == (False, 7, None)
    assert status.summary == "Next check 2026-11-21 02:00 UTC: no sync due until 2026-11-27."
    clock.advance(6 * DAY + timedelta(hours=1))
    assert scheduler.status().summary == (
        "Next check 2026-11-27 02:00 UTC: will sync (last scheduled sync 6 days ago)."
    )


# -- guard rails -----------------------------------------------------------------------


def test_a_mass_inactivation_is_held_then_applied_by_an_approver(
    build: Build, sandbox: Sandbox, clock: Clock
) -> None:
    service = build(GUARD_MAX_INACTIVATIONS="5")
    scheduler = ready(service, 1)
    scheduler.run_check()
    before = inactive(sandbox)
    linked = [
        e["attributes"]["Entra User ID"]
        for e in sandbox.employees()
        if str(e["attributes"].get("Active")).lower() == "true"
    ][:6]
    for user_id in linked:
        sandbox.disable_user(user_id)
    clock.advance(DAY)
    outcome = scheduler.run_check()
    assert outcome.kind is ScheduledKind.HELD
    (reason,) = outcome.hold_reasons
    assert reason.startswith(f"6 inactivations, 15.8% of the {CREATES} Employees")
    assert outcome.preview is not None and outcome.plan is not None
    assert (outcome.preview.status, outcome.preview.requested_by) == (
        PreviewStatus.PENDING,
        "scheduler",
    )
    run = service.store.run(outcome.run_id or 0)
    assert run is not None and run.status is RunStatus.HELD and run.error == reason
    assert inactive(sandbox) == before
    assert scheduler.status().due  # held runs do not move the cadence
    decision = Approvals(service).approve(outcome.preview.id, APPROVER)
    assert decision.kind is DecisionKind.APPLIED
    assert inactive(sandbox) == before + 6


def test_an_empty_directory_is_held(service: SyncService, sandbox: Sandbox, clock: Clock) -> None:
    scheduler = ready(service, 1)
    scheduler.run_check()
    for user_id in list(sandbox.directory_users):
        sandbox.delete_user(user_id)
    clock.advance(DAY)
    outcome = scheduler.run_check()
    assert outcome.kind is ScheduledKind.HELD
    assert outcome.hold_reasons[0].startswith("Entra returned 0 users, 0% of the 60 read last time")
    assert outcome.preview is not None
    decision = Approvals(service).approve(outcome.preview.id, APPROVER)
    assert decision.kind is DecisionKind.APPLIED  # a person decided: the guard does not apply


def test_a_preview_of_a_shrunken_directory_does_not_lower_the_baseline(
    service: SyncService, sandbox: Sandbox, clock: Clock
) -> None:
    """Anyone may start a preview: one that read a shrunken directory must not become the
    yardstick, or the next scheduled run would apply the shrunken read unattended."""
    scheduler = ready(service, 1)
    assert scheduler.run_check().kind is ScheduledKind.NO_CHANGES  # read all 60
    for user_id in list(sandbox.directory_users)[:10]:
        sandbox.delete_user(user_id)
    preview = service.preview("UALICE")
    preview_run = service.store.run(preview.run_id)
    assert preview_run is not None and preview_run.status is RunStatus.SUCCEEDED
    assert preview_run.counts["directory_users"] == 50
    clock.advance(DAY)
    outcome = scheduler.run_check()
    assert outcome.kind is ScheduledKind.HELD
    assert outcome.hold_reasons[0].startswith("Entra returned 50 users, 83.3% of the 60 read")


# -- quarantine ------------------------------------------------------------------------


def test_quarantine_alerts_once_clears_on_success_and_alerts_again(
    service: SyncService, sandbox: Sandbox, clock: Clock
) -> None:
    scheduler = ready(service, 1)
    sandbox.add_fault(Fault(service="graph", status=403, times=1000))
    alerts = []
    for _ in range(5):
        outcome = scheduler.run_check()
        assert outcome.kind is ScheduledKind.FAILED
        alerts.append(outcome.alert)
        clock.advance(DAY)
    assert [a is not None for a in alerts] == [False, False, True, False, False]
    alert = alerts[2]
    assert alert is not None
    assert (alert.cause, alert.failures) == (FailureCause.PERMISSION, 3)
    assert alert.fix == cause_fix(FailureCause.PERMISSION)
    assert alert.last_error.startswith("graph HTTP 403")
    first = service.store.runs(kind=RunKind.SCHEDULED)[-1]
    assert alert.since == first.started_at
    assert scheduler.status().quarantined is FailureCause.PERMISSION
    assert "Quarantined: 3 scheduled syncs in a row failed (permission)." in (
        scheduler.status().summary
    )
    sandbox.clear_faults()
    assert scheduler.run_check().kind is ScheduledKind.NO_CHANGES
    assert scheduler.status().quarantined is None
    sandbox.add_fault(Fault(service="graph", status=403, times=1000))
    again = []
    for _ in range(3):
        clock.advance(DAY)
        again.append(scheduler.run_check().alert)
    assert [a is not None for a in again] == [False, False, True]


def test_a_different_cause_starts_a_new_count(
    service: SyncService, sandbox: Sandbox, clock: Clock
) -> None:
    scheduler = ready(service, 1)
    sandbox.add_fault(Fault(service="graph", status=403, times=1000))
    for _ in range(2):
        assert scheduler.run_check().alert is None
        clock.advance(DAY)
    sandbox.clear_faults()
    sandbox.add_fault(Fault(service="graph", status=500, times=1000))
    causes = []
    for _ in range(3):
        outcome = scheduler.run_check()
        causes.append((outcome.cause, outcome.alert is not None))
        clock.advance(DAY)
    assert causes == [(FailureCause.SERVER, False), (FailureCause.SERVER, False),
                      (FailureCause.SERVER, True)]  # fmt: skip


# -- the lease -------------------------------------------------------------------------


def test_each_daily_check_runs_in_one_process_only(
    build: Build, sandbox: Sandbox, clock: Clock
) -> None:
    """A held check leaves the sync due; another replica firing for the same check
    must not run it again. The next day's check runs; ``entra-sync check`` can retry."""
    first = ready(build(), person_first=False)
    replica = ScheduledSync(build())
    assert first.run_check(once_per_check=True).kind is ScheduledKind.HELD
    again = replica.run_check(once_per_check=True)
    assert again.kind is ScheduledKind.BUSY
    assert again.error is not None and "was taken by" in again.error
    assert str(os.getpid()) in again.error
    assert replica.run_check().kind is ScheduledKind.HELD  # by hand: no claim
    clock.advance(DAY)
    assert replica.run_check(once_per_check=True).kind is ScheduledKind.HELD
    assert sandbox.employees() == []


def test_busy_while_another_process_holds_the_lease(service: SyncService) -> None:
    scheduler = ready(service, 1)
    held = service.lease.acquire("UALICE", RunKind.MANUAL)
    outcome = scheduler.run_check()
    assert outcome.kind is ScheduledKind.BUSY
    assert outcome.error is not None
    assert outcome.error.startswith("A sync is already running, started by UALICE at ")
    assert scheduled_runs(service) == 0
    held.release()
    assert scheduler.run_check().kind is ScheduledKind.NO_CHANGES


def test_a_run_that_loses_its_lease_stops_writing(
    build: Build, sandbox: Sandbox, clock: Clock
) -> None:
    """Paused past the ttl and taken over: the applier skips the rest, the run is interrupted."""
    service = build(WRITE_CONCURRENCY="1")
    ready(service, person_first=False)
    stolen: list[HeldLease] = []

    def progress(done: int, total: int) -> None:
        if not stolen:
            clock.advance(service.lease.ttl)
            stolen.append(service.lease.acquire("UTHIEF", RunKind.MANUAL))

    with pytest.raises(LeaseLost):
        service.sync("UALICE", progress=progress)
    assert len(sandbox.employees()) == 1
    run = service.store.last_run(RunKind.MANUAL)
    assert run is not None and run.status is RunStatus.INTERRUPTED
    assert run.counts["applied"] == 1 and run.error is not None
    lease = service.lease.current()
    assert lease is not None and lease.holder == "UTHIEF"  # the loser left the lease alone
    stolen[0].release()


# -- the command line and the store ---------------------------------------------------


def test_cli_check_and_status(service: SyncService, sandbox: Sandbox, clock: Clock) -> None:
    ready(service, 7)
    out = io.StringIO()
    assert cmd_check(service, argparse.Namespace(), out) == 0
    assert out.getvalue().startswith("No changes (run #")
    out = io.StringIO()
    assert cmd_check(service, argparse.Namespace(), out) == 0
    assert out.getvalue().strip() == "Not due: no scheduled sync today."
    out = io.StringIO()
    assert cmd_status(service, argparse.Namespace(json=False, check=False), out) == 0
    assert "Schedule: Next check 2026-11-21 02:00 UTC: no sync due until 2026-11-27." in (
        out.getvalue()
    )
    clock.advance(7 * DAY)
    sandbox.add_fault(Fault(service="graph", status=403, times=100))
    out = io.StringIO()
    assert cmd_check(service, argparse.Namespace(), out) == 1
    assert "Failed (run #" in out.getvalue() and "(permission)" in out.getvalue()
    held = service.lease.acquire("UALICE", RunKind.MANUAL)
    out = io.StringIO()
    assert cmd_check(service, argparse.Namespace(), out) == 1
    assert out.getvalue().startswith("Busy: A sync is already running, started by UALICE")
    held.release()


def test_an_older_database_gains_the_cause_column(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    engine = sqlalchemy.create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(
            sqlalchemy.text(
                "CREATE TABLE sync_run (id INTEGER PRIMARY KEY, kind VARCHAR NOT NULL, "
                "requested_by VARCHAR NOT NULL, started_at DATETIME NOT NULL, "
                "finished_at DATETIME, status VARCHAR NOT NULL, counts JSON NOT NULL, "
                "requests JSON NOT NULL, error TEXT, fingerprint VARCHAR)"
            )
        )
        connection.execute(
            sqlalchemy.text(
                "INSERT INTO sync_run VALUES (1, 'manual', 'UOLD', '2026-01-01 00:00:00', "
                "NULL, 'succeeded', '{}', '{}', NULL, NULL)"
            )
        )
    engine.dispose()
    settings = load_settings({"ENTRA_SYNC_SECRET_KEY": Fernet.generate_key().decode()}, None)
    store = Store(f"sqlite:///{path}", load_cipher(settings))
    run = store.run(1)
    assert run is not None and run.cause is None
    store.close()


def test_cli_check_exits_3_when_it_holds(service: SyncService) -> None:
    """A held scheduled plan is not a failure, but cron must see it: exit 3, and why."""
    ready(service, 7, person_first=False)
    out = io.StringIO()
    assert cmd_check(service, argparse.Namespace(), out) == 3
    assert out.getvalue().startswith("Held for approval (run #")
    assert FIRST_SYNC in out.getvalue()
