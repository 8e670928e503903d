"""What syncing one person needs to read, and nothing more.

A whole read costs a request per thousand accounts and per hundred directory users;
syncing one person should cost a handful. The read follows the person outward:

1. the Assets Employee type: the ids a whole run kept (:mod:`core.runs.assets_ids`),
   checked against the attributes the next query's answer lists; only on a cold
   database, or when they prove stale, the workspace and three schema reads;
2. one AQL query for their Employee (by email, or by the account id asked for);
3. one Jira read for their account: the account their Employee holds (in any state),
   or, for someone not linked yet, Jira's user search on their address, which lists
   every active account on it, so a shared address is seen as shared (asked for by
   account id, a newcomer costs this one read more);
4. one Graph ``$batch``: the users answering to the email or to the Employees' Entra
   User IDs (managers expanded), and those users' direct reports;
5. one AQL query for the Employees of them, their manager and their reports (and of
   whoever stored Manager fields name), so a Manager field reads as a person, not a key.

In the sandbox's organisation that is at most ten requests for every planted case,
asked for by email or by account id, sign-in included (a process after a whole run
reuses its sign-in too: tests/e2e/test_sync_person.py).

The planner then runs on these few rows with its usual rules, and
:func:`core.sync.person_plan` keeps only this person's writes and the manager links
pointing at them. A manager's Atlassian account is taken from the manager's Employee:
Jira keeps every account it ever had (user search lists deleted ones too), so the
account id an Employee holds names a real account, and whether it is active changes
where nobody's Manager points.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from core.clients import AssetsClient, DirectoryRead, EmployeeType
from core.clients.assets import aql_string
from core.errors import FieldProblem, InvalidInput
from core.runs.assets_ids import EmployeeIds
from core.runs.explain import check_query
from core.runs.values import Snapshot
from core.runs.wiring import Clients
from core.sync import AtlassianAccount, Attr, EmployeeRecord, Person, is_directory_object_id

Say = Callable[[str], None]

RULE_WHO = (
    "must be an email or an Atlassian account id to sync one person (`explain` finds them by name)"
)
MAX_ACCOUNT_ID = 128


@dataclass(frozen=True)
class PersonSnapshot:
    """The few rows one person's plan is made from, and the ids that make them *them*."""

    snapshot: Snapshot
    person: Person


def read_person(clients: Clients, query: str, say: Say = lambda _: None) -> PersonSnapshot:
    """Read what one person's sync needs; any read error raises before a write."""
    text = check_query(query)
    by_email = "@" in text
    if not by_email and not _looks_like_account_id(text):
        raise InvalidInput([FieldProblem("person", RULE_WHO)])
    kept = EmployeeIds(clients, say)
    kind = kept.employee_type()
    jira = clients.atlassian()
    say("Reading their Employee and Atlassian account")
    if by_email:
        kind, found = kept.where(kind, _either(Attr.EMAIL, [], {text}))
        employees = _Employees(found)
        held = employees.account_ids(owned=True)
        accounts = _Accounts(
            [a for i in sorted(held) if (a := jira.account(i, fill_email=False)) is not None]
            if held  # linked already: the account the Employee holds, in any state
            else jira.accounts_with_email(text)  # a newcomer: everyone on that address
        )
    else:
        accounts = _Accounts(_one(jira.account(text, fill_email=False)))
        condition = _either(Attr.ATLASSIAN_ACCOUNT_ID, accounts.ids() or {text}, set())
        kind, found = kept.where(kind, condition)
        employees = _Employees(found)
        if not employees.holds(accounts.ids()):  # a newcomer: its email is how it matches
            accounts = _Accounts(jira.fill_emails(accounts.all()))
            for email in sorted({a.email.lower() for a in accounts.all() if a.email}):
                accounts.extend(jira.accounts_with_email(email))  # is the address shared?
    emails = {text.lower()} if by_email else set()
    emails |= {a.email.lower() for a in accounts.all() if a.email}
    assets = clients.assets()
    say("Reading the directory")
    users, reports = clients.directory().person(sorted(emails), sorted(employees.entra_ids()))
    mine = {u.id for u in users if u.email_keys() & emails} | employees.entra_ids()
    if any(not u.mail for u in users if u.id in mine):  # Email then falls back to the account's
        accounts = _Accounts(jira.fill_emails(accounts.all()))
    managers = {u.manager.id for u in users if u.id in mine and u.manager is not None}
    wanted = (managers | {r.id for r in reports} | mine) - employees.entra_ids()
    asked = employees.foreign_manager_keys()
    employees.add(_related(assets, kind, wanted, asked, accounts.ids() - employees.account_ids()))
    if employees.foreign_manager_keys() - asked:  # a report's Manager names someone else
        employees.add(_related(assets, kind, set(), employees.foreign_manager_keys() - asked))
    person = Person(
        entra_user_ids=frozenset(mine),
        object_keys=frozenset(employees.keys_of(mine, accounts.ids())),
        account_ids=frozenset(accounts.ids()),
    )
    accounts.extend(employees.manager_accounts(managers - mine))
    directory = DirectoryRead((*users, *reports), "lookup", len(users) + len(reports))
    snapshot = Snapshot(kind, tuple(accounts.all()), directory, employees.all())
    return PersonSnapshot(snapshot, person)


def _looks_like_account_id(text: str) -> bool:
    """Atlassian account ids: letters, digits, ``:`` and ``-`` (``557058:...``), no spaces.

    A directory object id (a GUID) is not one: refused, rather than asked of Jira in vain.
    """
    if is_directory_object_id(text):
        return False
    return len(text) <= MAX_ACCOUNT_ID and all(ch.isalnum() or ch in ":-_" for ch in text)


def _one(account: AtlassianAccount | None) -> list[AtlassianAccount]:
    return [account] if account is not None else []


def _either(attr: Attr, values: Iterable[str], emails: Iterable[str]) -> str:
    """``attr IN (...) OR Email IN (...)``: an AQL condition with no empty list in it."""
    parts = []
    listed = sorted(set(values))
    if listed:
        parts.append(f'"{attr.value}" IN ({", ".join(aql_string(v) for v in listed)})')
    mails = sorted(set(emails))
    if mails:
        parts.append(f'"{Attr.EMAIL.value}" IN ({", ".join(aql_string(v) for v in mails)})')
    return " OR ".join(parts) or 'Key = "-"'


def _related(
    assets: AssetsClient,
    kind: EmployeeType,
    entra_ids: set[str],
    keys: set[str],
    account_ids: Iterable[str] = (),
) -> list[EmployeeRecord]:
    """Employees by Entra User ID, by key, or holding one of these accounts."""
    parts = []
    if account_ids:
        listed = ", ".join(aql_string(v) for v in sorted(set(account_ids)))
        parts.append(f'"{Attr.ATLASSIAN_ACCOUNT_ID.value}" IN ({listed})')
    if entra_ids:
        listed = ", ".join(aql_string(v) for v in sorted(entra_ids))
        parts.append(f'"{Attr.ENTRA_USER_ID.value}" IN ({listed})')
    if keys:
        parts.append(f"Key IN ({', '.join(aql_string(k) for k in sorted(keys))})")
    if not parts:
        return []
    return assets.employees_where(kind, " OR ".join(parts))


class _Accounts:
    """Accounts by id, first reading kept."""

    def __init__(self, accounts: Iterable[AtlassianAccount]) -> None:
        self._by_id: dict[str, AtlassianAccount] = {}
        self.extend(accounts)

    def add(self, account: AtlassianAccount | None) -> None:
        if account is not None:
            self._by_id.setdefault(account.account_id, account)

    def extend(self, accounts: Iterable[AtlassianAccount]) -> None:
        for account in accounts:
            self.add(account)

    def ids(self) -> set[str]:
        return set(self._by_id)

    def all(self) -> list[AtlassianAccount]:
        return list(self._by_id.values())


class _Employees:
    """Employees by object key, in the order read."""

    def __init__(self, records: Iterable[EmployeeRecord]) -> None:
        self._by_key: dict[str, EmployeeRecord] = {}
        self.add(records)

    def add(self, records: Iterable[EmployeeRecord]) -> None:
        for record in records:
            self._by_key.setdefault(record.object_key, record)

    def all(self) -> tuple[EmployeeRecord, ...]:
        return tuple(self._by_key.values())

    def entra_ids(self) -> set[str]:
        return {e.entra_user_id for e in self._by_key.values() if e.entra_user_id}

    def account_ids(self, *, owned: bool = False) -> set[str]:
        return {
            a
            for e in self._by_key.values()
            if (a := e.atlassian_account_id) and (e.is_owned or not owned)
        }

    def holds(self, account_ids: set[str]) -> bool:
        """An owned Employee already holds one of these accounts (a hard link)."""
        return any(
            e.is_owned and e.atlassian_account_id in account_ids for e in self._by_key.values()
        )

    def foreign_manager_keys(self) -> set[str]:
        """Keys that stored Manager fields name but that were not read yet."""
        named = {m for e in self._by_key.values() if (m := e.get(Attr.MANAGER))}
        return named - set(self._by_key)

    def manager_accounts(self, managers: set[str]) -> list[AtlassianAccount]:
        """Stand-ins for the managers' accounts, from the account ids their Employees hold."""
        return [
            AtlassianAccount(account_id, e.label, None, active=False)
            for e in self._by_key.values()
            if e.entra_user_id in managers and (account_id := e.atlassian_account_id)
        ]

    def keys_of(self, entra_ids: set[str], account_ids: set[str]) -> set[str]:
        return {
            e.object_key
            for e in self._by_key.values()
            if e.entra_user_id in entra_ids or e.atlassian_account_id in account_ids
        }
