from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import event

from core.config import EntraInput, TeamSettings
from core.errors import InvalidInput, SyncError
from core.store import PreviewStatus, RunKind, RunStatus, Store
from core.store.secrets import SecretCipher
from core.sync import (
    Attr,
    ChangeKind,
    ChangeOutcome,
    Create,
    FieldChange,
    OutcomeStatus,
    Plan,
    Update,
)
from core.sync.plan import PlanStats
from tests.clock import HandClock

SECRET = "client-secret-do-not-print-7Q~x"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT = "00000000-0000-0000-0000-000000000001"
START = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> HandClock:
    return HandClock(START)


@pytest.fixture
def cipher() -> SecretCipher:
    return SecretCipher([Fernet.generate_key()])


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "sync.db"


@pytest.fixture
def store(db_path: Path, cipher: SecretCipher, clock: HandClock) -> Iterator[Store]:
    store = Store(f"sqlite:///{db_path}", cipher, clock=clock)
    yield store
    store.close()


def sample_plan() -> Plan:
    return Plan(
        creates=(
            Create("u1", "Ada Lovelace", ((Attr.ENTRA_USER_ID, "u1"), (Attr.FULL_NAME, "Ada"))),
        ),
        updates=(
            Update("10", "ENTRA-10", "u2", "Grace", (FieldChange(Attr.JOB_TITLE, "Dev", "Lead"),)),
        ),
        stats=PlanStats(atlassian_accounts=3, directory_users=4, owned_employees=1),
        manager_names=(("u9", "Boss"),),
    )


def entra(secret: str | None = SECRET, cadence: int = 7) -> EntraInput:
    return EntraInput(TENANT, CLIENT, secret, cadence)


# -- connection -------------------------------------------------------------------------


def test_connection_round_trip(store: Store) -> None:
    assert store.connection() is None
    store.save_connection(entra(), "alice")
    view = store.connection()
    assert view is not None
    assert (view.tenant_id, view.client_id, view.cadence_days) == (TENANT, CLIENT, 7)
    assert (view.updated_by, view.updated_at, view.has_secret) == ("alice", START, True)
    assert store.client_secret() == SECRET


def test_saving_without_a_secret_keeps_the_stored_one(store: Store, clock: HandClock) -> None:
    store.save_connection(entra(), "alice")
    clock.advance(timedelta(hours=1))
    store.save_connection(entra(None, cadence=14), "bob")
    view = store.connection()
    assert view is not None
    assert (view.cadence_days, view.updated_by) == (14, "bob")
    assert view.updated_at == START + timedelta(hours=1)
    assert store.client_secret() == SECRET


def test_first_save_needs_a_secret(store: Store) -> None:
    with pytest.raises(InvalidInput) as caught:
        store.save_connection(entra(None), "alice")
    assert [(p.field, p.rule) for p in caught.value.problems] == [
        ("client_secret", "must not be empty")
    ]
    assert store.connection() is None


def test_client_secret_before_configure_is_a_sync_error(store: Store) -> None:
    with pytest.raises(SyncError, match="not configured"):
        store.client_secret()


def test_secret_is_never_stored_in_clear(store: Store, db_path: Path) -> None:
    store.save_connection(entra(), "alice")
    store.close()
    files = [p for p in db_path.parent.iterdir() if p.name.startswith("sync.db")]
    assert files
    for path in files:
        assert SECRET.encode() not in path.read_bytes()
    with sqlite3.connect(db_path) as raw:
        stored = raw.execute("SELECT client_secret_encrypted FROM entra_connection").fetchone()
    assert stored[0]
    assert SECRET not in stored[0]


def test_views_never_show_the_secret(store: Store) -> None:
    store.save_connection(entra(), "alice")
    run_id = store.start_run(RunKind.PREVIEW, "alice")
    store.save_preview(run_id, sample_plan(), "alice")
    store.audit("alice", "configure", "entra")
    shown: list[object] = [store.connection(), store.run(run_id), store]
    shown += [*store.pending_previews(), *store.audit_events()]
    for value in shown:
        assert SECRET not in repr(value)
        assert SECRET not in str(value)


def test_another_key_cannot_read_the_secret(db_path: Path, store: Store) -> None:
    store.save_connection(entra(), "alice")
    other = Store(f"sqlite:///{db_path}", SecretCipher([Fernet.generate_key()]))
    try:
        with pytest.raises(SyncError, match="does not decrypt") as caught:
            other.client_secret()
        assert SECRET not in str(caught.value)
    finally:
        other.close()


# -- runs -------------------------------------------------------------------------------


def test_run_lifecycle(store: Store, clock: HandClock) -> None:
    run_id = store.start_run(RunKind.MANUAL, "alice")
    view = store.run(run_id)
    assert view is not None
    assert (view.kind, view.status, view.started_at, view.finished_at) == (
        RunKind.MANUAL,
        RunStatus.RUNNING,
        START,
        None,
    )
    assert [r.id for r in store.running()] == [run_id]
    clock.advance(timedelta(minutes=5))
    store.finish_run(
        run_id,
        RunStatus.PARTIAL,
        counts={"creates": 2},
        requests={"graph": 3, "assets": 9},
        error="1 write failed",
        fingerprint="abc",
    )
    view = store.run(run_id)
    assert view is not None
    assert view.status is RunStatus.PARTIAL
    assert view.finished_at == START + timedelta(minutes=5)
    assert view.counts == {"creates": 2}
    assert view.requests == {"graph": 3, "assets": 9}
    assert (view.error, view.fingerprint) == ("1 write failed", "abc")
    assert store.running() == []


def test_unknown_run(store: Store) -> None:
    assert store.run(404) is None
    with pytest.raises(SyncError, match="404"):
        store.finish_run(404, RunStatus.FAILED)


def test_recent_and_last_runs(store: Store) -> None:
    first = store.start_run(RunKind.SCHEDULED, "scheduler")
    store.finish_run(first, RunStatus.SUCCEEDED)
    second = store.start_run(RunKind.SCHEDULED, "scheduler")
    store.finish_run(second, RunStatus.FAILED, error="boom")
    third = store.start_run(RunKind.PREVIEW, "bob")
    assert [r.id for r in store.recent_runs()] == [third, second, first]
    assert [r.id for r in store.recent_runs(limit=2)] == [third, second]
    last = store.last_run(RunKind.SCHEDULED)
    assert last is not None
    assert last.id == second
    succeeded = store.last_run(RunKind.SCHEDULED, RunStatus.SUCCEEDED)
    assert succeeded is not None
    assert succeeded.id == first
    assert store.last_run(RunKind.MANUAL) is None


# -- previews ---------------------------------------------------------------------------


def test_preview_round_trip(store: Store) -> None:
    plan = sample_plan()
    run_id = store.start_run(RunKind.PREVIEW, "alice")
    preview_id = store.save_preview(run_id, plan, "alice", ttl=timedelta(hours=2))
    view = store.preview(preview_id)
    assert view is not None
    assert view.plan == plan
    assert view.fingerprint == plan.fingerprint
    assert (view.run_id, view.status, view.requested_by) == (run_id, PreviewStatus.PENDING, "alice")
    assert (view.created_at, view.expires_at) == (START, START + timedelta(hours=2))
    assert (view.decided_by, view.decided_at) == (None, None)
    assert store.preview(999) is None


def test_new_preview_supersedes_older_pending_ones(store: Store, clock: HandClock) -> None:
    run_id = store.start_run(RunKind.PREVIEW, "alice")
    expired = store.save_preview(run_id, Plan(), "alice", ttl=timedelta(minutes=1))
    clock.advance(timedelta(minutes=2))
    approved = store.save_preview(run_id, Plan(), "alice")
    assert store.transition_preview(approved, [PreviewStatus.PENDING], PreviewStatus.APPROVED)
    older = store.save_preview(run_id, Plan(), "alice")
    newest = store.save_preview(run_id, sample_plan(), "bob")
    statuses = {}
    for preview_id in (expired, approved, older, newest):
        view = store.preview(preview_id)
        assert view is not None
        statuses[preview_id] = view.status
    assert statuses == {
        expired: PreviewStatus.EXPIRED,
        approved: PreviewStatus.APPROVED,
        older: PreviewStatus.SUPERSEDED,
        newest: PreviewStatus.PENDING,
    }
    assert [p.id for p in store.pending_previews()] == [newest]


def test_pending_preview_past_its_ttl_reads_as_expired(store: Store, clock: HandClock) -> None:
    run_id = store.start_run(RunKind.PREVIEW, "alice")
    preview_id = store.save_preview(run_id, Plan(), "alice", ttl=timedelta(hours=1))
    clock.advance(timedelta(hours=1))
    view = store.preview(preview_id)
    assert view is not None
    assert view.status is PreviewStatus.EXPIRED
    assert store.pending_previews() == []
    assert not store.transition_preview(preview_id, [PreviewStatus.PENDING], PreviewStatus.APPROVED)
    assert store.transition_preview(preview_id, [PreviewStatus.EXPIRED], PreviewStatus.STALE)
    view = store.preview(preview_id)
    assert view is not None
    assert view.status is PreviewStatus.STALE


def test_transition_records_the_decider(store: Store, clock: HandClock) -> None:
    run_id = store.start_run(RunKind.PREVIEW, "alice")
    preview_id = store.save_preview(run_id, Plan(), "alice")
    clock.advance(timedelta(minutes=3))
    moved = store.transition_preview(
        preview_id, [PreviewStatus.PENDING], PreviewStatus.APPROVED, actor="bob"
    )
    assert moved
    assert store.transition_preview(preview_id, [PreviewStatus.APPROVED], PreviewStatus.APPLYING)
    assert not store.transition_preview(
        preview_id, [PreviewStatus.PENDING, PreviewStatus.APPROVED], PreviewStatus.APPLYING
    )
    assert not store.transition_preview(preview_id, [], PreviewStatus.APPLIED)
    view = store.preview(preview_id)
    assert view is not None
    assert view.status is PreviewStatus.APPLYING
    assert (view.decided_by, view.decided_at) == ("bob", START + timedelta(minutes=3))


def test_concurrent_transitions_move_a_preview_once(db_path: Path, cipher: SecretCipher) -> None:
    setup = Store(f"sqlite:///{db_path}", cipher)
    run_id = setup.start_run(RunKind.PREVIEW, "alice")
    preview_id = setup.save_preview(run_id, sample_plan(), "alice")
    setup.close()
    contenders = 8
    stores = [Store(f"sqlite:///{db_path}", cipher) for _ in range(contenders)]
    barrier = threading.Barrier(contenders)
    results: list[bool] = []
    lock = threading.Lock()

    def click(store: Store, who: str) -> None:
        barrier.wait()
        moved = store.transition_preview(
            preview_id, [PreviewStatus.PENDING], PreviewStatus.APPROVED, actor=who
        )
        with lock:
            results.append(moved)

    threads = [threading.Thread(target=click, args=(s, f"user{i}")) for i, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * (contenders - 1) + [True]
    view = stores[0].preview(preview_id)
    assert view is not None
    assert view.status is PreviewStatus.APPROVED
    for store in stores:
        store.close()


def test_tampered_plan_is_refused(store: Store, db_path: Path) -> None:
    run_id = store.start_run(RunKind.PREVIEW, "alice")
    preview_id = store.save_preview(run_id, sample_plan(), "alice")
    with sqlite3.connect(db_path) as raw:
        raw.execute("UPDATE preview SET plan = ? WHERE id = ?", (_empty_plan_json(), preview_id))
    with pytest.raises(SyncError, match="fingerprint"):
        store.preview(preview_id)


def _empty_plan_json() -> str:
    return json.dumps(Plan().to_dict())


def test_preview_message_location_round_trip(store: Store) -> None:
    """The Slack message showing a preview is remembered so it can be edited later."""
    run_id = store.start_run(RunKind.PREVIEW, "alice")
    preview_id = store.save_preview(run_id, Plan(), "alice")
    view = store.preview(preview_id)
    assert view is not None
    assert (view.channel, view.message_ts) == (None, None)
    store.set_preview_message(preview_id, "C0REPORTS", "1712345678.000100")
    view = store.preview(preview_id)
    assert view is not None
    assert (view.channel, view.message_ts) == ("C0REPORTS", "1712345678.000100")
    with pytest.raises(SyncError, match="999"):
        store.set_preview_message(999, "C0REPORTS", "1.2")


def test_previews_with_status_newest_first(store: Store, clock: HandClock) -> None:
    """Statuses are matched as callers see them: a pending preview past its TTL is expired."""
    run_id = store.start_run(RunKind.PREVIEW, "alice")
    old = store.save_preview(run_id, Plan(), "alice", ttl=timedelta(minutes=1))
    clock.advance(timedelta(minutes=2))
    failed = store.save_preview(run_id, Plan(), "alice")
    store.transition_preview(failed, [PreviewStatus.PENDING], PreviewStatus.APPROVED)
    store.transition_preview(failed, [PreviewStatus.APPROVED], PreviewStatus.FAILED)
    pending = store.save_preview(run_id, sample_plan(), "alice")
    wanted = [PreviewStatus.EXPIRED, PreviewStatus.FAILED, PreviewStatus.PENDING]
    assert [p.id for p in store.previews_with_status(wanted)] == [pending, failed, old]
    assert [p.id for p in store.previews_with_status(wanted, limit=2)] == [pending, failed]
    assert [p.id for p in store.previews_with_status([PreviewStatus.EXPIRED])] == [old]
    assert store.previews_with_status([]) == []


def test_expire_due_previews_moves_each_once(store: Store, clock: HandClock, db_path: Path) -> None:
    """Pending previews past their TTL are stored as expired and returned by one sweep only."""
    run_id = store.start_run(RunKind.PREVIEW, "alice")
    due = store.save_preview(run_id, Plan(), "alice", ttl=timedelta(hours=1))
    store.set_preview_message(due, "C0REPORTS", "1.1")
    clock.advance(timedelta(hours=2))
    live = store.save_preview(run_id, sample_plan(), "bob")  # retires ``due`` as expired
    store.transition_preview(live, [PreviewStatus.PENDING], PreviewStatus.REJECTED)
    fresh = store.save_preview(run_id, Plan(), "carol", ttl=timedelta(hours=1))
    assert store.expire_due_previews() == []  # ``due`` was already stored as expired
    clock.advance(timedelta(hours=1))
    moved = store.expire_due_previews()
    assert [(p.id, p.status) for p in moved] == [(fresh, PreviewStatus.EXPIRED)]
    assert store.expire_due_previews() == []
    view = store.preview(live)
    assert view is not None
    assert view.status is PreviewStatus.REJECTED
    with sqlite3.connect(db_path) as raw:
        stored = raw.execute("SELECT status FROM preview WHERE id = ?", (fresh,)).fetchone()
    assert stored == ("expired",)


def test_expire_due_previews_returns_message_locations(store: Store, clock: HandClock) -> None:
    """The sweep hands back where each expired preview was posted, to strip its buttons."""
    run_id = store.start_run(RunKind.PREVIEW, "alice")
    preview_id = store.save_preview(run_id, Plan(), "alice", ttl=timedelta(hours=1))
    store.set_preview_message(preview_id, "C0REPORTS", "1712345678.000100")
    clock.advance(timedelta(hours=1))
    [moved] = store.expire_due_previews()
    assert (moved.id, moved.channel, moved.message_ts) == (
        preview_id,
        "C0REPORTS",
        "1712345678.000100",
    )


def statuses(store: Store, *preview_ids: int) -> list[PreviewStatus]:
    views = [store.preview(preview_id) for preview_id in preview_ids]
    return [view.status for view in views if view is not None]


def approved_preview(store: Store, clock: HandClock, actor: str) -> int:
    """A preview approved by ``actor`` now and left approved (its process died)."""
    run_id = store.start_run(RunKind.PREVIEW, "alice")
    preview_id = store.save_preview(run_id, Plan(), "alice")
    assert store.transition_preview(
        preview_id, [PreviewStatus.PENDING], PreviewStatus.APPROVED, actor=actor
    )
    clock.advance(timedelta(minutes=1))
    return preview_id


class JustBefore:
    """Runs ``action`` once, just before the first ``UPDATE preview`` of ``store``:
    another process deciding between our read and our conditional update."""

    def __init__(self, store: Store, action: Any) -> None:
        self.action = action
        self.done = False
        event.listen(store.engine, "before_cursor_execute", self._statement)

    def _statement(self, conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        if not self.done and statement.lstrip().upper().startswith("UPDATE PREVIEW"):
            self.done = True
            self.action()


def test_a_transition_moves_only_the_named_preview(store: Store, clock: HandClock) -> None:
    first = approved_preview(store, clock, "bob")
    second = approved_preview(store, clock, "carol")
    assert store.transition_preview(second, [PreviewStatus.APPROVED], PreviewStatus.APPLYING)
    assert statuses(store, first, second) == [PreviewStatus.APPROVED, PreviewStatus.APPLYING]


def test_handing_an_approval_back_clears_the_decider(store: Store, clock: HandClock) -> None:
    preview_id = approved_preview(store, clock, "bob")
    assert store.transition_preview(
        preview_id, [PreviewStatus.APPROVED], PreviewStatus.PENDING, undecide=True
    )
    view = store.preview(preview_id)
    assert view is not None
    assert (view.status, view.decided_by, view.decided_at) == (PreviewStatus.PENDING, None, None)


def test_previews_with_status_shows_fifty_by_default(store: Store) -> None:
    run_id = store.start_run(RunKind.PREVIEW, "alice")
    ids = [store.save_preview(run_id, Plan(), "alice") for _ in range(51)]
    shown = store.previews_with_status([PreviewStatus.SUPERSEDED, PreviewStatus.PENDING])
    assert [p.id for p in shown] == ids[::-1][:50]


def test_only_a_pending_preview_past_its_ttl_reads_as_expired(
    store: Store, clock: HandClock
) -> None:
    """A decided preview keeps its status after its TTL; only a pending one expires."""
    run_id = store.start_run(RunKind.PREVIEW, "alice")
    rejected = store.save_preview(run_id, Plan(), "alice", ttl=timedelta(hours=1))
    store.transition_preview(rejected, [PreviewStatus.PENDING], PreviewStatus.REJECTED)
    clock.advance(timedelta(hours=2))
    assert store.previews_with_status([PreviewStatus.EXPIRED]) == []
    assert [p.id for p in store.previews_with_status([PreviewStatus.REJECTED])] == [rejected]
    assert store.expire_due_previews() == []


def test_two_pending_previews_are_listed_newest_first_and_each_expires(
    store: Store, clock: HandClock, db_path: Path
) -> None:
    """Two processes saving at once can leave two previews pending: both behave."""
    run_id = store.start_run(RunKind.PREVIEW, "alice")
    older = store.save_preview(run_id, Plan(), "alice", ttl=timedelta(hours=1))
    newer = store.save_preview(run_id, sample_plan(), "bob", ttl=timedelta(hours=1))
    with sqlite3.connect(db_path) as raw:
        raw.execute("UPDATE preview SET status = 'pending' WHERE id = ?", (older,))
    assert [p.id for p in store.pending_previews()] == [newer, older]
    clock.advance(timedelta(hours=1))
    moved = store.expire_due_previews()
    assert sorted(p.id for p in moved) == [older, newer]
    assert statuses(store, older, newer) == [PreviewStatus.EXPIRED] * 2


def test_a_preview_expired_by_another_sweep_meanwhile_is_not_returned_twice(
    db_path: Path, cipher: SecretCipher, clock: HandClock
) -> None:
    ours = Store(f"sqlite:///{db_path}", cipher, clock=clock)
    theirs = Store(f"sqlite:///{db_path}", cipher, clock=clock)
    run_id = ours.start_run(RunKind.PREVIEW, "alice")
    preview_id = ours.save_preview(run_id, Plan(), "alice", ttl=timedelta(hours=1))
    clock.advance(timedelta(hours=1))
    swept: list[list[int]] = []
    JustBefore(ours, lambda: swept.append([p.id for p in theirs.expire_due_previews()]))
    assert ours.expire_due_previews() == []
    assert swept == [[preview_id]]
    ours.close()
    theirs.close()


def test_abandoned_previews_are_failed_once_each(store: Store, clock: HandClock) -> None:
    """Approved at or before the cut-off, or applying: failed and reported, once."""
    first = approved_preview(store, clock, "bob")
    second = approved_preview(store, clock, "carol")
    cut_off = clock.now - timedelta(minutes=1)  # exactly when ``second`` was approved
    late = approved_preview(store, clock, "dave")
    moved = store.fail_abandoned_previews(cut_off)
    assert sorted((was, view.id, view.status) for was, view in moved) == [
        (PreviewStatus.APPROVED, first, PreviewStatus.FAILED),
        (PreviewStatus.APPROVED, second, PreviewStatus.FAILED),
    ]
    assert statuses(store, late) == [PreviewStatus.APPROVED]
    assert store.fail_abandoned_previews(cut_off) == []


def test_decided_previews_are_never_failed_as_abandoned(store: Store, clock: HandClock) -> None:
    run_id = store.start_run(RunKind.PREVIEW, "alice")
    rejected = store.save_preview(run_id, Plan(), "alice")
    store.transition_preview(rejected, [PreviewStatus.PENDING], PreviewStatus.REJECTED, actor="b")
    applied = approved_preview(store, clock, "carol")
    store.transition_preview(applied, [PreviewStatus.APPROVED], PreviewStatus.APPLIED)
    pending = store.save_preview(run_id, Plan(), "alice")
    clock.advance(timedelta(hours=1))
    assert store.fail_abandoned_previews(clock.now) == []
    assert statuses(store, rejected, applied, pending) == [
        PreviewStatus.REJECTED,
        PreviewStatus.APPLIED,
        PreviewStatus.PENDING,
    ]


def test_an_abandoned_preview_another_run_failed_meanwhile_is_not_reported(
    db_path: Path, cipher: SecretCipher, clock: HandClock
) -> None:
    ours = Store(f"sqlite:///{db_path}", cipher, clock=clock)
    theirs = Store(f"sqlite:///{db_path}", cipher, clock=clock)
    preview_id = approved_preview(ours, clock, "bob")
    ours.transition_preview(preview_id, [PreviewStatus.APPROVED], PreviewStatus.APPLYING)
    failed: list[list[int]] = []
    JustBefore(
        ours, lambda: failed.append([v.id for _, v in theirs.fail_abandoned_previews(clock.now)])
    )
    assert ours.fail_abandoned_previews(clock.now) == []
    assert failed == [[preview_id]]
    ours.close()
    theirs.close()


# -- team settings ----------------------------------------------------------------------


def test_team_settings_default_to_nobody(store: Store) -> None:
    """Before setup there is no report channel and no approver."""
    assert store.team_settings() == TeamSettings(None, ())


def test_team_settings_round_trip_and_audit(store: Store, clock: HandClock) -> None:
    """Saving replaces the settings and leaves an audit record of who changed them."""
    store.save_team_settings(TeamSettings("C0REPORTS", ("U0ADA", "U0BOB")), "U0ADMIN")
    assert store.team_settings() == TeamSettings("C0REPORTS", ("U0ADA", "U0BOB"))
    clock.advance(timedelta(minutes=1))
    store.save_team_settings(TeamSettings(None, ("U0BOB",)), "U0ADMIN")
    assert store.team_settings() == TeamSettings(None, ("U0BOB",))
    events = [(e.actor, e.action, e.subject, e.detail) for e in store.audit_events()]
    assert events[0] == ("U0ADMIN", "settings", "team settings", "channel none; approvers U0BOB")
    assert events[1][3] == "channel C0REPORTS; approvers U0ADA, U0BOB"


def test_fresh_database_has_the_new_columns(store: Store, db_path: Path) -> None:
    """The schema revisions make the message-location columns and the team settings table."""
    with sqlite3.connect(db_path) as raw:
        columns = {row[1] for row in raw.execute("PRAGMA table_info(preview)")}
        tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master")}
    assert {"channel", "message_ts"} <= columns
    assert "team_settings" in tables


# -- outcomes, audit, time, engines -----------------------------------------------------


def test_outcomes_round_trip_in_order(store: Store) -> None:
    run_id = store.start_run(RunKind.MANUAL, "alice")
    outcomes = [
        ChangeOutcome(ChangeKind.CREATE, "u1", "Ada", OutcomeStatus.OK, "ENTRA-1"),
        ChangeOutcome(ChangeKind.UPDATE, "u2", "Grace", OutcomeStatus.FAILED, None, "HTTP 400"),
        ChangeOutcome(ChangeKind.MANAGER, "u3", "Linus", OutcomeStatus.SKIPPED),
    ]
    store.record_outcomes(run_id, outcomes)
    store.record_outcomes(run_id, [])
    assert store.outcomes(run_id) == outcomes
    assert store.outcomes(run_id + 1) == []


def test_audit_events_newest_first(store: Store, clock: HandClock) -> None:
    store.audit("alice", "configure", "entra", "cadence 7")
    clock.advance(timedelta(seconds=1))
    store.audit("bob", "approve", "preview 1")
    events = store.audit_events()
    assert [(e.actor, e.action, e.subject, e.detail) for e in events] == [
        ("bob", "approve", "preview 1", ""),
        ("alice", "configure", "entra", "cadence 7"),
    ]
    assert events[1].at == START
    assert len(store.audit_events(limit=1)) == 1


def test_datetimes_come_back_aware_utc(db_path: Path, cipher: SecretCipher) -> None:
    paris = timezone(timedelta(hours=1))
    local_start = datetime(2025, 3, 1, 10, 0, tzinfo=paris)
    store = Store(f"sqlite:///{db_path}", cipher, clock=lambda: local_start)
    try:
        run = store.run(store.start_run(RunKind.MANUAL, "alice"))
        assert run is not None
        assert run.started_at == START
        assert run.started_at.tzinfo is UTC
    finally:
        store.close()


def test_naive_clock_is_refused(db_path: Path, cipher: SecretCipher) -> None:
    store = Store(f"sqlite:///{db_path}", cipher, clock=lambda: datetime(2025, 3, 1))
    try:
        with pytest.raises(ValueError, match="timezone-aware"):
            store.start_run(RunKind.MANUAL, "alice")
    finally:
        store.close()


def test_file_database_parent_directory_is_created(store: Store, db_path: Path) -> None:
    assert db_path.is_file()


def test_in_memory_database_is_shared_across_threads(cipher: SecretCipher) -> None:
    store = Store("sqlite://", cipher)
    ids: list[int] = []
    worker = threading.Thread(target=lambda: ids.append(store.start_run(RunKind.MANUAL, "t")))
    worker.start()
    worker.join()
    try:
        assert [r.id for r in store.recent_runs()] == ids
    finally:
        store.close()


def test_repr_hides_database_password(cipher: SecretCipher) -> None:
    store = Store("sqlite://", cipher)
    try:
        assert "sqlite://" in repr(store)
    finally:
        store.close()


# -- the Slack messages that show previews --------------------------------------------


def _posted(store: Store, actor: str = "alice", **kwargs: Any) -> int:
    """A preview saved and shown in Slack (pending, as posted)."""
    run_id = store.start_run(RunKind.PREVIEW, actor)
    preview_id = store.save_preview(run_id, Plan(), actor, **kwargs)
    store.set_preview_message(preview_id, "C0REPORTS", f"1.{preview_id}")
    return preview_id


def test_previews_to_refresh_lists_closed_previews_whose_message_looks_live(
    store: Store, clock: HandClock
) -> None:
    """Superseded and expired, oldest first; pending, unposted and legacy ones never."""
    run_id = store.start_run(RunKind.PREVIEW, "alice")
    unposted = store.save_preview(run_id, Plan(), "alice")
    superseded = _posted(store)  # supersedes the unposted one: no message to fix
    expired = _posted(store, ttl=timedelta(minutes=1))  # supersedes the first posted one
    assert [p.id for p in store.previews_to_refresh()] == [superseded]
    clock.advance(timedelta(minutes=2))
    current = _posted(store)  # a live one with buttons: never refreshed
    views = store.previews_to_refresh()
    assert [(p.id, p.status) for p in views] == [
        (superseded, PreviewStatus.SUPERSEDED),
        (expired, PreviewStatus.EXPIRED),
    ]
    assert unposted not in [p.id for p in views] and current not in [p.id for p in views]


def test_a_preview_shown_as_its_status_is_not_refreshed_again(store: Store) -> None:
    first = _posted(store)
    _posted(store)
    (stale,) = store.previews_to_refresh()
    store.mark_message_shown(stale.id, PreviewStatus.SUPERSEDED)
    assert store.previews_to_refresh() == []
    view = store.preview(first)
    assert view is not None and (view.channel, view.message_ts) == ("C0REPORTS", f"1.{first}")
    with pytest.raises(SyncError, match="999"):
        store.mark_message_shown(999, PreviewStatus.APPLIED)


def test_a_failed_preview_is_refreshed_until_shown_failed(store: Store) -> None:
    preview_id = _posted(store)
    assert store.transition_preview(preview_id, [PreviewStatus.PENDING], PreviewStatus.FAILED)
    (view,) = store.previews_to_refresh()
    assert (view.id, view.status) == (preview_id, PreviewStatus.FAILED)
    store.mark_message_shown(preview_id, PreviewStatus.APPLYING)  # not what it is now
    assert [p.id for p in store.previews_to_refresh()] == [preview_id]
    store.mark_message_shown(preview_id, PreviewStatus.FAILED)
    assert store.previews_to_refresh() == []


def test_previews_to_refresh_is_limited_and_ordered(store: Store) -> None:
    ids = [_posted(store) for _ in range(5)]
    assert [p.id for p in store.previews_to_refresh(limit=2)] == ids[:2]


def test_held_previews_to_post_are_pending_held_plans_without_a_message(
    store: Store, clock: HandClock
) -> None:
    run_id = store.start_run(RunKind.SCHEDULED, "scheduler")
    ordinary = store.save_preview(run_id, Plan(), "alice")
    held = store.save_preview(run_id, Plan(), "scheduler", hold_reasons=("too many",))
    views = store.held_previews_to_post()
    assert [(p.id, p.hold_reasons, p.held) for p in views] == [(held, ("too many",), True)]
    ordinary_view = store.preview(ordinary)
    assert ordinary_view is not None and ordinary_view.hold_reasons == ()
    assert not ordinary_view.held
    store.set_preview_message(held, "C0REPORTS", "1.1")
    assert store.held_previews_to_post() == []


def test_a_held_plan_past_its_ttl_is_not_posted(store: Store, clock: HandClock) -> None:
    run_id = store.start_run(RunKind.SCHEDULED, "scheduler")
    first = store.save_preview(
        run_id, Plan(), "scheduler", ttl=timedelta(minutes=1), hold_reasons=("a",)
    )
    later = store.save_preview(run_id, Plan(), "scheduler", hold_reasons=("b",))
    assert [p.id for p in store.held_previews_to_post()] == [later]  # the newer held one wins
    superseded = store.preview(first)
    assert superseded is not None and superseded.status is PreviewStatus.SUPERSEDED
    clock.advance(timedelta(hours=25))
    assert store.held_previews_to_post() == []
