"""What a run keeps for the next: Assets ids, unmanaged accounts, and the rules using them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import respx
from cryptography.fernet import Fernet

from core.clients import AssetsClient, EmployeeType, SchemaChanged, check_attribute_ids
from core.clients.assets import AttributeInfo
from core.runs.hidden_emails import for_email_values, for_matching
from core.store import Store
from core.store.read_cache import FORGET_UNMANAGED_AFTER
from core.store.secrets import SecretCipher
from core.sync import (
    AtlassianAccount,
    Attr,
    DirectoryUser,
    employee_record,
    linked_account_ids,
)
from tests.clock import HandClock

from .test_assets_client import BASE, TYPE, _api, _counted, _obj


@pytest.fixture
def clock() -> HandClock:
    return HandClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def store(tmp_path: Path, clock: HandClock) -> Store:
    return Store(
        f"sqlite:///{tmp_path / 'sync.db'}", SecretCipher([Fernet.generate_key()]), clock=clock
    )


# -- the store ---------------------------------------------------------------------------


def test_unmanaged_accounts_are_kept_by_when_they_were_checked(
    store: Store, clock: HandClock
) -> None:
    store.remember_unmanaged(["a1", "a2"])
    clock.now += timedelta(days=3)
    store.remember_unmanaged(["a2"])  # checked again: its time moves
    since = clock.now - timedelta(days=2)
    assert store.unmanaged_accounts(since) == {"a2"}
    assert store.unmanaged_accounts(since - timedelta(days=2)) == {"a1", "a2"}
    store.forget_unmanaged(["a2"])
    assert store.unmanaged_accounts(since - timedelta(days=2)) == {"a1"}


def test_long_unchecked_unmanaged_accounts_are_dropped(store: Store, clock: HandClock) -> None:
    store.remember_unmanaged(["old"])
    clock.now += FORGET_UNMANAGED_AFTER + timedelta(days=1)
    store.remember_unmanaged(["new"])
    assert store.unmanaged_accounts(datetime(2000, 1, 1, tzinfo=UTC)) == {"new"}


def test_assets_ids_per_site(store: Store) -> None:
    assert store.assets_ids("https://a.example") is None
    store.save_workspace("https://a.example", "w1")
    kept = store.assets_ids("https://a.example")
    assert kept is not None and (kept.workspace_id, kept.schema_id) == ("w1", None)
    store.save_employee_type_ids("https://a.example", "w1", "3", "7", {"Email": "101"})
    store.save_workspace("https://a.example", "w1")  # the same workspace keeps the ids
    kept = store.assets_ids("https://a.example")
    assert kept is not None and kept.attribute_ids == (("Email", "101"),)
    store.save_workspace("https://a.example", "w2")  # another one drops them
    kept = store.assets_ids("https://a.example")
    assert kept is not None and (kept.workspace_id, kept.object_type_id) == ("w2", None)
    assert store.assets_ids("https://b.example") is None
    store.forget_assets_ids("https://a.example")
    assert store.assets_ids("https://a.example") is None


# -- checking kept ids -------------------------------------------------------------------


def _listed(kind: EmployeeType) -> list[AttributeInfo]:
    infos = [
        AttributeInfo(i, attr.value, 0, 0, attr is Attr.FULL_NAME, False, None)
        for attr, i in kind.attribute_ids
    ]
    return [*infos, AttributeInfo("1", "Key", 0, 0, False, False, None)]


def test_kept_ids_pass_when_assets_lists_the_same() -> None:
    check_attribute_ids(TYPE, _listed(TYPE))


@pytest.mark.parametrize(
    "change",
    ["renamed", "replaced", "removed", "nothing listed"],
)
def test_any_difference_is_a_schema_change(change: str) -> None:
    listed = _listed(TYPE)
    title = next(i for i, a in enumerate(listed) if a.name == Attr.JOB_TITLE.value)
    if change == "renamed":
        listed[title] = AttributeInfo(listed[title].id, "Title", 0, 0, False, False, None)
    elif change == "replaced":
        listed[title] = AttributeInfo("555", Attr.JOB_TITLE.value, 0, 0, False, False, None)
    elif change == "removed":
        del listed[title]
    else:
        listed = []
    with pytest.raises(SchemaChanged):
        check_attribute_ids(TYPE, listed)


def _attribute_json(info: AttributeInfo, type_id: str = "7") -> dict[str, object]:
    return {"id": info.id, "name": info.name, "label": info.label, "type": 0,
            "objectType": {"id": type_id}}  # fmt: skip


@respx.mock
def test_the_employee_read_shows_the_listed_attributes_before_reading_objects() -> None:
    """Only the queried type's attributes are passed on; a wrong id stops the read."""
    listed = [_attribute_json(a) for a in _listed(TYPE)]
    other = _attribute_json(AttributeInfo("900", "Job Title", 0, 0, False, False, None), "8")
    page = {"values": [_obj(1)], "isLast": True, "objectTypeAttributes": [*listed, other]}
    respx.post(f"{BASE}/object/aql").mock(return_value=httpx.Response(200, json=page))
    _counted(1)
    seen: list[list[AttributeInfo]] = []
    AssetsClient(_api()).employees(TYPE, check=seen.append)
    assert [a.id for a in seen[0]] == [a.id for a in _listed(TYPE)]

    stale = EmployeeType("1", "7", ((Attr.ENTRA_USER_ID, "42"), *TYPE.attribute_ids[1:]))
    with pytest.raises(SchemaChanged):
        AssetsClient(_api()).employees(stale, check=lambda a: check_attribute_ids(stale, a))


@respx.mock
def test_a_first_page_without_objects_is_not_checked() -> None:
    page = {"values": [], "isLast": True, "objectTypeAttributes": []}
    respx.post(f"{BASE}/object/aql").mock(return_value=httpx.Response(200, json=page))
    _counted(0)
    seen: list[object] = []
    assert AssetsClient(_api()).employees(TYPE, check=seen.append) == []
    assert seen == []


# -- whose hidden email is looked up -----------------------------------------------------

OWNED = "00000000-0000-4000-8000-000000000001"
OTHER = "00000000-0000-4000-8000-000000000002"


def _account(account_id: str, *, email: str | None = None, active: bool = True) -> AtlassianAccount:
    return AtlassianAccount(account_id, account_id, email, active)


def _user(user_id: str, mail: str | None) -> DirectoryUser:
    return DirectoryUser(user_id, user_id, mail, f"{user_id}@contoso.example")


def test_only_unlinked_active_hidden_accounts_are_looked_up_for_matching() -> None:
    employees = [
        employee_record(
            "1", "ENTRA-1", {Attr.ENTRA_USER_ID: OWNED, Attr.ATLASSIAN_ACCOUNT_ID: "held"}
        ),
        employee_record("2", "ENTRA-2", {Attr.ATLASSIAN_ACCOUNT_ID: "unowned"}),  # no Entra id
    ]
    accounts = [
        _account("held"),
        _account("unowned"),  # an Employee we do not own holds it: matched by email
        _account("new"),
        _account("shown", email="shown@contoso.example"),
        _account("inactive", active=False),
    ]
    assert linked_account_ids(employees) == {"held"}
    assert for_matching(accounts, employees) == {"unowned", "new"}


def test_held_accounts_are_looked_up_when_their_user_has_no_mail() -> None:
    employees = [
        employee_record(
            "1", "ENTRA-1", {Attr.ENTRA_USER_ID: OWNED, Attr.ATLASSIAN_ACCOUNT_ID: "a1"}
        ),
        employee_record(
            "2", "ENTRA-2", {Attr.ENTRA_USER_ID: OTHER, Attr.ATLASSIAN_ACCOUNT_ID: "a2"}
        ),
    ]
    accounts = [_account("a1", active=False), _account("a2")]
    users = [_user(OWNED, None), _user(OTHER, "other@contoso.example")]
    assert for_email_values(accounts, employees, users) == {"a1"}
