"""What a run reads once it has synced: kept Assets ids, and org admin reads that matter.

Each preview here runs on a fresh :class:`SyncService` over the same database, as the
command line does in a new process, so nothing is carried over in memory: only what
the database kept.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.cli.demo import configure_sandbox, sandbox_environ
from core.config import Settings, load_settings
from core.errors import ApiError, SchemaMissing
from core.runs import SyncService
from core.runs.hidden_emails import RECHECK_UNMANAGED
from core.sandbox import Fault, Sandbox
from core.sandbox.records import SandboxAccount
from core.store import Store, load_cipher
from core.sync import Attr, Plan
from tests.clock import HandClock

ACCOUNTS_PAGE = 1000  # Jira user search
EMPLOYEES_PAGE = 999  # AQL


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(seed=7, people=60, atlassian=45)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(sandbox_environ(f"sqlite:///{tmp_path / 'sync.db'}"), env_file=None)


@pytest.fixture
def clock() -> HandClock:
    return HandClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))


Open = Callable[[], SyncService]


@pytest.fixture
def open_service(sandbox: Sandbox, settings: Settings, clock: HandClock) -> Iterator[Open]:
    """A new service on the same database each call, as a new process would have."""
    opened: list[SyncService] = []

    def open_one() -> SyncService:
        store = Store(settings.database_url, load_cipher(settings), clock=clock)
        service = SyncService(settings, store, transport=sandbox.transport())
        opened.append(service)
        return service

    yield open_one
    for service in opened:
        service.close()


@pytest.fixture
def synced(sandbox: Sandbox, open_service: Open) -> Sandbox:
    """Schema made and a first sync applied; request counts start at zero."""
    service = open_service()
    configure_sandbox(service)
    service.create_schema("test")
    result = service.sync("test")
    assert result.applied is not None and result.applied.failed == 0
    sandbox.reset_counts()
    return sandbox


def assets_paths(sandbox: Sandbox) -> list[str]:
    return [path.split("/v1/", 1)[1] for s, _, path in sandbox.request_log if s == "assets"]


def expected_jira_reads(sandbox: Sandbox) -> int:
    """Every user search page, and the empty one that ends it."""
    return math.ceil(len(sandbox.atlassian_accounts) / ACCOUNTS_PAGE) + 1


def test_a_preview_after_a_sync_reads_no_schema_and_no_org_list(
    synced: Sandbox, open_service: Open
) -> None:
    preview = open_service().preview("test")

    assert preview.plan.is_empty
    employees = len(synced.employees())
    assert assets_paths(synced) == ["object/aql"] * math.ceil(employees / EMPLOYEES_PAGE) + [
        "object/aql/totalcount"
    ]
    assert synced.requests["jira"] == expected_jira_reads(synced)  # no workspace look-up
    assert synced.requests["admin"] == 0
    assert sum(preview.requests.values()) == sum(synced.requests.values())


def test_a_cold_start_reads_the_ids_as_before(
    synced: Sandbox, open_service: Open, settings: Settings
) -> None:
    service = open_service()
    service.store.forget_assets_ids(settings.atlassian_site or "")

    assert service.preview("test").plan.is_empty
    reads = assets_paths(synced)
    assert reads[:3] == ["objectschema/list", f"objectschema/{schema_id(synced)}/objecttypes/flat",
                         f"objecttype/{employee_type_id(synced)}/attributes"]  # fmt: skip
    assert synced.requests["jira"] == expected_jira_reads(synced) + 1  # the workspace


def test_a_renamed_attribute_is_found_as_a_cold_read_finds_it(
    synced: Sandbox, open_service: Open
) -> None:
    synced.rename_attribute(Attr.JOB_TITLE.value, "Title")

    with pytest.raises(SchemaMissing, match="Job Title"):
        open_service().preview("test")
    assert not any("/object/" in p and m != "POST" for _, m, p in synced.request_log)


def test_a_replaced_attribute_is_read_again_and_planned_as_from_cold(
    synced: Sandbox, open_service: Open, tmp_path: Path
) -> None:
    """Job Title renamed away and made again by the schema step: a new attribute id."""
    synced.rename_attribute(Attr.JOB_TITLE.value, "Old title")
    open_service().create_schema("test")
    synced.reset_counts()

    warm = open_service().preview("test").plan

    assert "objecttype/" + employee_type_id(synced) + "/attributes" in assets_paths(synced)
    assert warm.updates  # every title is set again on the new attribute
    assert warm == cold_plan(synced, tmp_path)
    synced.reset_counts()
    assert open_service().preview("test").plan == warm
    assert "objectschema/list" not in assets_paths(synced)  # the new ids were kept


def test_kept_ids_that_assets_no_longer_knows_are_read_again(
    synced: Sandbox, open_service: Open, settings: Settings
) -> None:
    service = open_service()
    site = settings.atlassian_site or ""
    kept = service.store.assets_ids(site)
    assert kept is not None and kept.object_type_id is not None
    service.store.save_employee_type_ids(
        site, "not-a-workspace", kept.schema_id or "", kept.object_type_id, dict(kept.attribute_ids)
    )

    assert service.preview("test").plan.is_empty
    assert synced.requests["jira"] == expected_jira_reads(synced) + 1  # found it again
    again = open_service().store.assets_ids(site)
    assert again is not None and again.workspace_id == synced.org.workspace_id


def test_unmanaged_accounts_are_looked_for_again_after_a_week(
    synced: Sandbox, open_service: Open, clock: HandClock
) -> None:
    clock.now += RECHECK_UNMANAGED - timedelta(minutes=1)
    open_service().preview("test")
    assert synced.requests["admin"] == 0

    clock.now += timedelta(minutes=2)
    open_service().preview("test")
    assert synced.requests["admin"] == 1  # the sandbox org's list is one page

    synced.reset_counts()
    open_service().preview("test")
    assert synced.requests["admin"] == 0


def test_a_newcomer_with_a_hidden_email_is_still_looked_up(
    synced: Sandbox, open_service: Open
) -> None:
    user_id = synced.hire("Nadia Newhire", "Finance", "Analyst", None)
    account = _account_of(synced, user_id)
    assert account.email is not None
    synced.set_account_email(account.account_id, account.email, visible=False)

    plan = open_service().preview("test").plan

    assert synced.requests["admin"] == 1
    assert [c.entra_user_id for c in plan.creates] == [user_id]


def test_a_linked_employee_with_a_hidden_email_plans_as_before(
    synced: Sandbox, open_service: Open
) -> None:
    """Its user lost their mailbox and its account email changed, hidden: Email follows."""
    user_id, account_id = _synced_pair(synced)
    synced.set_mail(user_id, None)
    synced.set_account_email(account_id, "renamed.person@contoso.example", visible=False)
    service = open_service()

    plan = service.plan(service.read_snapshot())

    assert synced.requests["admin"] == 1  # looked up: the Email is the account's
    assert plan == old_plan(service)
    [update] = plan.updates
    assert update.entra_user_id == user_id
    assert [(c.attr, c.after) for c in update.changes] == [
        (Attr.EMAIL, "renamed.person@contoso.example")
    ]


def test_a_linked_employee_whose_user_has_mail_needs_no_org_read(
    synced: Sandbox, open_service: Open
) -> None:
    _, account_id = _synced_pair(synced)
    synced.set_account_email(account_id, "renamed.person@contoso.example", visible=False)
    service = open_service()

    plan = service.plan(service.read_snapshot())

    assert synced.requests["admin"] == 0
    assert plan == old_plan(service)
    assert plan.is_empty


def test_a_read_error_in_the_org_list_still_stops_the_run(
    synced: Sandbox, open_service: Open
) -> None:
    user_id, account_id = _synced_pair(synced)
    synced.set_mail(user_id, None)
    synced.set_account_email(account_id, "renamed.person@contoso.example", visible=False)
    synced.add_fault(Fault("admin", status=500, times=10))
    with pytest.raises(ApiError):
        open_service().sync("test")
    assert not [p for s, m, p in synced.request_log if s == "assets" and m == "PUT"]


# -- helpers --------------------------------------------------------------------------


def old_plan(service: SyncService) -> Plan:
    """The plan as before: every hidden email looked up, whatever it could change."""
    snapshot = service.read_snapshot()
    everything = tuple(service.clients.atlassian().list_accounts())
    return service.plan(replace(snapshot, accounts=everything))


def cold_plan(sandbox: Sandbox, tmp_path: Path) -> Plan:
    """The plan a fresh database (nothing kept) reads, on a copy of the sandbox."""
    twin = sandbox.clone()
    db = tmp_path / "cold.db"
    settings = load_settings(sandbox_environ(f"sqlite:///{db}"), env_file=None)
    service = SyncService.open(settings, transport=twin.transport())
    try:
        configure_sandbox(service)
        return service.preview("test").plan
    finally:
        service.close()


def _synced_pair(sandbox: Sandbox) -> tuple[str, str]:
    """A synced Employee's directory user and Atlassian account, with a visible email."""
    accounts = sandbox.atlassian_accounts
    for employee in sorted(sandbox.employees(), key=lambda e: int(e["id"])):
        values = employee["attributes"]
        account = accounts.get(values.get(Attr.ATLASSIAN_ACCOUNT_ID.value) or "")
        user = sandbox.directory_users.get(values.get(Attr.ENTRA_USER_ID.value) or "")
        usable = account and account.visible and account.active
        synced = user and user.mail and user.account_enabled and user.user_type == "Member"
        if usable and synced and user and account and values.get(Attr.ACTIVE.value) == "true":
            return user.id, account.account_id
    raise AssertionError("no synced Employee to change")


def _account_of(sandbox: Sandbox, user_id: str) -> SandboxAccount:
    user = sandbox.directory_users[user_id]
    return next(a for a in sandbox.atlassian_accounts.values() if a.email == user.mail)


def schema_id(sandbox: Sandbox) -> str:
    store = sandbox._state.assets
    return next(s.id for s in store.schemas.values() if s.key == "ENTRA")


def employee_type_id(sandbox: Sandbox) -> str:
    return str(sandbox.employees()[0]["objectTypeId"])


def test_every_email_hidden_still_plans_as_before(synced: Sandbox, open_service: Open) -> None:
    """Every email hidden, a third of them changed, a fifth outside the org; a third of
    the users without mail. (The planted outsider stays outside: the sync found it so.)
    """
    outside = set(synced.org.notes["hidden_unmanaged"])
    accounts = sorted(synced.atlassian_accounts.values(), key=lambda a: a.account_id)
    for number, account in enumerate(accounts):
        if account.account_type != "atlassian" or account.email is None:
            continue
        email = f"moved{number}@contoso.example" if number % 3 == 0 else account.email
        managed = account.account_id not in outside and number % 5 != 0
        synced.set_account_email(account.account_id, email, visible=False, managed=managed)
    for number, user_id in enumerate(sorted(synced.directory_users)):
        if number % 3 == 1:
            synced.set_mail(user_id, None)
    service = open_service()

    plan = service.plan(service.read_snapshot())

    assert plan == old_plan(service)
    assert any(c.attr is Attr.EMAIL for u in plan.updates for c in u.changes)


def test_a_kept_object_type_that_lists_nothing_is_read_again(
    synced: Sandbox, open_service: Open, settings: Settings
) -> None:
    """An AQL on a type id Assets no longer has answers no objects: the ids are read cold."""
    service = open_service()
    site = settings.atlassian_site or ""
    kept = service.store.assets_ids(site)
    assert kept is not None and kept.schema_id is not None
    service.store.save_employee_type_ids(
        site, kept.workspace_id, kept.schema_id, "999999", dict(kept.attribute_ids)
    )

    assert service.preview("test").plan.is_empty
    assert "objectschema/list" in assets_paths(synced)
    again = open_service().store.assets_ids(site)
    assert again is not None and again.object_type_id == employee_type_id(synced)
