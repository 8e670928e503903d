"""Builders shared by the planner tests, plus a tiny in-memory "apply".

People are named by a short handle: ``alice`` has account ``acc-alice``, directory id
``u-alice`` and email ``alice@example.com`` unless a test says otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.sync import (
    GRAPH_CONTACT_TYPE,
    GRAPH_USER_TYPE,
    AtlassianAccount,
    Attr,
    DirectoryUser,
    EmployeeRecord,
    Inactivation,
    ManagerRef,
    Plan,
    SyncPolicy,
    Update,
    build_plan,
    employee_record,
)

_DEFAULT = "default"


def account(handle: str, email: str | None = _DEFAULT, *, active: bool = True) -> AtlassianAccount:
    """An Atlassian account for ``handle``."""
    address = f"{handle}@example.com" if email == _DEFAULT else email
    return AtlassianAccount(f"acc-{handle}", handle.title(), address, active)


def user(
    handle: str,
    *,
    mail: str | None = _DEFAULT,
    upn: str | None = None,
    manager: str | None = None,
    contact_manager: bool = False,
    enabled: bool = True,
    guest: bool = False,
    proxies: tuple[str, ...] = (),
    department: str | None = "Engineering",
    job_title: str | None = "Engineer",
) -> DirectoryUser:
    """A directory user for ``handle``; ``manager`` is another handle."""
    ref = None
    if manager is not None:
        kind = GRAPH_CONTACT_TYPE if contact_manager else GRAPH_USER_TYPE
        ref = ManagerRef(f"u-{manager}", kind, manager.title())
    return DirectoryUser(
        id=f"u-{handle}",
        display_name=handle.title(),
        mail=f"{handle}@example.com" if mail == _DEFAULT else mail,
        user_principal_name=upn or f"{handle}@corp.example.com",
        proxy_addresses=proxies,
        department=department,
        job_title=job_title,
        account_enabled=enabled,
        user_type="Guest" if guest else "Member",
        manager=ref,
    )


def employee(
    key: str,
    handle: str,
    *,
    active: str | None = "true",
    manager_key: str | None = None,
    manager_account: str | None = None,
    **overrides: str | None,
) -> EmployeeRecord:
    """An owned Employee that is in step with ``user(handle)``/``account(handle)``.

    ``overrides`` replaces values by attribute member name, e.g. ``DEPARTMENT="Sales"``.
    """
    values: dict[Attr, str | None] = {
        Attr.ENTRA_USER_ID: f"u-{handle}",
        Attr.FULL_NAME: handle.title(),
        Attr.EMAIL: f"{handle}@example.com",
        Attr.JOB_TITLE: "Engineer",
        Attr.ATLASSIAN_ACCOUNT_ID: f"acc-{handle}",
        Attr.JIRA_USER: f"acc-{handle}",
        Attr.ACTIVE: active,
        Attr.DEPARTMENT: "Engineering",
        Attr.MANAGER: manager_key,
        Attr.MANAGER_ACCOUNT_ID: manager_account,
    }
    for name, value in overrides.items():
        values[Attr[name]] = value
    return employee_record(f"id-{key}", key, values)


def plan_for(
    accounts: Sequence[AtlassianAccount],
    directory: Sequence[DirectoryUser],
    employees: Sequence[EmployeeRecord] = (),
    policy: SyncPolicy | None = None,
) -> Plan:
    """``build_plan`` with the default policy unless one is given."""
    return build_plan(accounts, directory, employees, policy or SyncPolicy())


def apply(plan: Plan, employees: Sequence[EmployeeRecord]) -> list[EmployeeRecord]:
    """Apply ``plan`` the way Assets would: new keys, Manager stored as an object key."""
    records = {e.object_key: dict(e.values) for e in employees}
    ids = {e.object_key: e.object_id for e in employees}
    managers: dict[str, str | None] = {}  # object key -> manager Entra User ID to link
    for number, create in enumerate(plan.creates, start=len(records) + 1):
        key = f"ENTRA-{number}"
        records[key] = {a: v for a, v in create.values if a is not Attr.MANAGER}
        ids[key] = f"id-{key}"
        managers[key] = create.get(Attr.MANAGER)
    existing: list[Update | Inactivation] = [*plan.updates, *plan.inactivations]
    for change in existing:
        assert ids[change.object_key] == change.object_id
        for field in change.changes:
            if field.attr is Attr.MANAGER:
                managers[change.object_key] = field.after
            else:
                records[change.object_key][field.attr] = field.after
    key_of = {
        values.get(Attr.ENTRA_USER_ID): key for key, values in sorted(records.items(), reverse=True)
    }
    for key, manager in managers.items():
        records[key][Attr.MANAGER] = key_of[manager] if manager is not None else None
    return [employee_record(ids[key], key, values) for key, values in records.items()]
