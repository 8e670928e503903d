"""Who is who: pairs active Atlassian accounts with directory users and Employees.

This is the half of the planner that decides identity; :mod:`core.sync.planner` then turns
the pairs into changes. Everything here is pure and order-independent: wherever a
choice must be made between equals, the lowest key wins, so a shuffled input gives
the same answer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from core.sync.models import AtlassianAccount, DirectoryUser, EmployeeRecord
from core.sync.plan import PlanWarning, Unmatched, UnmatchedReason, WarningCode


def object_key_order(key: str) -> tuple[str, int, str]:
    """Sort key for object keys, numeric-aware, so ``ENTRA-9`` comes before ``ENTRA-10``.

    "The lowest object key" should mean the oldest object, which a plain string sort
    gets wrong once keys reach two digits.
    """
    prefix, sep, number = key.rpartition("-")
    if sep and number.isdigit():
        return prefix, int(number), key
    return key, -1, key


def owned_keys(employees: Iterable[EmployeeRecord]) -> dict[str, tuple[str, str]]:
    """(object id, key) per Entra User ID; the oldest object wins for a duplicate.

    "Oldest" is the lowest key by :func:`object_key_order`, the same choice the planner
    makes, so the applier writes to the Employee the plan was built from.
    """
    keys: dict[str, tuple[str, str]] = {}
    for record in sorted(employees, key=lambda r: object_key_order(r.object_key)):
        if record.entra_user_id and record.entra_user_id not in keys:
            keys[record.entra_user_id] = (record.object_id, record.object_key)
    return keys


@dataclass(frozen=True)
class Index:
    """Lookups built once from the raw inputs, with duplicates already resolved.

    ``owned`` holds one Employee per Entra User ID (the lowest key) and ``by_account``
    one per account id; the Employees that lose either contest are left alone and
    recorded in ``foreign_accounts`` / ``left_alone`` so we never write a value that
    would collide with them.
    """

    users: Mapping[str, DirectoryUser]
    by_email: Mapping[str, tuple[str, ...]]
    accounts: Mapping[str, AtlassianAccount]
    owned: Mapping[str, EmployeeRecord]
    by_account: Mapping[str, EmployeeRecord]
    foreign_accounts: Mapping[str, EmployeeRecord]
    left_alone: frozenset[str]
    entra_by_key: Mapping[str, str | None]
    warnings: tuple[PlanWarning, ...]


@dataclass(frozen=True)
class Matching:
    """The outcome of matching: Entra User ID -> the active account it is synced with.

    ``set_aside`` maps a directory user to the Employee that holds their account but
    whose Entra User ID is unusable (see :class:`EmployeeRecord`): neither is synced,
    and a Manager pointing to that person is left as it is.
    """

    linked: Mapping[str, AtlassianAccount]
    unmatched: tuple[Unmatched, ...]
    warnings: tuple[PlanWarning, ...]
    set_aside: Mapping[str, EmployeeRecord]


def build_index(
    accounts: Sequence[AtlassianAccount],
    directory: Sequence[DirectoryUser],
    employees: Sequence[EmployeeRecord],
) -> Index:
    """Index the inputs; duplicate owned Employees are resolved here, with warnings."""
    users = _users_by_id(directory)
    owned, left_by_entra, warnings = _canonical_by_entra(employees)
    by_account, left_by_account, more = _canonical_by_account(owned.values())
    for entra_id in {e.entra_user_id for e in left_by_account}:
        if entra_id is not None:
            owned.pop(entra_id, None)
    left = [*left_by_entra, *left_by_account]
    unowned = [e for e in employees if not e.is_owned]
    return Index(
        users=users,
        by_email=_email_index(users.values()),
        accounts=_accounts_by_id(accounts),
        owned=owned,
        by_account=by_account,
        foreign_accounts=_by_account_id([*unowned, *left]),
        left_alone=frozenset(
            entra_id for e in left if (entra_id := e.entra_user_id) and entra_id not in owned
        ),
        entra_by_key={e.object_key: e.entra_user_id for e in employees},
        warnings=(*warnings, *more),
    )


def _users_by_id(directory: Sequence[DirectoryUser]) -> dict[str, DirectoryUser]:
    """One user per id; if the reader returned an id twice, keep the fuller entry.

    A reader that fetches users by email and managers by id may return the same
    person as a full entry and as a minimal manager entry.
    """
    users: dict[str, DirectoryUser] = {}
    for user in sorted(directory, key=_fullness):
        users[user.id] = user
    return users


def _fullness(user: DirectoryUser) -> tuple[int, str]:
    filled = sum(1 for v in (user.mail, user.department, user.job_title, user.manager) if v)
    return filled + len(user.proxy_addresses), repr(user)


def _email_index(users: Iterable[DirectoryUser]) -> dict[str, tuple[str, ...]]:
    """Every lower-cased address -> the ids of all users answering to it."""
    found: dict[str, set[str]] = defaultdict(set)
    for user in users:
        for key in user.email_keys():
            found[key].add(user.id)
    return {key: tuple(sorted(ids)) for key, ids in found.items()}


def _accounts_by_id(accounts: Sequence[AtlassianAccount]) -> dict[str, AtlassianAccount]:
    """One account per id; an active reading wins over an inactive one."""
    ordered = sorted(accounts, key=lambda a: (a.active, a.email is not None, repr(a)))
    return {a.account_id: a for a in ordered}


def _by_account_id(employees: Iterable[EmployeeRecord]) -> dict[str, EmployeeRecord]:
    ordered = sorted(employees, key=lambda e: object_key_order(e.object_key), reverse=True)
    return {e.atlassian_account_id: e for e in ordered if e.atlassian_account_id}


def _canonical_by_entra(
    employees: Sequence[EmployeeRecord],
) -> tuple[dict[str, EmployeeRecord], list[EmployeeRecord], list[PlanWarning]]:
    """Keep the lowest-key owned Employee per Entra User ID; warn about the rest."""
    groups: dict[str, list[EmployeeRecord]] = defaultdict(list)
    for employee in employees:
        if employee.entra_user_id is not None:
            groups[employee.entra_user_id].append(employee)
    return _pick_lowest(groups, "Entra User ID")


def _canonical_by_account(
    owned: Iterable[EmployeeRecord],
) -> tuple[dict[str, EmployeeRecord], list[EmployeeRecord], list[PlanWarning]]:
    """Keep the lowest-key Employee per account id, so one account drives one object."""
    groups: dict[str, list[EmployeeRecord]] = defaultdict(list)
    for employee in owned:
        if employee.atlassian_account_id is not None:
            groups[employee.atlassian_account_id].append(employee)
    return _pick_lowest(groups, "Atlassian Account ID")


def _pick_lowest(
    groups: Mapping[str, list[EmployeeRecord]], what: str
) -> tuple[dict[str, EmployeeRecord], list[EmployeeRecord], list[PlanWarning]]:
    kept: dict[str, EmployeeRecord] = {}
    left: list[EmployeeRecord] = []
    warnings: list[PlanWarning] = []
    for value, group in groups.items():
        ordered = sorted(group, key=lambda e: object_key_order(e.object_key))
        kept[value] = ordered[0]
        if len(ordered) > 1:
            left.extend(ordered[1:])
            others = ", ".join(e.object_key for e in ordered[1:])
            warnings.append(
                PlanWarning(
                    WarningCode.DUPLICATE_OWNED_OBJECT,
                    ordered[0].label,
                    f"{len(ordered)} Employees have {what} {value}; syncing "
                    f"{ordered[0].object_key} and leaving {others} alone",
                )
            )
    return kept, left, warnings


def match_accounts(index: Index, include_guests: bool) -> Matching:
    """Pair each active account with a directory user: account id first, then email.

    Hard links (an owned Employee already holding the account id) are never
    re-decided by email, so an address moving to another person cannot move an
    Employee to them.
    """
    active = sorted((a for a in index.accounts.values() if a.active), key=lambda a: a.account_id)
    linked: dict[str, AtlassianAccount] = {}
    for account in active:
        employee = index.by_account.get(account.account_id)
        entra_id = employee.entra_user_id if employee is not None else None
        if entra_id is not None and entra_id in index.owned:
            linked[entra_id] = account
    hard = {a.account_id for a in linked.values()}
    newcomers = [a for a in active if a.account_id not in hard]
    shared, warnings = _shared_emails(active)
    unmatched: list[Unmatched] = []
    claims: dict[str, list[AtlassianAccount]] = defaultdict(list)
    set_aside: dict[str, EmployeeRecord] = {}
    for account in newcomers:
        found = _resolve_email(account, index, shared)
        if isinstance(found, Unmatched):
            unmatched.append(found)
        else:
            claims[found.id].append(account)
    for user_id, claimants in sorted(claims.items()):
        outcome = _claim(index.users[user_id], claimants, index, linked, include_guests)
        unmatched.extend(u for u in outcome if isinstance(u, Unmatched))
        warnings.extend(w for w in outcome if isinstance(w, PlanWarning))
        set_aside.update((user_id, e) for e in outcome if isinstance(e, EmployeeRecord))
    return Matching(linked, tuple(unmatched), (*index.warnings, *warnings), set_aside)


def _shared_emails(
    active: Sequence[AtlassianAccount],
) -> tuple[frozenset[str], list[PlanWarning]]:
    """Addresses used by several active accounts, with one warning per address.

    Matching such an address would be a guess between people (or between a person's
    two accounts), so none of the unlinked accounts using it is matched.
    """
    groups: dict[str, list[AtlassianAccount]] = defaultdict(list)
    for account in active:
        if account.email:
            groups[account.email.lower()].append(account)
    warnings: list[PlanWarning] = []
    for address, group in groups.items():
        if len(group) < 2:
            continue
        spellings = {a.email for a in group}
        code = WarningCode.CASE_VARIANT_EMAIL if len(spellings) > 1 else WarningCode.DUPLICATE_EMAIL
        ids = ", ".join(sorted(a.account_id for a in group))
        warnings.append(
            PlanWarning(code, address, f"{len(group)} active Atlassian accounts use it: {ids}")
        )
    shared = frozenset(address for address, group in groups.items() if len(group) > 1)
    return shared, warnings


def _resolve_email(
    account: AtlassianAccount, index: Index, shared: frozenset[str]
) -> DirectoryUser | Unmatched:
    """The one directory user an unlinked account's email points to, or why not."""
    if not account.email:
        return _unmatched(account, UnmatchedReason.EMAIL_HIDDEN)
    address = account.email.lower()
    if address in shared:
        return _unmatched(account, UnmatchedReason.SHARED_EMAIL)
    ids = index.by_email.get(address, ())
    if not ids:
        return _unmatched(account, UnmatchedReason.NO_DIRECTORY_USER)
    if len(ids) > 1:
        return _unmatched(account, UnmatchedReason.AMBIGUOUS, "directory users " + ", ".join(ids))
    return index.users[ids[0]]


def _claim(
    user: DirectoryUser,
    claimants: Sequence[AtlassianAccount],
    index: Index,
    linked: dict[str, AtlassianAccount],
    include_guests: bool,
) -> list[Unmatched | PlanWarning | EmployeeRecord]:
    """Link ``user`` to its single claimant, unless something already holds either side.

    An Employee set aside for an unusable Entra User ID that holds the account is
    returned: it is reported on its own (see the planner), not as a conflict.
    """
    if user.id in linked or user.id in index.left_alone:
        holder = linked[user.id].account_id if user.id in linked else "an Employee left alone"
        detail = f"{user.display_name} ({user.id}) is linked to {holder}"
        return [_unmatched(a, UnmatchedReason.ALREADY_LINKED, detail) for a in claimants]
    if len(claimants) > 1:
        detail = f"{len(claimants)} active accounts' emails point to {user.id}"
        return [_unmatched(a, UnmatchedReason.SHARED_EMAIL, detail) for a in claimants]
    account = claimants[0]
    if user.is_guest and not include_guests and user.id not in index.owned:
        message = f"guest {user.id} not synced: guests are excluded by the sync policy"
        return [PlanWarning(WarningCode.GUEST, user.display_name, message)]
    holder_record = index.foreign_accounts.get(account.account_id)
    if holder_record is not None and holder_record.unusable_entra_user_id is not None:
        return [holder_record]
    if holder_record is not None:
        message = (
            f"account {account.account_id} not linked: Employee {holder_record.object_key}, "
            "which the sync does not own, already holds it"
        )
        return [PlanWarning(WarningCode.UNOWNED_OBJECT_CONFLICT, user.display_name, message)]
    linked[user.id] = account
    return []


def _unmatched(account: AtlassianAccount, reason: UnmatchedReason, detail: str = "") -> Unmatched:
    return Unmatched(account.account_id, account.display_name, account.email, reason, detail)
