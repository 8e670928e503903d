"""Approvals and one-run-at-a-time on the in-process sandbox, with a real service and SQLite."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import event

from core.cli.demo import configure_sandbox, sandbox_environ
from core.clients import RetryPolicy
from core.config import TeamSettings, load_settings
from core.errors import InvalidInput
from core.runs import Approvals, DecisionKind, PreviewResult, RunInProgress, SyncService
from core.runs.approvals import NO_APPROVERS, OWN_PREVIEW, STALE_REASON
from core.sandbox import Fault, Sandbox
from core.store import HeldLease, PreviewStatus, RunKind, RunStatus, Store, load_cipher
from core.store.database import utc_now
from core.sync import Attr, ChangeKind, OutcomeStatus

APPROVER = "UAPPROVER"
SECOND = "USECOND"
REQUESTER = "UREQUESTER"
OUTSIDER = "UOUTSIDER"
CREATES = 38  # seed 7, 60 people, 45 accounts: see tests/e2e/test_cli_flow.py


class Clock:
    """Real time plus an offset the test moves forward."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return utc_now() + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta


class Build(Protocol):
    """The ``build`` fixture: a service whose keyword arguments are ENTRA_SYNC_* variables."""

    def __call__(self, **env: str) -> SyncService: ...


@pytest.fixture(scope="module")
def secret_key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(seed=7, people=60, atlassian=45)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def build(tmp_path: Path, sandbox: Sandbox, clock: Clock, secret_key: str) -> Iterator[Build]:
    """Services on one database; keyword arguments are ENTRA_SYNC_* variables."""
    built: list[SyncService] = []

    def make(**env: str) -> SyncService:
        environ = {
            **sandbox_environ(f"sqlite:///{tmp_path / 'sync.db'}"),
            "ENTRA_SYNC_SECRET_KEY": secret_key,
            **{f"ENTRA_SYNC_{name}": value for name, value in env.items()},
        }
        settings = load_settings(environ, env_file=None)
        store = Store(settings.database_url, load_cipher(settings), clock=clock)
        retry = RetryPolicy(sleep=lambda _: None)
        service = SyncService(settings, store, transport=sandbox.transport(), retry=retry)
        built.append(service)
        return service

    yield make
    for service in built:
        service.close()
        service.store.close()


@pytest.fixture
def service(build: Build) -> SyncService:
    """Configured, schema created, two approvers named."""
    service = build()
    configure_sandbox(service)
    service.create_schema("UADMIN")
    service.save_team_settings(TeamSettings("C0REPORTS", (APPROVER, SECOND)), "UADMIN")
    return service


@pytest.fixture
def approvals(service: SyncService) -> Approvals:
    return Approvals(service)


def creates(sandbox: Sandbox) -> int:
    return sum(
        1 for _, method, path in sandbox.request_log if method == "POST" and "object/create" in path
    )


def writes(sandbox: Sandbox) -> list[tuple[str, str, str]]:
    return [
        entry
        for entry in sandbox.request_log
        if entry[0] == "assets" and entry[1] in {"POST", "PUT", "DELETE"} and "/aql" not in entry[2]
    ]


def preview_id(result: PreviewResult) -> int:
    assert result.preview_id is not None
    return result.preview_id


def status_of(service: SyncService, pid: int) -> PreviewStatus:
    view = service.preview_view(pid)
    assert view is not None
    return view.status


# -- approving -------------------------------------------------------------------------


def test_approver_applies_exactly_the_previewed_plan(
    service: SyncService, approvals: Approvals, sandbox: Sandbox
) -> None:
    """An approver's click applies the plan that was previewed, and records who decided."""
    previewed = service.preview(REQUESTER)
    decision = approvals.approve(preview_id(previewed), APPROVER)
    assert decision.kind is DecisionKind.APPLIED, decision.reason
    assert decision.result is not None
    assert decision.result.plan.fingerprint == previewed.plan.fingerprint
    assert len(sandbox.employees()) == len(previewed.plan.creates) == CREATES
    assert decision.preview is not None
    assert decision.preview.status is PreviewStatus.APPLIED
    assert decision.preview.decided_by == APPROVER
    assert decision.approvers == (APPROVER, SECOND)
    applied, run = decision.result.applied, decision.result.run_id
    assert applied is not None and applied.succeeded >= previewed.plan.write_count
    assert decision.reason == f"{applied.succeeded} writes succeeded, 0 failed (run #{run})."


def test_non_approver_is_denied_and_nothing_changes(
    service: SyncService, approvals: Approvals, sandbox: Sandbox
) -> None:
    """Someone not in the approver list is told who may decide; the preview stays pending."""
    pid = preview_id(service.preview(REQUESTER))
    sandbox.request_log.clear()
    for decide in (approvals.approve, approvals.reject):
        decision = decide(pid, OUTSIDER)
        assert decision.kind is DecisionKind.DENIED
        assert decision.reason == (
            f"Only approvers can approve or reject: <@{APPROVER}>, <@{SECOND}>."
        )
    assert writes(sandbox) == []
    assert status_of(service, pid) is PreviewStatus.PENDING


def test_without_approvers_nobody_can_approve(build: Build, sandbox: Sandbox) -> None:
    """Until an admin names approvers, every approval is denied with the way to fix it."""
    service = build()
    configure_sandbox(service)
    service.create_schema("UADMIN")
    pid = preview_id(service.preview(REQUESTER))
    decision = Approvals(service).approve(pid, APPROVER)
    assert (decision.kind, decision.reason) == (DecisionKind.DENIED, NO_APPROVERS)
    assert sandbox.employees() == []


def test_requester_cannot_approve_their_own_preview(
    service: SyncService, approvals: Approvals, sandbox: Sandbox
) -> None:
    """An approver who asked for the preview needs someone else to approve it."""
    pid = preview_id(service.preview(APPROVER))
    decision = approvals.approve(pid, APPROVER)
    assert (decision.kind, decision.reason) == (DecisionKind.DENIED, OWN_PREVIEW)
    assert sandbox.employees() == []
    assert approvals.approve(pid, SECOND).kind is DecisionKind.APPLIED


def test_self_approval_when_the_setting_allows_it(build: Build, sandbox: Sandbox) -> None:
    """ENTRA_SYNC_ALLOW_SELF_APPROVAL=true lets an approver approve their own preview."""
    service = build(ALLOW_SELF_APPROVAL="true")
    configure_sandbox(service)
    service.create_schema("UADMIN")
    service.save_team_settings(TeamSettings(None, (APPROVER,)), "UADMIN")
    approvals = Approvals(service)
    assert approvals.policy().allow_self_approval
    decision = approvals.approve(preview_id(service.preview(APPROVER)), APPROVER)
    assert decision.kind is DecisionKind.APPLIED
    assert len(sandbox.employees()) == CREATES


def test_second_approval_applies_nothing(
    service: SyncService, approvals: Approvals, sandbox: Sandbox
) -> None:
    """Approving an applied preview again is already decided and writes nothing."""
    pid = preview_id(service.preview(REQUESTER))
    assert approvals.approve(pid, APPROVER).kind is DecisionKind.APPLIED
    again = approvals.approve(pid, SECOND)
    assert again.kind is DecisionKind.ALREADY_DECIDED
    assert again.reason == f"Preview #{pid} was already applied by <@{APPROVER}>."
    assert creates(sandbox) == CREATES


def test_two_simultaneous_approvals_apply_once(
    service: SyncService, approvals: Approvals, sandbox: Sandbox
) -> None:
    """Two approvers clicking at the same moment: one applies, the other is turned away."""
    pid = preview_id(service.preview(REQUESTER))
    barrier = threading.Barrier(2)
    kinds: list[DecisionKind] = []

    def click(actor: str) -> None:
        barrier.wait()
        kinds.append(approvals.approve(pid, actor).kind)

    threads = [threading.Thread(target=click, args=(a,)) for a in (APPROVER, SECOND)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert DecisionKind.APPLIED in kinds
    assert len(kinds) == 2
    assert set(kinds) - {DecisionKind.APPLIED} <= {DecisionKind.ALREADY_DECIDED, DecisionKind.BUSY}
    assert creates(sandbox) == CREATES
    assert len(sandbox.employees()) == CREATES


def test_changed_directory_makes_the_preview_stale(
    service: SyncService, approvals: Approvals, sandbox: Sandbox
) -> None:
    """A directory change after the preview: nothing is applied and the preview is stale."""
    previewed = service.preview(REQUESTER)
    sandbox.set_job_title(previewed.plan.creates[0].entra_user_id, "Chief Surprise Officer")
    sandbox.request_log.clear()
    decision = approvals.approve(preview_id(previewed), APPROVER)
    assert (decision.kind, decision.reason) == (DecisionKind.STALE, STALE_REASON)
    assert writes(sandbox) == []
    assert decision.preview is not None
    assert decision.preview.status is PreviewStatus.STALE
    assert approvals.approve(preview_id(previewed), SECOND).kind is DecisionKind.STALE


def test_expired_preview_is_not_applied(
    service: SyncService, approvals: Approvals, sandbox: Sandbox, clock: Clock
) -> None:
    """Past its TTL a preview answers expired, is stored as expired, and writes nothing."""
    pid = preview_id(service.preview(REQUESTER))
    clock.advance(timedelta(hours=service.settings.preview_ttl_hours, minutes=1))
    sandbox.request_log.clear()
    decision = approvals.approve(pid, APPROVER)
    assert decision.kind is DecisionKind.EXPIRED
    assert sandbox.request_log == []
    assert service.store.previews_with_status([PreviewStatus.PENDING]) == []
    assert service.store.expire_due_previews() == []  # already stored as expired


def test_superseded_preview_is_not_applied(
    service: SyncService, approvals: Approvals, sandbox: Sandbox
) -> None:
    """A newer preview replaces the older one, which can no longer be approved."""
    older = preview_id(service.preview(REQUESTER))
    newer = preview_id(service.preview(REQUESTER))
    decision = approvals.approve(older, APPROVER)
    assert decision.kind is DecisionKind.SUPERSEDED
    assert sandbox.employees() == []
    assert status_of(service, newer) is PreviewStatus.PENDING


def test_reject_then_approve_is_already_decided(
    service: SyncService, approvals: Approvals, sandbox: Sandbox
) -> None:
    """A rejected preview records the rejecter and can no longer be approved."""
    pid = preview_id(service.preview(REQUESTER))
    rejected = approvals.reject(pid, SECOND)
    assert rejected.kind is DecisionKind.REJECTED
    assert rejected.preview is not None
    assert (rejected.preview.status, rejected.preview.decided_by) == (
        PreviewStatus.REJECTED,
        SECOND,
    )
    assert rejected.preview.decided_at is not None
    approved = approvals.approve(pid, APPROVER)
    assert approved.kind is DecisionKind.ALREADY_DECIDED
    assert approved.reason == f"Preview #{pid} was already rejected by <@{SECOND}>."
    assert approvals.reject(pid, APPROVER).kind is DecisionKind.ALREADY_DECIDED
    assert sandbox.employees() == []


def test_unknown_preview_is_not_found(approvals: Approvals) -> None:
    """A preview id that does not exist is reported, not raised."""
    decision = approvals.approve(999, APPROVER)
    assert (decision.kind, decision.preview) == (DecisionKind.NOT_FOUND, None)
    assert (decision.actor, decision.reason) == (APPROVER, "Preview #999 does not exist.")


class Meanwhile:
    """Runs ``action`` once, just before ``service`` first sends a statement containing
    ``marker``: another process acting between two steps of a click."""

    def __init__(self, service: SyncService, marker: str, action: Callable[[], object]) -> None:
        self.marker = marker
        self.action = action
        self.done = False
        event.listen(service.store.engine, "before_cursor_execute", self._statement)

    def _statement(self, conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        if not self.done and self.marker in statement:
            self.done = True
            self.action()


def test_a_rejection_racing_another_decision_reports_that_decision(
    build: Build, service: SyncService, approvals: Approvals
) -> None:
    pid = preview_id(service.preview(REQUESTER))
    elsewhere = Approvals(build())
    Meanwhile(service, "UPDATE preview", lambda: elsewhere.reject(pid, SECOND))
    decision = approvals.reject(pid, APPROVER)
    assert decision.kind is DecisionKind.ALREADY_DECIDED
    assert decision.reason == f"Preview #{pid} was already rejected by <@{SECOND}>."
    assert decision.preview is not None and decision.preview.decided_by == SECOND


def test_busy_but_decided_meanwhile_reports_the_decision(
    build: Build, service: SyncService, approvals: Approvals
) -> None:
    """While a run holds the lease, someone else rejects: the click says so, not busy."""
    pid = preview_id(service.preview(REQUESTER))
    held = service.lease.acquire("scheduler", RunKind.SCHEDULED)
    elsewhere = Approvals(build())
    Meanwhile(service, "FROM run_lease", lambda: elsewhere.reject(pid, SECOND))
    decision = approvals.approve(pid, APPROVER)
    assert decision.kind is DecisionKind.ALREADY_DECIDED
    assert decision.reason == f"Preview #{pid} was already rejected by <@{SECOND}>."
    held.release()


def test_an_approval_interrupted_mid_apply_fails_the_preview(
    service: SyncService, approvals: Approvals
) -> None:
    """Ctrl-C (or the process being stopped) during the apply: the preview is failed."""
    pid = preview_id(service.preview(REQUESTER))

    def interrupt(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        approvals.approve(pid, APPROVER, progress=interrupt)
    assert status_of(service, pid) is PreviewStatus.FAILED
    event = service.store.audit_events()[0]
    assert (event.actor, event.action, event.subject, event.detail) == (
        APPROVER,
        "approve",
        f"preview #{pid}",
        "failed: The sync was interrupted.",
    )


def test_busy_while_another_run_is_in_progress(
    service: SyncService, approvals: Approvals, sandbox: Sandbox
) -> None:
    """A running run blocks approval; the preview stays pending and can be approved later."""
    pid = preview_id(service.preview(REQUESTER))
    held = service.lease.acquire("scheduler", RunKind.SCHEDULED)
    run_id = service.store.start_run(RunKind.SCHEDULED, "scheduler")
    held.attach_run(run_id)
    sandbox.request_log.clear()
    decision = approvals.approve(pid, APPROVER)
    assert decision.kind is DecisionKind.BUSY
    assert decision.reason.startswith("A sync is already running, started by scheduler at ")
    assert sandbox.request_log == []
    assert status_of(service, pid) is PreviewStatus.PENDING
    service.store.finish_run(run_id, RunStatus.SUCCEEDED)
    held.release()
    assert approvals.approve(pid, APPROVER).kind is DecisionKind.APPLIED


def test_run_started_during_approval_hands_the_preview_back(
    service: SyncService, approvals: Approvals, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another run takes the lease after the busy check: busy, and the preview stays usable."""
    pid = preview_id(service.preview(REQUESTER))
    held = service.lease.acquire("scheduler", RunKind.SCHEDULED)
    monkeypatch.setattr(service, "busy", lambda: None)  # the lease went after the check
    sandbox.request_log.clear()
    decision = approvals.approve(pid, APPROVER)
    assert decision.kind is DecisionKind.BUSY
    assert decision.reason.startswith("A sync is already running, started by scheduler at ")
    assert writes(sandbox) == []
    assert decision.preview is not None
    assert decision.preview.status is PreviewStatus.PENDING
    assert (decision.preview.decided_by, decision.preview.decided_at) == (None, None)
    assert service.pending_previews() == [decision.preview]
    monkeypatch.undo()
    held.release()
    assert approvals.approve(pid, SECOND).kind is DecisionKind.APPLIED
    assert len(sandbox.employees()) == CREATES


def test_a_preview_left_applying_by_a_dead_process_fails_when_the_next_run_starts(
    service: SyncService, approvals: Approvals, sandbox: Sandbox, clock: Clock
) -> None:
    """Its run held the lease the next run now holds: the preview is failed, not stuck."""
    pid = preview_id(service.preview(REQUESTER))
    # What a process killed mid-apply leaves behind: its lease, its run, the preview applying.
    dead = other_process_run(service)
    store = service.store
    assert store.transition_preview(
        pid, [PreviewStatus.PENDING], PreviewStatus.APPROVED, actor=APPROVER
    )
    assert store.transition_preview(pid, [PreviewStatus.APPROVED], PreviewStatus.APPLYING)
    stuck = approvals.approve(pid, SECOND)
    assert stuck.kind is DecisionKind.ALREADY_DECIDED
    assert stuck.reason == f"Preview #{pid} is being applied by <@{APPROVER}>."
    clock.advance(service.lease.ttl + timedelta(seconds=1))
    service.sync(REQUESTER)
    view = service.preview_view(pid)
    assert view is not None
    assert (view.status, view.decided_by) == (PreviewStatus.FAILED, APPROVER)
    dead_run = store.run(dead)
    assert dead_run is not None and dead_run.status is RunStatus.INTERRUPTED
    (event,) = [e for e in store.audit_events() if e.action == "interrupt"]
    assert (event.actor, event.subject) == (REQUESTER, f"preview #{pid}")
    assert event.detail.startswith("failed: interrupted: ")
    assert "Run a new preview" in event.detail
    again = approvals.approve(pid, SECOND)
    assert again.kind is DecisionKind.ALREADY_DECIDED
    assert "the sync failed; run a new preview" in again.reason


def test_an_approval_whose_run_never_started_fails_after_a_lease_ttl(
    service: SyncService, clock: Clock
) -> None:
    """Approved but never applying: a recent approval is left alone, a stale one is failed."""
    store = service.store
    stale = preview_id(service.preview(REQUESTER))
    store.transition_preview(stale, [PreviewStatus.PENDING], PreviewStatus.APPROVED, actor=SECOND)
    clock.advance(service.lease.ttl + timedelta(seconds=1))
    fresh = preview_id(service.preview(REQUESTER))
    store.transition_preview(fresh, [PreviewStatus.PENDING], PreviewStatus.APPROVED, actor=SECOND)
    service.preview(REQUESTER)  # any run sweeps when it takes the lease
    assert status_of(service, stale) is PreviewStatus.FAILED
    assert status_of(service, fresh) is PreviewStatus.APPROVED  # its run may be starting now
    details = [e.detail for e in store.audit_events() if e.action == "interrupt"]
    assert len(details) == 1
    assert "its run never started" in details[0] and "Run a new preview" in details[0]


def test_an_approval_failed_before_its_run_took_the_lease_applies_nothing(
    service: SyncService,
    approvals: Approvals,
    sandbox: Sandbox,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A click stalled past the ttl before taking the lease finds its preview failed."""
    pid = preview_id(service.preview(REQUESTER))
    acquire = service.lease.acquire

    def stalled(holder: str, kind: RunKind) -> HeldLease:
        clock.advance(service.lease.ttl + timedelta(seconds=1))
        return acquire(holder, kind)

    monkeypatch.setattr(service.lease, "acquire", stalled)
    sandbox.request_log.clear()
    decision = approvals.approve(pid, APPROVER)
    assert decision.kind is DecisionKind.ALREADY_DECIDED
    assert status_of(service, pid) is PreviewStatus.FAILED
    assert sandbox.request_log == []
    last = service.store.last_run(RunKind.MANUAL)
    assert last is not None and last.status is RunStatus.FAILED
    assert last.error == (
        f"Preview #{pid} was closed before run #{last.id} could apply it; nothing was applied."
    )


def test_read_error_after_approval_fails_the_preview(
    service: SyncService, approvals: Approvals, sandbox: Sandbox
) -> None:
    """A read error during the apply marks the preview failed; nothing is written."""
    pid = preview_id(service.preview(REQUESTER))
    sandbox.add_fault(Fault(service="graph", status=403, times=5))
    sandbox.request_log.clear()
    decision = approvals.approve(pid, APPROVER)
    assert decision.kind is DecisionKind.FAILED
    assert decision.reason.startswith("The sync could not run, so nothing was applied: graph")
    assert writes(sandbox) == []
    assert status_of(service, pid) is PreviewStatus.FAILED
    assert service.store.previews_with_status([PreviewStatus.FAILED])[0].id == pid


def test_partial_apply_is_reported(
    service: SyncService, approvals: Approvals, sandbox: Sandbox
) -> None:
    """One rejected create: the preview is applied, the decision partial with the result.

    Creates of one wave run in parallel, so the refused one may be a manager; then each
    of its reports is made without its Manager, and those links are the only other
    failures, each saying why.
    """
    preview = service.preview(REQUESTER)
    pid = preview_id(preview)
    sandbox.add_fault(
        Fault(service="assets", method="POST", path_contains="object/create", status=400)
    )
    decision = approvals.approve(pid, APPROVER)
    assert decision.kind is DecisionKind.PARTIAL
    assert decision.result is not None and decision.result.applied is not None
    failed = [o for o in decision.result.applied.outcomes if o.status is OutcomeStatus.FAILED]
    [refused] = [o for o in failed if o.kind is ChangeKind.CREATE]
    reports = {
        c.entra_user_id
        for c in preview.plan.creates
        if c.get(Attr.MANAGER) == refused.entra_user_id
    }
    links = [o for o in failed if o.kind is not ChangeKind.CREATE]
    assert {o.entra_user_id for o in links} == reports
    assert all(o.kind is ChangeKind.MANAGER and "manager" in o.detail for o in links)
    assert status_of(service, pid) is PreviewStatus.APPLIED


def test_an_approval_whose_every_write_fails_fails_the_preview(
    service: SyncService, approvals: Approvals, sandbox: Sandbox
) -> None:
    pid = preview_id(service.preview(REQUESTER))
    sandbox.add_fault(
        Fault(service="assets", method="POST", path_contains="object/create", status=400, times=100)
    )
    decision = approvals.approve(pid, APPROVER)
    assert decision.kind is DecisionKind.FAILED
    assert decision.result is not None and decision.result.status is RunStatus.FAILED
    run_id = decision.result.run_id
    assert decision.reason == f"0 writes succeeded, {CREATES} failed (run #{run_id})."
    assert decision.preview is not None and decision.preview.status is PreviewStatus.FAILED
    assert decision.approvers == (APPROVER, SECOND)


def test_an_approval_reports_its_progress(
    service: SyncService, approvals: Approvals, sandbox: Sandbox
) -> None:
    """The click's ``say`` and ``progress`` follow the run, for the message in Slack."""
    pid = preview_id(service.preview(REQUESTER))
    said: list[str] = []
    done: list[tuple[int, int]] = []
    decision = approvals.approve(
        pid, APPROVER, say=said.append, progress=lambda n, total: done.append((n, total))
    )
    assert decision.kind is DecisionKind.APPLIED
    assert f"Applying {CREATES} changes" in said
    assert decision.result is not None and decision.result.applied is not None
    writes_done = decision.result.applied.succeeded
    assert writes_done >= CREATES and done[-1] == (writes_done, writes_done)
    run_id = decision.result.run_id
    assert decision.reason == f"{writes_done} writes succeeded, 0 failed (run #{run_id})."


def test_a_rejection_says_nothing_was_applied(
    service: SyncService, approvals: Approvals, sandbox: Sandbox
) -> None:
    pid = preview_id(service.preview(REQUESTER))
    decision = approvals.reject(pid, SECOND)
    assert decision.kind is DecisionKind.REJECTED
    assert decision.reason == f"Preview #{pid} was rejected; nothing was applied."
    assert decision.preview is not None and decision.preview.decided_by == SECOND
    assert creates(sandbox) == 0


def test_denial_reason_tells_who_may_decide_before_anyone_clicks(
    build: Build, service: SyncService, approvals: Approvals
) -> None:
    pid = preview_id(service.preview(APPROVER))
    preview = service.preview_view(pid)
    assert preview is not None
    assert approvals.denial_reason(preview, SECOND) is None
    assert approvals.denial_reason(preview, APPROVER) == OWN_PREVIEW
    assert approvals.denial_reason(preview, OUTSIDER) == (
        f"Only approvers can approve or reject: <@{APPROVER}>, <@{SECOND}>."
    )
    relaxed = Approvals(build(ALLOW_SELF_APPROVAL="true"))
    assert relaxed.denial_reason(preview, APPROVER) is None
    service.save_team_settings(TeamSettings("C0REPORTS", ()), "UADMIN")
    assert approvals.denial_reason(preview, APPROVER) == NO_APPROVERS


def test_every_decision_is_audited(
    service: SyncService, approvals: Approvals, sandbox: Sandbox
) -> None:
    """Denials, rejections and approvals each leave an audit record naming the preview."""
    first = preview_id(service.preview(REQUESTER))
    approvals.approve(first, OUTSIDER)
    approvals.reject(first, SECOND)
    second = preview_id(service.preview(REQUESTER))
    approvals.approve(second, APPROVER)
    events = [(e.actor, e.action, e.subject, e.detail) for e in service.store.audit_events()]
    subjects = {(actor, action, subject) for actor, action, subject, _ in events}
    assert {
        (OUTSIDER, "deny", f"preview #{first}"),
        (SECOND, "reject", f"preview #{first}"),
        (APPROVER, "approve", f"preview #{second}"),
    } <= subjects
    approved = next(e for e in events if e[1] == "approve")
    assert approved[3].startswith("applied: ")
    assert ("UADMIN", "settings", "team settings") in subjects


# -- one run at a time -------------------------------------------------------------------


def other_process_run(service: SyncService, actor: str = "UOTHER") -> int:
    """What another process's run looks like here: the lease held, its run row attached."""
    held = service.lease.acquire(actor, RunKind.MANUAL)
    run_id = service.store.start_run(RunKind.MANUAL, actor)
    held.attach_run(run_id)
    return run_id


def test_preview_and_sync_refuse_while_a_run_is_running(
    service: SyncService, sandbox: Sandbox
) -> None:
    """A held lease blocks both entry points before any request is sent."""
    run_id = other_process_run(service)
    holder = service.current_run()
    assert holder is not None and (holder.id, holder.requested_by) == (run_id, "UOTHER")
    lease = service.lease.current()
    assert lease is not None
    sandbox.request_log.clear()
    with pytest.raises(RunInProgress) as caught:
        service.preview(REQUESTER)
    assert (caught.value.requested_by, caught.value.kind) == ("UOTHER", RunKind.MANUAL)
    assert caught.value.started_at == lease.acquired_at
    assert str(caught.value) == (
        f"A sync is already running, started by UOTHER at {lease.acquired_at:%Y-%m-%d %H:%M} UTC"
        f" on host {lease.host}. If that process has died, its lease expires at "
        f"{lease.expires_at:%H:%M:%S} UTC."
    )
    with pytest.raises(RunInProgress):
        service.sync(REQUESTER)
    assert sandbox.request_log == []
    assert len(service.store.running()) == 1


def test_a_dead_processs_run_is_taken_over_when_its_lease_expires(
    service: SyncService, clock: Clock
) -> None:
    """Nobody renews a crashed holder's lease: after the ttl the next run goes ahead."""
    dead = other_process_run(service)
    clock.advance(service.lease.ttl + timedelta(seconds=1))
    assert service.current_run() is None
    assert service.preview(REQUESTER).preview_id is not None
    run = service.store.run(dead)
    assert run is not None and run.status is RunStatus.INTERRUPTED


def test_a_run_left_running_by_a_dead_process_is_closed_as_interrupted(
    service: SyncService,
) -> None:
    """A run row still marked running without a lease is a dead process's: closed, not busy."""
    dead = service.store.start_run(RunKind.MANUAL, "UOLD")
    assert service.current_run() is None
    assert service.preview(REQUESTER).preview_id is not None
    run = service.store.run(dead)
    assert run is not None
    assert run.status is RunStatus.INTERRUPTED


def test_two_threads_cannot_both_start_a_run(
    service: SyncService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check and the start are one step per process: one preview runs, one is refused."""
    store = service.store
    start_run = store.start_run

    def slow_start(kind: RunKind, requested_by: str) -> int:
        time.sleep(0.05)  # widen the gap between the check and the insert
        return start_run(kind, requested_by)

    monkeypatch.setattr(store, "start_run", slow_start)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def preview(actor: str) -> None:
        barrier.wait()
        try:
            service.preview(actor)
            outcomes.append("ran")
        except RunInProgress:
            outcomes.append("refused")

    threads = [threading.Thread(target=preview, args=(a,)) for a in (APPROVER, SECOND)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ran", "refused"]


# -- service odds and ends -----------------------------------------------------------------


def test_preview_lives_for_the_configured_ttl(build: Build) -> None:
    """ENTRA_SYNC_PREVIEW_TTL_HOURS sets how long a preview can be approved."""
    service = build(PREVIEW_TTL_HOURS="2")
    configure_sandbox(service)
    service.create_schema("UADMIN")
    view = service.preview_view(preview_id(service.preview(REQUESTER)))
    assert view is not None
    assert view.expires_at - view.created_at == timedelta(hours=2)
    assert service.pending_previews() == [view]


def test_team_settings_are_validated_and_deduplicated(service: SyncService) -> None:
    """Slack ids are trimmed and de-duplicated; anything else names the setup field."""
    stored = service.save_team_settings(
        TeamSettings(" C0NEWS ", ("U0ADA", "U0BOB", "U0ADA", " ")), "UADMIN"
    )
    assert stored == TeamSettings("C0NEWS", ("U0ADA", "U0BOB")) == service.team_settings()
    with pytest.raises(InvalidInput) as caught:
        service.save_team_settings(TeamSettings("#general", ("@ada",)), "UADMIN")
    assert {p.field for p in caught.value.problems} == {"report_channel", "approvers"}
    assert service.team_settings() == stored


def test_employees_carry_the_previewed_titles(
    service: SyncService, approvals: Approvals, sandbox: Sandbox
) -> None:
    """What lands in Assets is what the preview showed, field by field."""
    previewed = service.preview(REQUESTER)
    approvals.approve(preview_id(previewed), APPROVER)
    titles = {
        e["attributes"][Attr.ENTRA_USER_ID.value]: e["attributes"].get(Attr.JOB_TITLE.value)
        for e in sandbox.employees()
    }
    assert titles == {c.entra_user_id: c.get(Attr.JOB_TITLE) for c in previewed.plan.creates}


# -- guard rails and approvals ---------------------------------------------------------


def _empty_directory_after_a_sync(service: SyncService, sandbox: Sandbox) -> None:
    assert service.sync(APPROVER).status is RunStatus.SUCCEEDED
    for user_id in list(sandbox.directory_users):
        sandbox.delete_user(user_id)
    sandbox.request_log.clear()


def test_a_manual_sync_is_held_by_the_guard_rails_like_a_scheduled_one(
    service: SyncService, sandbox: Sandbox
) -> None:
    """Whoever starts it, a sync that reads an empty directory writes nothing and waits."""
    _empty_directory_after_a_sync(service, sandbox)
    result = service.sync(APPROVER)
    assert result.held
    assert result.hold_reasons[0].startswith("Entra returned 0 users")
    assert writes(sandbox) == []
    (pending,) = service.pending_previews()
    assert (pending.id, pending.hold_reasons) == (result.preview_id, result.hold_reasons)


def test_a_second_approver_applies_a_held_plan(
    service: SyncService, approvals: Approvals, sandbox: Sandbox
) -> None:
    """The guard rails stand aside for an approval by someone other than the requester."""
    _empty_directory_after_a_sync(service, sandbox)
    held = service.sync(APPROVER)
    assert held.preview_id is not None
    decision = approvals.approve(held.preview_id, SECOND)
    assert decision.kind is DecisionKind.APPLIED
    assert all(e["attributes"]["Active"] == "false" for e in sandbox.employees())


def test_self_approval_of_a_held_plan_waits_for_a_second_approver(
    build: Build, sandbox: Sandbox
) -> None:
    """Even where self-approval is allowed, a mass change needs two people: nothing applies."""
    service = build(ALLOW_SELF_APPROVAL="true")
    configure_sandbox(service)
    service.create_schema("UADMIN")
    service.save_team_settings(TeamSettings(None, (APPROVER, SECOND)), "UADMIN")
    _empty_directory_after_a_sync(service, sandbox)
    held = service.sync(APPROVER)
    assert held.preview_id is not None
    approvals = Approvals(service)
    decision = approvals.approve(held.preview_id, APPROVER)
    assert decision.kind is DecisionKind.HELD
    assert "an approver other than the person who asked" in decision.reason
    assert writes(sandbox) == []
    view = service.preview_view(held.preview_id)
    assert view is not None
    assert (view.status, view.decided_by) == (PreviewStatus.PENDING, None)
    assert approvals.approve(held.preview_id, SECOND).kind is DecisionKind.APPLIED


def test_an_override_applies_and_is_audited(service: SyncService, sandbox: Sandbox) -> None:
    """An operator's explicit override passes the hold; the audit names the rule it passed."""
    _empty_directory_after_a_sync(service, sandbox)
    result = service.sync("cli:ops", allow_mass_change=True)
    assert result.status is RunStatus.SUCCEEDED
    assert result.overridden and result.overridden[0].startswith("Entra returned 0 users")
    (override,) = [e for e in service.store.audit_events() if e.action == "override"]
    assert (override.actor, override.subject) == ("cli:ops", f"run #{result.run_id}")


def test_the_setup_form_stores_both_halves_or_neither(service: SyncService) -> None:
    """A bad approver list keeps a good connection change out too, and every field is named."""
    before = (service.connection(), service.team_settings())
    with pytest.raises(InvalidInput) as raised:
        service.save_setup(
            tenant_id="not-a-guid",
            client_id=before[0].client_id if before[0] else "",
            client_secret=None,
            cadence_days="3",
            team=TeamSettings("C0REPORTS", ("not a user",)),
            actor="UADMIN",
        )
    assert {p.field for p in raised.value.problems} == {"tenant_id", "approvers"}
    assert (service.connection(), service.team_settings()) == before
