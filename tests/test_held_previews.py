"""A routine preview never takes away a plan held for a second approver.

In the store: which older pending previews a new one supersedes. Through the service
on the sandbox: a held plan and a routine preview side by side, both decidable, and
nothing applied twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

import pytest
from cryptography.fernet import Fernet

from core.cli.demo import configure_sandbox, sandbox_environ
from core.clients import RetryPolicy
from core.config import TeamSettings, load_settings
from core.runs import Approvals, DecisionKind, SyncService
from core.sandbox import Sandbox
from core.store import PreviewStatus, RunKind, RunStatus, Store, load_cipher
from core.store.secrets import SecretCipher
from core.sync import Plan
from tests.clock import HandClock

REASON = ("Entra returned 0 users, 0 % of the 60 the last sync read.",)
APPROVER, SECOND, REQUESTER = "UAPPROVER", "USECOND", "UREQUESTER"


# -- the store's rule ------------------------------------------------------------------


@pytest.fixture
def clock() -> HandClock:
    return HandClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def store(tmp_path: Path, clock: HandClock) -> Iterator[Store]:
    store = Store(
        f"sqlite:///{tmp_path / 'sync.db'}", SecretCipher([Fernet.generate_key()]), clock=clock
    )
    yield store
    store.close()


def status(store: Store, preview_id: int) -> PreviewStatus:
    view = store.preview(preview_id)
    assert view is not None
    return view.status


def test_an_ordinary_preview_never_supersedes_a_held_plan(store: Store) -> None:
    """Two routine previews after a held plan: the older routine one goes, the held one stays."""
    run = store.start_run(RunKind.MANUAL, "scheduler")
    held = store.save_preview(run, Plan(), "scheduler", hold_reasons=REASON)
    first = store.save_preview(run, Plan(), "alice")
    second = store.save_preview(run, Plan(), "bob")
    assert [status(store, p) for p in (held, first, second)] == [
        PreviewStatus.PENDING,
        PreviewStatus.SUPERSEDED,
        PreviewStatus.PENDING,
    ]
    assert [p.id for p in store.pending_previews()] == [second, held]


def test_a_held_plan_supersedes_every_older_pending_preview(store: Store) -> None:
    """A new held plan replaces the older held one and any routine preview."""
    run = store.start_run(RunKind.MANUAL, "scheduler")
    older_held = store.save_preview(run, Plan(), "scheduler", hold_reasons=REASON)
    routine = store.save_preview(run, Plan(), "alice")
    newer_held = store.save_preview(run, Plan(), "scheduler", hold_reasons=REASON)
    assert [status(store, p) for p in (older_held, routine, newer_held)] == [
        PreviewStatus.SUPERSEDED,
        PreviewStatus.SUPERSEDED,
        PreviewStatus.PENDING,
    ]


def test_a_held_plan_past_its_ttl_still_expires(store: Store, clock: HandClock) -> None:
    run = store.start_run(RunKind.MANUAL, "scheduler")
    held = store.save_preview(run, Plan(), "scheduler", ttl=timedelta(hours=1), hold_reasons=REASON)
    clock.now += timedelta(hours=2)
    store.save_preview(run, Plan(), "alice")
    assert status(store, held) is PreviewStatus.EXPIRED


def test_a_preview_handed_back_for_a_second_approver_becomes_held(store: Store) -> None:
    """The transition that hands it back can mark it held in the same update."""
    run = store.start_run(RunKind.PREVIEW, "alice")
    preview = store.save_preview(run, Plan(), "alice")
    assert store.transition_preview(preview, [PreviewStatus.PENDING], PreviewStatus.APPROVED)
    assert store.transition_preview(
        preview,
        [PreviewStatus.APPROVED],
        PreviewStatus.PENDING,
        undecide=True,
        hold_reasons=REASON,
    )
    view = store.preview(preview)
    assert view is not None and view.held and view.hold_reasons == REASON
    store.save_preview(run, Plan(), "bob")
    assert status(store, preview) is PreviewStatus.PENDING


# -- through the service ---------------------------------------------------------------


class Build(Protocol):
    def __call__(self, **env: str) -> SyncService: ...


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(seed=7, people=60, atlassian=45)


@pytest.fixture
def build(tmp_path: Path, sandbox: Sandbox) -> Iterator[Build]:
    built: list[SyncService] = []
    key = Fernet.generate_key().decode()

    def make(**env: str) -> SyncService:
        environ = {
            **sandbox_environ(f"sqlite:///{tmp_path / 'service.db'}"),
            "ENTRA_SYNC_SECRET_KEY": key,
            **{f"ENTRA_SYNC_{name}": value for name, value in env.items()},
        }
        settings = load_settings(environ, env_file=None)
        store = Store(settings.database_url, load_cipher(settings))
        service = SyncService(
            settings, store, transport=sandbox.transport(), retry=RetryPolicy(sleep=lambda _: None)
        )
        configure_sandbox(service)
        service.create_schema("UADMIN")
        service.save_team_settings(TeamSettings(None, (APPROVER, SECOND)), "UADMIN")
        built.append(service)
        return service

    yield make
    for service in built:
        service.close()
        service.store.close()


def empty_the_directory_after_a_sync(service: SyncService, sandbox: Sandbox) -> None:
    assert service.sync(APPROVER).status is RunStatus.SUCCEEDED
    for user_id in list(sandbox.directory_users):
        sandbox.delete_user(user_id)


def active_employees(sandbox: Sandbox) -> int:
    return sum(1 for e in sandbox.employees() if e["attributes"].get("Active") == "true")


def test_a_held_plan_and_a_later_preview_are_both_decidable(build: Build, sandbox: Sandbox) -> None:
    """The held plan survives a routine preview; approving it applies, the other goes stale."""
    service = build()
    approvals = Approvals(service)
    empty_the_directory_after_a_sync(service, sandbox)
    held = service.sync(APPROVER)
    assert held.held and held.preview_id is not None
    routine = service.preview(REQUESTER)
    assert routine.preview_id is not None
    pending = service.pending_previews()
    assert [p.id for p in pending] == [routine.preview_id, held.preview_id]
    assert all(approvals.denial_reason(p, SECOND) is None for p in pending)
    assert approvals.approve(held.preview_id, SECOND).kind is DecisionKind.APPLIED
    assert active_employees(sandbox) == 0
    # The same plan again would change nothing now: refused as stale, nothing applied twice.
    assert approvals.approve(routine.preview_id, SECOND).kind is DecisionKind.STALE


def test_a_self_approved_mass_change_waits_for_a_second_approver_through_new_previews(
    build: Build, sandbox: Sandbox
) -> None:
    """An approver's own preview, self-approved and held: later previews leave it pending."""
    service = build(ALLOW_SELF_APPROVAL="true")
    approvals = Approvals(service)
    empty_the_directory_after_a_sync(service, sandbox)
    own = service.preview(APPROVER)
    assert own.preview_id is not None
    assert approvals.approve(own.preview_id, APPROVER).kind is DecisionKind.HELD
    view = service.preview_view(own.preview_id)
    assert view is not None and view.held and view.status is PreviewStatus.PENDING
    service.preview(REQUESTER)
    view = service.preview_view(own.preview_id)
    assert view is not None and view.status is PreviewStatus.PENDING
    assert approvals.approve(own.preview_id, SECOND).kind is DecisionKind.APPLIED
