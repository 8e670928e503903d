"""The directory read by Graph's delta query, end to end on the sandbox.

After an approver's first sync the store holds a copy of the directory and its delta
link; later runs read only the changes. Each test checks one promise of
core/runs/directory.py: the plan is exactly the plan a full read gives, a refused or
stale link falls back to a full read and says so, a read that fails half way keeps
the copy as it was, the daily check keeps the link fresh, and a small site in a big
tenant still looks its users up.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from core.cli.demo import configure_sandbox, sandbox_environ, sandbox_service
from core.clients import DirectoryRead
from core.config import TeamSettings, load_settings
from core.errors import UnreadableAnswer
from core.runs import ScheduledKind, ScheduledSync, SyncService
from core.sandbox import Answer, Fault, Sandbox
from core.sandbox.records import SandboxUser
from core.store import DirectoryCopy, RunStatus
from core.sync import DirectoryUser, Plan

APPROVER = "UAPPROVER"


def open_service(sandbox: Sandbox, database: Path) -> SyncService:
    settings = load_settings(sandbox_environ(f"sqlite:///{database}"), env_file=None)
    return sandbox_service(sandbox, settings)


def first_sync(service: SyncService) -> None:
    configure_sandbox(service, cadence_days=7)
    service.create_schema("UADMIN")
    service.save_team_settings(TeamSettings("C0REPORTS", (APPROVER,)), "UADMIN")
    assert service.sync(APPROVER).status is RunStatus.SUCCEEDED


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(seed=7, people=60, atlassian=45)


@pytest.fixture
def service(tmp_path: Path, sandbox: Sandbox) -> Iterator[SyncService]:
    service = open_service(sandbox, tmp_path / "sync.db")
    first_sync(service)
    sandbox.reset_counts()
    yield service
    service.close()


def copy_of(service: SyncService) -> DirectoryCopy:
    copy = service.store.directory_copy(service.directory_reader().owner)
    assert copy is not None
    return copy


def by_id(users: tuple[DirectoryUser, ...]) -> dict[str, DirectoryUser]:
    return {user.id: user for user in users}


def full_read_plan(service: SyncService) -> tuple[Plan, tuple[DirectoryUser, ...]]:
    """The plan of the same moment from Graph's plain listing (/users, manager expanded)."""
    snapshot = service.read_snapshot()
    listed = tuple(service.clients.directory().list_all())
    size = snapshot.directory.directory_size
    return service.plan(replace(snapshot, directory=DirectoryRead(listed, "full", size))), listed


def assert_same_as_a_full_read(service: SyncService, said: list[str]) -> Plan:
    """A delta preview, then the plain listing: the same users, so the same plan."""
    preview = service.preview("UALICE", said.append)
    assert preview.strategy == "delta", said
    delta_users = by_id(service.read_snapshot().directory.users)
    plan, listed = full_read_plan(service)
    assert delta_users == by_id(listed)
    assert preview.plan.fingerprint == plan.fingerprint
    assert preview.plan.to_dict() == plan.to_dict()  # findings and names too, not just writes
    return preview.plan


def employees(sandbox: Sandbox) -> list[SandboxUser]:
    """Directory users who have an active Employee with a job title, in id order."""
    ids = {
        str(e["attributes"].get("Entra User ID"))
        for e in sandbox.employees()
        if e["attributes"].get("Active") == "true"
    }
    users = sandbox.directory_users
    return [users[i] for i in sorted(ids) if i in users and users[i].job_title]


def test_a_delta_preview_plans_exactly_what_a_full_read_plans(
    service: SyncService, sandbox: Sandbox
) -> None:
    """Hires, leavers, renames, manager moves, disabled, enabled and restored people."""
    said: list[str] = []
    users = sandbox.directory_users
    managers = [u for u in users.values() if any(r.manager_id == u.id for r in users.values())]
    boss, deputy = managers[0], managers[1]
    contact = next(iter(sandbox.contacts))
    disabled = next(u for u in users.values() if not u.account_enabled)
    others = [u for u in users.values() if u not in (boss, deputy, disabled)]

    sandbox.hire("Nora Quist", deputy.department, "Analyst", deputy.id)
    sandbox.hire("Omar Reyes", None, None, contact)
    sandbox.delete_user(boss.id)  # a leaver whose reports lose their manager
    sandbox.rename_user(others[0].id, "Renamed Person")
    sandbox.set_job_title(others[1].id, None)
    sandbox.set_manager(others[2].id, deputy.id)
    sandbox.set_manager(others[3].id, None)
    sandbox.disable_user(others[4].id)
    sandbox.enable_user(disabled.id)
    first = assert_same_as_a_full_read(service, said)
    assert first.write_count > 0
    assert "Directory: 0 users changed, 0 removed" not in said

    assert service.sync(APPROVER, allow_mass_change=True).status is RunStatus.SUCCEEDED
    sandbox.restore_user(boss.id)  # back, with the manager links Graph names again
    sandbox.set_manager(others[5].id, contact)
    sandbox.delete_user(others[6].id)
    sandbox.rename_user(deputy.id, "Deputy Renamed")  # every report's manager name moves
    second = assert_same_as_a_full_read(service, said)
    assert second.write_count > 0

    sandbox.expire_delta_tokens()  # and the service's own full read agrees as well
    full = service.preview("UALICE")
    assert full.strategy == "full"
    assert full.plan.to_dict() == second.to_dict()


def test_a_preview_that_moved_the_copy_loses_nothing_for_the_sync_after_it(
    service: SyncService, sandbox: Sandbox
) -> None:
    employee = employees(sandbox)[0]
    sandbox.set_job_title(employee.id, "Head of Everything")
    shown = service.preview("UALICE").plan
    assert shown.write_count == 1
    assert copy_of(service).users[employee.id].job_title == "Head of Everything"
    applied = service.sync(APPROVER, expected_fingerprint=shown.fingerprint)
    assert applied.status is RunStatus.SUCCEEDED
    assert applied.plan.fingerprint == shown.fingerprint


def test_a_no_change_preview_costs_one_delta_request_and_a_count(
    tmp_path: Path, service: SyncService, sandbox: Sandbox
) -> None:
    """In a new process (its own sign-in), at the sandbox size of these tests."""
    again = open_service(sandbox, tmp_path / "sync.db")
    try:
        sandbox.reset_counts()
        preview = again.preview("UALICE")
    finally:
        again.close()
    assert preview.plan.is_empty and preview.strategy == "delta"
    assert sandbox.requests["graph"] == 2  # $count and one users/delta page
    assert sum(sandbox.requests.values()) <= 15, dict(sandbox.requests)
    assert preview.requests == dict(sandbox.requests)


@pytest.mark.parametrize("gone", [False, True], ids=["400 syncStateNotFound", "410 Gone"])
def test_a_refused_link_falls_back_to_a_full_read_and_says_so(
    service: SyncService, sandbox: Sandbox, gone: bool
) -> None:
    before = copy_of(service)
    hired = sandbox.hire("Nora Quist", "Sales", "Analyst", None)
    sandbox.expire_delta_tokens(gone=gone)
    said: list[str] = []
    preview = service.preview("UALICE", said.append)
    status = 410 if gone else 400
    assert (
        f"Graph refused the saved delta link (HTTP {status}): reading the whole directory again"
        in said
    )
    assert preview.strategy == "full"
    assert any(c.entra_user_id == hired for c in preview.plan.creates)
    after = copy_of(service)
    assert after.version == before.version + 1 and after.link != before.link
    assert after.previous_link is None  # a fresh read has nothing to overlap with
    assert hired in after.users
    delta = [p for s, _, p in sandbox.request_log if s == "graph" and p.endswith("/delta")]
    assert len(delta) == 2  # the saved link, refused, then the fresh read
    assert service.preview("UALICE").strategy == "delta"


def age_links(service: SyncService, newer: timedelta, older: timedelta | None) -> None:
    now = service.store.now()
    with service.store.engine.begin() as connection:
        connection.execute(
            text("UPDATE directory_copy SET link_saved_at = :newer, previous_saved_at = :older"),
            {
                "newer": (now - newer).replace(tzinfo=None),
                "older": (now - older).replace(tzinfo=None) if older is not None else None,
            },
        )


def test_a_link_older_than_graph_keeps_is_not_even_tried(
    service: SyncService, sandbox: Sandbox
) -> None:
    service.preview("UALICE")  # a second link, so both are there to be too old
    age_links(service, timedelta(days=8), timedelta(days=9))
    sandbox.reset_counts()
    said: list[str] = []
    assert service.preview("UALICE", said.append).strategy == "full"
    assert (
        "The saved delta link is 8 days old and Graph keeps them for 7: "
        "reading the whole directory again"
    ) in said
    assert not any("$deltatoken" in p for _, _, p in sandbox.request_log)
    assert sandbox.requests["graph"] == 3  # $count, one page, the contact manager's name


def test_the_older_link_is_read_while_young_enough_then_the_newer(
    service: SyncService, sandbox: Sandbox
) -> None:
    """The overlap: changes since the link before last, unless that one is nearly expired."""
    sent: list[str] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(str(request.url))
        return sandbox.handle(request)

    watched = SyncService.open(service.settings, transport=httpx.MockTransport(record))
    try:
        watched.preview("UALICE")
        for older in (timedelta(days=2), timedelta(days=6, hours=12)):
            copy = copy_of(service)
            assert copy.previous_link is not None
            age_links(service, timedelta(days=1), older)
            sent.clear()
            watched.preview("UALICE")
            expected = copy.previous_link if older < timedelta(days=6) else copy.link
            assert [url for url in sent if "$deltatoken" in url] == [expected]
    finally:
        watched.close()


def test_a_read_that_fails_half_way_keeps_the_copy_as_it_was(tmp_path: Path) -> None:
    """250 people: two pages of 200. The second page answers with a body cut short."""
    sandbox = Sandbox(seed=3, people=250, atlassian=15)
    service = open_service(sandbox, tmp_path / "sync.db")
    try:
        first_sync(service)
        before = copy_of(service)
        sandbox.expire_delta_tokens()
        sandbox.add_fault(
            Fault(service="graph", path_contains="$skiptoken", answer=Answer.MALFORMED)
        )
        with pytest.raises(UnreadableAnswer):
            service.preview("UALICE")
        after = copy_of(service)
        assert (after.version, after.link, dict(after.users)) == (
            before.version,
            before.link,
            dict(before.users),
        )
        assert service.preview("UALICE").strategy == "full"  # the fault is used up
        assert copy_of(service).version == before.version + 1
    finally:
        service.close()


def test_a_round_cut_short_is_read_again_by_the_next_run(
    service: SyncService, sandbox: Sandbox
) -> None:
    """Half a round's changes lost on the way, its deltaLink kept: the overlap repairs it."""
    for number, user in enumerate(employees(sandbox)[:4]):
        sandbox.set_job_title(user.id, f"Title {number}")
    sandbox.add_fault(Fault(service="graph", path_contains="$deltatoken", answer=Answer.TRUNCATED))
    assert len(service.preview("UALICE").plan.updates) == 2
    assert_same_as_a_full_read(service, [])


def test_the_daily_check_keeps_the_link_fresh_on_days_it_does_not_sync(
    service: SyncService, sandbox: Sandbox
) -> None:
    scheduled = ScheduledSync(service)
    assert scheduled.run_check().kind is ScheduledKind.NO_CHANGES  # due: the first scheduled
    before = copy_of(service)
    user = next(iter(sandbox.directory_users.values()))
    sandbox.rename_user(user.id, "Renamed Today")
    sandbox.reset_counts()
    outcome = scheduled.run_check()
    assert outcome.kind is ScheduledKind.NOT_DUE
    assert outcome.refresh is not None
    assert (outcome.refresh.changed, outcome.refresh.fresh, outcome.refresh.kept) == (
        1,
        False,
        True,
    )
    assert dict(sandbox.requests) == {"graph": 1}  # one users/delta page, nothing else
    after = copy_of(service)
    assert after.version == before.version + 1
    assert (after.previous_link, after.users[user.id].display_name) == (
        before.link,
        "Renamed Today",
    )


def test_the_daily_check_reads_afresh_when_graph_refused_the_link(
    service: SyncService, sandbox: Sandbox
) -> None:
    scheduled = ScheduledSync(service)
    scheduled.run_check()
    sandbox.expire_delta_tokens()
    outcome = scheduled.run_check()
    assert outcome.kind is ScheduledKind.NOT_DUE
    assert outcome.refresh is not None and outcome.refresh.fresh and outcome.refresh.kept


def test_the_daily_check_survives_a_failed_refresh(service: SyncService, sandbox: Sandbox) -> None:
    scheduled = ScheduledSync(service)
    scheduled.run_check()
    sandbox.add_fault(Fault(service="graph", path_contains="/delta", answer=Answer.MALFORMED))
    outcome = scheduled.run_check()
    assert (outcome.kind, outcome.refresh) == (ScheduledKind.NOT_DUE, None)


def test_a_small_site_in_a_big_tenant_looks_its_users_up_and_keeps_no_copy(
    tmp_path: Path,
) -> None:
    """1,400 people, 15 accounts: 7 delta pages against a single $batch."""
    sandbox = Sandbox(seed=5, people=1_400, atlassian=15)
    service = open_service(sandbox, tmp_path / "sync.db")
    try:
        first_sync(service)
        sandbox.reset_counts()
        preview = service.preview("UALICE")
        assert preview.strategy == "lookup"
        assert service.store.directory_copy(service.directory_reader().owner) is None
        assert service.refresh_directory() is None
        assert not any("/delta" in p for _, _, p in sandbox.request_log)
    finally:
        service.close()


def test_a_tenant_without_change_tracking_is_listed_and_keeps_no_copy(tmp_path: Path) -> None:
    """External ID and B2C tenants answer users/delta with a 400: the plain listing reads them."""
    sandbox = Sandbox(seed=7, people=60, atlassian=45)
    unsupported = Fault(service="graph", path_contains="/users/delta", status=400, times=1_000)
    sandbox.add_fault(unsupported)
    service = open_service(sandbox, tmp_path / "sync.db")
    try:
        first_sync(service)
        sandbox.reset_counts()
        said: list[str] = []
        preview = service.preview("UALICE", said.append)
        assert preview.strategy == "full" and preview.plan.is_empty
        assert any(line.startswith("Graph refused the delta query (HTTP 400)") for line in said)
        assert service.store.directory_copy(service.directory_reader().owner) is None
        listed = [p for s, _, p in sandbox.request_log if s == "graph" and p == "/v1.0/users"]
        assert listed, sandbox.request_log
    finally:
        service.close()
