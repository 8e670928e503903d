"""The planner: a pure function from what was read to the :class:`~core.sync.plan.Plan`.

No I/O, no logging, no clock: the same inputs in any order give the same plan and
so the same fingerprint, which is what lets a person approve a preview and the
scheduler apply exactly that. Identity (who is who) is decided in
:mod:`core.sync.matching`; this module turns each identified person into desired values,
diffs them against the Employee they already have, and explains what it cannot link.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from core.sync.matching import Index, Matching, build_index, match_accounts
from core.sync.models import ATTR_ORDER, AtlassianAccount, Attr, DirectoryUser, EmployeeRecord
from core.sync.plan import (
    Create,
    FieldChange,
    Inactivation,
    InactivationReason,
    ManagerGap,
    MissingManager,
    Plan,
    PlanStats,
    PlanWarning,
    Update,
    WarningCode,
)

__all__ = ["SyncPolicy", "build_plan"]

Values = dict[Attr, str | None]


@dataclass(frozen=True)
class SyncPolicy:
    """Choices an organisation makes about what is synced.

    ``include_guests=False`` stops new Employees being created for guests; Employees
    the sync already owns for guests are still kept up to date and inactivated, since
    leaving them stale would be worse than either.
    """

    include_guests: bool = True  # guests are synced, with a warning each


@dataclass(frozen=True)
class _Row:
    """One Employee as it will be after the plan: an owned one or one to create."""

    entra_user_id: str
    account: AtlassianAccount | None
    user: DirectoryUser | None
    employee: EmployeeRecord | None

    @property
    def synced(self) -> bool:
        """An active account with an enabled directory user: the Employee is active."""
        return (
            self.account is not None
            and self.account.active
            and self.user is not None
            and self.user.account_enabled
        )

    @property
    def label(self) -> str:
        if self.employee is not None:
            return self.employee.label
        name = self.user.display_name if self.user is not None else None
        return name or self.entra_user_id


@dataclass(frozen=True)
class _ManagerLink:
    """Where a user's Manager points, or why it cannot point anywhere."""

    manager_id: str | None = None
    manager_account_id: str | None = None
    gap: ManagerGap | None = None
    is_self: bool = False
    set_aside: bool = False  # the manager's Employee is set aside: Manager stays as stored


_NO_MANAGER = _ManagerLink()

_Change = Create | Update | Inactivation


def build_plan(
    accounts: Sequence[AtlassianAccount],
    directory: Sequence[DirectoryUser],
    employees: Sequence[EmployeeRecord],
    policy: SyncPolicy = SyncPolicy(),
) -> Plan:
    """Plan the writes that bring Employees in line with Entra ID and Atlassian."""
    index = build_index(accounts, directory, employees)
    matching = match_accounts(index, policy.include_guests)
    rows = _rows(index, matching)
    linked = {r.entra_user_id: r.account.account_id for r in rows if r.account is not None}
    links = {
        r.entra_user_id: _manager_link(r.user, linked, index, matching.set_aside)
        for r in rows
        if r.user
    }
    changes = [c for r in rows if (c := _change(r, links.get(r.entra_user_id), index))]
    creates = [c for c in changes if isinstance(c, Create)]
    updates = [c for c in changes if isinstance(c, Update)]
    inactivations = [c for c in changes if isinstance(c, Inactivation)]
    warnings = [
        *matching.warnings,
        *_row_warnings(rows, links),
        *_cycle_warnings(links, index),
        *_set_aside_warnings(employees),
    ]
    return Plan(
        creates=tuple(sorted(creates, key=lambda c: (c.label, c.entra_user_id))),
        updates=tuple(sorted(updates, key=lambda u: (u.label, u.entra_user_id, u.object_key))),
        inactivations=tuple(
            sorted(inactivations, key=lambda i: (i.label, i.entra_user_id, i.object_key))
        ),
        unmatched=tuple(
            sorted(matching.unmatched, key=lambda u: (u.display_name, u.account_id, u.reason))
        ),
        missing_managers=_missing_managers(rows, links, index),
        warnings=tuple(sorted(set(warnings), key=lambda w: (w.subject, w.code, w.message))),
        stats=PlanStats(
            atlassian_accounts=sum(1 for a in accounts if a.active),
            directory_users=len(directory),
            owned_employees=sum(1 for e in employees if e.is_owned),
        ),
        manager_names=_manager_names(changes, index),
    )


def _rows(index: Index, matching: Matching) -> list[_Row]:
    """Every owned Employee (with its account, if any) plus one row per new match."""
    rows: list[_Row] = []
    for entra_id, employee in index.owned.items():
        account = matching.linked.get(entra_id) or index.accounts.get(
            employee.atlassian_account_id or ""
        )
        rows.append(_Row(entra_id, account, index.users.get(entra_id), employee))
    for entra_id, account in matching.linked.items():
        if entra_id not in index.owned:
            rows.append(_Row(entra_id, account, index.users[entra_id], None))
    return rows


def _manager_link(
    user: DirectoryUser,
    linked: Mapping[str, str],
    index: Index,
    set_aside: Mapping[str, EmployeeRecord],
) -> _ManagerLink:
    """Link the directory manager only if they are (or will be) an Employee with an account.

    Assets can only reference an object that exists, and Employees exist only for
    people with an Atlassian account, so anyone else is reported instead of linked.
    A manager whose Employee is set aside (an unusable Entra User ID) is neither: the
    Manager fields stay as they are until that Employee is put right.
    """
    ref = user.manager
    if ref is None:
        return _NO_MANAGER
    if ref.is_contact or ref.id not in index.users:  # a user is always in index.users
        return _ManagerLink(gap=ManagerGap.CONTACT if ref.is_contact else ManagerGap.NOT_FOUND)
    if ref.id == user.id:
        return _ManagerLink(is_self=True)
    if ref.id in set_aside:
        return _ManagerLink(set_aside=True)
    if ref.id not in linked:
        return _ManagerLink(gap=ManagerGap.NO_ATLASSIAN_ACCOUNT)
    return _ManagerLink(ref.id, linked[ref.id])


def _change(row: _Row, link: _ManagerLink | None, index: Index) -> _Change | None:
    """The one change (if any) this row needs: a create, an update or an inactivation."""
    desired = _desired(row, link or _NO_MANAGER)
    if row.employee is None:
        if _enabled_unknown(row):
            return None  # created once Graph says whether the account is enabled
        values = tuple((attr, desired.get(attr)) for attr in ATTR_ORDER)
        return Create(row.entra_user_id, row.label, values)
    employee = row.employee
    changes = _diff(employee, desired, index)
    reason = _inactivation_reason(row)
    if reason is not None and _normal(Attr.ACTIVE, employee.get(Attr.ACTIVE)) != "false":
        return Inactivation(
            employee.object_id, employee.object_key, row.entra_user_id, row.label, reason, changes
        )
    if not changes:
        return None
    return Update(employee.object_id, employee.object_key, row.entra_user_id, row.label, changes)


def _desired(row: _Row, link: _ManagerLink) -> Values:
    """The values the Employee should hold; attributes we cannot know are left out.

    With no directory user only Active is known. With no Atlassian account the
    account fields are left as stored. Email falls back to what is stored when both
    the directory and a hidden profile give nothing, so a hidden email never blanks it.
    """
    user, account = row.user, row.account
    if user is None:
        return {Attr.ACTIVE: "false"}
    stored_email = row.employee.get(Attr.EMAIL) if row.employee is not None else None
    values: Values = {
        Attr.ENTRA_USER_ID: user.id,
        Attr.FULL_NAME: user.display_name or None,
        Attr.EMAIL: user.mail or (account.email if account else None) or stored_email,
        Attr.JOB_TITLE: user.job_title or None,
        Attr.DEPARTMENT: user.department or None,
        Attr.ACTIVE: "true" if row.synced else "false",
        Attr.MANAGER: link.manager_id,
        Attr.MANAGER_ACCOUNT_ID: link.manager_account_id,
    }
    if account is not None:
        values[Attr.ATLASSIAN_ACCOUNT_ID] = account.account_id
        values[Attr.JIRA_USER] = account.account_id
    if link.set_aside:
        del values[Attr.MANAGER], values[Attr.MANAGER_ACCOUNT_ID]
    return _without_unknown(values, row)


def _without_unknown(values: Values, row: _Row) -> Values:
    """Leave out what Graph did not tell us, so a gap in its answer changes nothing.

    Active stays only when the Atlassian side decides it (an inactive or missing
    account makes the Employee inactive whatever the directory says).
    """
    assert row.user is not None
    unknown = set(row.user.unknown) - {Attr.EMAIL}  # Email already falls back above
    if Attr.ACTIVE in unknown and row.account is not None and not row.account.active:
        unknown.discard(Attr.ACTIVE)
    return {attr: value for attr, value in values.items() if attr not in unknown}


def _enabled_unknown(row: _Row) -> bool:
    return row.user is not None and Attr.ACTIVE in row.user.unknown


def _diff(employee: EmployeeRecord, desired: Values, index: Index) -> tuple[FieldChange, ...]:
    """The fields whose stored value differs from the desired one, in attribute order."""
    changes: list[FieldChange] = []
    for attr in ATTR_ORDER:
        if attr not in desired:
            continue
        before, after = _stored(employee, attr, index), desired[attr]
        if _normal(attr, before) != _normal(attr, after):
            changes.append(FieldChange(attr, before, after))
    return tuple(changes)


def _stored(employee: EmployeeRecord, attr: Attr, index: Index) -> str | None:
    """The stored value in plan terms: Manager is held as an object key, compared as an id."""
    value = employee.get(attr)
    if attr is Attr.MANAGER:
        return index.entra_by_key.get(value) if value else None
    return value


def _normal(attr: Attr, value: str | None) -> str | None:
    """Assets returns empty strings for unset values and may capitalise booleans."""
    if not value:
        return None
    return value.lower() if attr is Attr.ACTIVE else value


def _inactivation_reason(row: _Row) -> InactivationReason | None:
    """Why this Employee must not be active, most fundamental cause first."""
    if row.user is None:
        return InactivationReason.DIRECTORY_GONE
    if not row.user.account_enabled:
        return InactivationReason.DIRECTORY_DISABLED
    if row.account is None:
        return InactivationReason.ATLASSIAN_GONE
    if not row.account.active:
        return InactivationReason.ATLASSIAN_INACTIVE
    return None


def _missing_managers(
    rows: Iterable[_Row], links: Mapping[str, _ManagerLink], index: Index
) -> tuple[MissingManager, ...]:
    """Synced users whose directory manager cannot be referenced, and why."""
    missing: list[MissingManager] = []
    for row in rows:
        link = links.get(row.entra_user_id)
        if not row.synced or row.user is None or link is None or link.gap is None:
            continue
        ref = row.user.manager
        assert ref is not None  # a gap is only ever found for a set manager
        known = index.users.get(ref.id)
        name = ref.display_name or (known.display_name if known else None)
        missing.append(MissingManager(row.entra_user_id, row.label, ref.id, name, link.gap))
    return tuple(sorted(missing, key=lambda m: (m.label, m.entra_user_id)))


def _row_warnings(rows: Iterable[_Row], links: Mapping[str, _ManagerLink]) -> list[PlanWarning]:
    """Things an admin should know about people who are being synced."""
    warnings: list[PlanWarning] = []
    for row in rows:
        if row.employee is None and _enabled_unknown(row):
            message = (
                f"Graph did not say whether {row.entra_user_id} is enabled; the Employee is "
                "created once it does"
            )
            warnings.append(PlanWarning(WarningCode.UNKNOWN_STATE, row.label, message))
        if not row.synced or row.user is None:
            continue
        user, label = row.user, row.label
        if user.is_guest:
            warnings.append(PlanWarning(WarningCode.GUEST, label, f"guest user {user.id} synced"))
        if not user.mail:
            message = f"{user.id} has no mail in Entra ID; Email is the Atlassian account's"
            warnings.append(PlanWarning(WarningCode.NO_MAIL, label, message))
        link = links.get(row.entra_user_id)
        if link is not None and link.is_self:
            message = f"{user.id} is their own manager in Entra ID; Manager left empty"
            warnings.append(PlanWarning(WarningCode.MANAGER_CYCLE, label, message))
    return warnings


def _set_aside_warnings(employees: Iterable[EmployeeRecord]) -> list[PlanWarning]:
    """One warning per Employee whose Entra User ID cannot be a directory id.

    Its value names nobody in Entra ID: sent to Graph it would read as a deleted user
    and inactivate the Employee. It is left as it is instead, and named here.
    """
    warnings: list[PlanWarning] = []
    for employee in employees:
        stored = employee.unusable_entra_user_id
        if stored is None:
            continue
        shown = stored if len(stored) <= 60 else stored[:57] + "..."
        message = (
            f"Employee {employee.object_key} has Entra User ID {shown!r}, which is not a "
            "directory object id (a GUID); it is left as it is, and so is any Manager "
            "pointing to it. Put the person's Object ID from Entra ID back in Assets."
        )
        warnings.append(PlanWarning(WarningCode.UNUSABLE_ENTRA_USER_ID, employee.label, message))
    return warnings


def _cycle_warnings(links: Mapping[str, _ManagerLink], index: Index) -> list[PlanWarning]:
    """One warning per manager cycle among the links we would write."""
    edges = {eid: link.manager_id for eid, link in links.items() if link.manager_id}
    warnings: list[PlanWarning] = []
    for cycle in _cycles(edges):
        names = [index.users[eid].display_name if eid in index.users else eid for eid in cycle]
        message = "manager cycle: " + " -> ".join([*names, names[0]])
        warnings.append(PlanWarning(WarningCode.MANAGER_CYCLE, names[0], message))
    return warnings


def _cycles(edges: Mapping[str, str]) -> list[tuple[str, ...]]:
    """Cycles in a graph where each node has at most one out-edge (its manager).

    Every node is walked at most once overall (``done``), so this is linear and always
    terminates, whatever shape the directory's data takes.
    """
    done: set[str] = set()
    cycles: list[tuple[str, ...]] = []
    for start in sorted(edges):
        path: list[str] = []
        position: dict[str, int] = {}
        node: str | None = start
        while node is not None and node not in done and node not in position:
            position[node] = len(path)
            path.append(node)
            node = edges.get(node)
        if node is not None and node in position:
            members = path[position[node] :]
            first = members.index(min(members))
            cycles.append(tuple(members[first:] + members[:first]))
        done.update(path)
    return cycles


def _manager_names(changes: Iterable[_Change], index: Index) -> tuple[tuple[str, str], ...]:
    """Display names for every manager id a change mentions, so a preview reads well."""
    ids: set[str] = set()
    for change in changes:
        if isinstance(change, Create):
            ids.add(change.get(Attr.MANAGER) or "")
        else:
            for fc in change.changes:
                if fc.attr is Attr.MANAGER:
                    ids.update((fc.before or "", fc.after or ""))
    names: list[tuple[str, str]] = []
    for entra_id in ids - {""}:
        name = _display_name(entra_id, index)
        if name:
            names.append((entra_id, name))
    return tuple(sorted(names, key=lambda pair: (pair[1], pair[0])))


def _display_name(entra_id: str, index: Index) -> str | None:
    user = index.users.get(entra_id)
    if user is not None and user.display_name:
        return user.display_name
    employee = index.owned.get(entra_id)
    return employee.label if employee is not None else None
