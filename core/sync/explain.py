"""One person, explained: who they are on each side and what the next sync does for them.

IT staff ask about one person far more often than about a whole plan. This module
answers from the same two sources a sync uses, :func:`~core.sync.matching.match_accounts`
for identity and :func:`~core.sync.planner.build_plan` for changes, and only reads
their results: it holds no rule of its own about who is matched or what is written,
so the explanation can never disagree with the next sync.

Pure: no I/O. :mod:`core.runs.explain` reads, calls :func:`explain_person` and adds
the person's history.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from core.sync.matching import Index, Matching, build_index, match_accounts
from core.sync.models import AtlassianAccount, Attr, DirectoryUser, EmployeeRecord
from core.sync.person import Person, person_plan
from core.sync.plan import (
    FieldChange,
    Plan,
    UnmatchedReason,
)
from core.sync.planner import SyncPolicy, build_plan

__all__ = [
    "AccountFacts",
    "Answer",
    "ChangeFacts",
    "Choice",
    "EmployeeFacts",
    "Explanation",
    "ManagerFacts",
    "NotFound",
    "UserFacts",
    "explain_person",
    "match_how",
]

MIN_NAME = 2


@dataclass(frozen=True, slots=True)
class AccountFacts:
    account_id: str
    display_name: str
    email: str | None
    active: bool
    email_source: str  # "visible", "filled from the org admin API" or "hidden"


@dataclass(frozen=True, slots=True)
class UserFacts:
    """A directory user and how the person's account(s) reached them."""

    id: str
    display_name: str
    user_principal_name: str
    mail: str | None
    enabled: bool
    guest: bool
    how: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class EmployeeFacts:
    object_key: str
    owned: bool
    values: tuple[tuple[str, str | None], ...]


@dataclass(frozen=True, slots=True)
class ManagerFacts:
    """The directory manager one level up, and whether an Employee can point at them."""

    id: str
    display_name: str | None
    account_id: str | None
    object_key: str | None
    link: str


@dataclass(frozen=True, slots=True)
class ChangeFacts:
    """One write the next sync makes for this person (or for a report pointing at them)."""

    kind: str  # create, update, inactivate
    label: str
    object_key: str | None
    changes: tuple[FieldChange, ...]
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Explanation:
    query: str
    accounts: tuple[AccountFacts, ...]
    users: tuple[UserFacts, ...]
    employees: tuple[EmployeeFacts, ...]
    managers: tuple[ManagerFacts, ...]
    changes: tuple[ChangeFacts, ...]
    rules: tuple[str, ...]
    person: Person = field(default_factory=Person)

    @property
    def label(self) -> str:
        names = [a.display_name for a in self.accounts] + [u.display_name for u in self.users]
        names += [v or "" for e in self.employees for a, v in e.values if a == Attr.FULL_NAME]
        return next((n for n in names if n), self.query)

    @property
    def nothing(self) -> bool:
        return not self.changes


@dataclass(frozen=True, slots=True)
class Choice:
    """One of several people a name matched; ``ask`` is what to ask for next."""

    label: str
    ask: str
    detail: str


@dataclass(frozen=True, slots=True)
class NotFound:
    query: str
    choices: tuple[Choice, ...] = ()  # set when the query matched several people


Answer = Explanation | NotFound


def explain_person(
    query: str,
    accounts: Sequence[AtlassianAccount],
    directory: Sequence[DirectoryUser],
    employees: Sequence[EmployeeRecord],
    policy: SyncPolicy | None = None,
) -> Answer:
    """Explain the one person ``query`` names (email, name, account id or Employee key).

    A query that reaches several people returns :class:`NotFound` with ``choices``.
    """
    policy = policy or SyncPolicy()
    index = build_index(accounts, directory, employees)
    matching = match_accounts(index, policy.include_guests)
    plan = build_plan(accounts, directory, employees, policy)
    graph = _Graph.of(index, employees)
    groups = graph.groups(_seeds(query.strip(), index, employees))
    if len(groups) != 1:
        return NotFound(query, tuple(_choice(g, index, graph) for g in groups))
    return _explain(query, group=groups[0], index=index, matching=matching, plan=plan, graph=graph)


# -- who the query names -------------------------------------------------------------------


def _seeds(query: str, index: Index, employees: Sequence[EmployeeRecord]) -> set[str]:
    """Nodes (``a:``, ``u:``, ``e:`` + id) the query names directly."""
    lowered = query.casefold()
    if "@" in query:
        found = {f"a:{a.account_id}" for a in index.accounts.values() if _same(a.email, query)}
        found |= {f"u:{uid}" for uid in index.by_email.get(query.lower(), ())}
        found |= {f"e:{e.object_key}" for e in employees if _same(e.get(Attr.EMAIL), query)}
        return found
    exact = {f"a:{query}"} if query in index.accounts else set()
    exact |= {f"u:{lowered}"} if lowered in index.users else set()
    exact |= {f"e:{e.object_key}" for e in employees if e.object_key.casefold() == lowered}
    if exact or len(lowered) < MIN_NAME:
        return exact
    found = {f"a:{a.account_id}" for a in index.accounts.values() if lowered in _fold(a)}
    found |= {f"u:{u.id}" for u in index.users.values() if lowered in u.display_name.casefold()}
    found |= {f"e:{e.object_key}" for e in employees if lowered in e.label.casefold()}
    return found


def _same(a: str | None, b: str) -> bool:
    return a is not None and a.lower() == b.lower()


def _fold(account: AtlassianAccount) -> str:
    return account.display_name.casefold()


@dataclass(frozen=True)
class _Graph:
    """Who is tied to whom: an account to the users its email reaches and to the
    Employee holding it, a user to the Employee holding its Entra User ID."""

    edges: Mapping[str, frozenset[str]]
    employees: Mapping[str, EmployeeRecord]

    @classmethod
    def of(cls, index: Index, employees: Sequence[EmployeeRecord]) -> _Graph:
        edges: dict[str, set[str]] = defaultdict(set)

        def tie(a: str, b: str) -> None:
            edges[a].add(b)
            edges[b].add(a)

        for account in index.accounts.values():
            for uid in index.by_email.get((account.email or "").lower(), ()):
                tie(f"a:{account.account_id}", f"u:{uid}")
        for employee in employees:
            node = f"e:{employee.object_key}"
            if employee.atlassian_account_id:
                tie(node, f"a:{employee.atlassian_account_id}")
            entra = employee.entra_user_id or (employee.unusable_entra_user_id or "").lower()
            if entra:
                tie(node, f"u:{entra}")
        frozen = {k: frozenset(v) for k, v in edges.items()}
        return cls(frozen, {e.object_key: e for e in employees})

    def groups(self, seeds: Iterable[str]) -> list[frozenset[str]]:
        """The people the seeds belong to, each as its set of nodes, in a stable order."""
        left, groups = set(seeds), []
        while left:
            start = min(left)
            group, todo = {start}, [start]
            while todo:
                for nxt in self.edges.get(todo.pop(), frozenset()):
                    if nxt not in group:
                        group.add(nxt)
                        todo.append(nxt)
            left -= group
            groups.append(frozenset(group))
        return groups


def _ids(group: Iterable[str], kind: str) -> list[str]:
    return sorted(node[2:] for node in group if node.startswith(kind))


def _choice(group: frozenset[str], index: Index, graph: _Graph) -> Choice:
    accounts = [index.accounts[a] for a in _ids(group, "a:") if a in index.accounts]
    users = [index.users[u] for u in _ids(group, "u:") if u in index.users]
    keys = _ids(group, "e:")
    names = [u.display_name for u in users] + [a.display_name for a in accounts]
    names += [graph.employees[k].label for k in keys]
    label = next((n for n in names if n), "(no name)")
    if accounts:
        ask = accounts[0].email or accounts[0].account_id
    elif users:
        ask = users[0].mail or users[0].user_principal_name
    else:
        ask = keys[0]
    detail = ", ".join(
        [*(f"account {a.account_id}" for a in accounts), *(f"Employee {k}" for k in keys)]
    )
    return Choice(label, ask, detail or "directory user only")


# -- what is known about them ---------------------------------------------------------------


def _explain(
    query: str,
    *,
    group: frozenset[str],
    index: Index,
    matching: Matching,
    plan: Plan,
    graph: _Graph,
) -> Explanation:
    accounts = [index.accounts[a] for a in _ids(group, "a:") if a in index.accounts]
    users = [index.users[u] for u in _ids(group, "u:") if u in index.users]
    records = [graph.employees[k] for k in _ids(group, "e:")]
    person = Person(
        entra_user_ids=frozenset(_ids(group, "u:")),
        object_keys=frozenset(_ids(group, "e:")),
        account_ids=frozenset(a.account_id for a in accounts),
    )
    mine = person_plan(plan, person)
    return Explanation(
        query=query,
        accounts=tuple(_account_facts(a) for a in accounts),
        users=tuple(_user_facts(u, accounts, matching, index) for u in users),
        employees=tuple(_employee_facts(e) for e in records),
        managers=tuple(m for u in users if (m := _manager(u, index, matching)) is not None),
        changes=_changes(mine, person),
        rules=_rules(
            person,
            accounts=accounts,
            users=users,
            records=records,
            index=index,
            plan=plan,
            mine=mine,
        ),
        person=person,
    )


def _account_facts(account: AtlassianAccount) -> AccountFacts:
    if account.email is None:
        source = "hidden"
    elif account.email_from_admin:
        source = "filled from the org admin API"
    else:
        source = "visible"
    return AccountFacts(
        account.account_id, account.display_name, account.email, account.active, source
    )


def match_how(address: str, user: DirectoryUser) -> str | None:
    """How an address reaches ``user``: mail, UPN or smtp alias, and whether only in
    other letter case. None when it does not reach them at all."""
    candidates: list[tuple[str, str | None]] = [
        ("mail", user.mail),
        ("user principal name", user.user_principal_name),
    ]
    for proxy in user.proxy_addresses:
        scheme, _, alias = proxy.partition(":")
        if scheme.lower() == "smtp":
            candidates.append(("smtp alias", alias))
    for name, value in candidates:
        if value and value == address:
            return name
    for name, value in candidates:
        if value and value.lower() == address.lower():
            return f"{name}, in other letter case"
    return None


def _user_facts(
    user: DirectoryUser, accounts: Sequence[AtlassianAccount], matching: Matching, index: Index
) -> UserFacts:
    """How each account reaches this user: through the Employee that already holds both
    (a link email can no longer move), by email now, or not at all and why not."""
    how: list[str] = []
    linked = matching.linked.get(user.id)
    held = index.owned.get(user.id)
    for account in accounts:
        found = match_how(account.email, user) if account.email else None
        also = f"; the account's email is their {found}" if found else ""
        if linked is not None and linked.account_id == account.account_id:
            if held is not None and held.atlassian_account_id == account.account_id:
                way = f"through Employee {held.object_key}, which holds both{also}"
            else:
                way = f"by email: the account's email is their {found}"
            how.append(f"linked to {account.account_id} {way}")
        elif found:
            how.append(f"email of {account.account_id} is their {found}, but not linked")
    return UserFacts(
        user.id,
        user.display_name,
        user.user_principal_name,
        user.mail,
        user.account_enabled,
        user.is_guest,
        tuple(how),
    )


def _employee_facts(record: EmployeeRecord) -> EmployeeFacts:
    values = tuple((attr.value, value) for attr, value in record.values)
    if record.unusable_entra_user_id is not None:
        values = ((Attr.ENTRA_USER_ID.value, record.unusable_entra_user_id), *values)
    return EmployeeFacts(record.object_key, record.is_owned, values)


def _manager(user: DirectoryUser, index: Index, matching: Matching) -> ManagerFacts | None:
    ref = user.manager
    if ref is None:
        return None
    known = index.users.get(ref.id)
    name = ref.display_name or (known.display_name if known else None)
    account = matching.linked.get(ref.id)
    employee = index.owned.get(ref.id)
    if ref.is_contact:
        link = "an organisational contact, never an Employee: Manager stays empty"
    elif ref.id == user.id:
        link = "their own manager in Entra ID: Manager stays empty"
    elif known is None:
        link = "not found in the directory: Manager stays empty"
    elif account is None:
        link = "has no Atlassian account (so no Employee): Manager stays empty"
    else:
        how = match_how(account.email, known) if account.email else None
        link = f"Atlassian account {account.account_id}" + (f" (matched by {how})" if how else "")
    key = employee.object_key if employee is not None else None
    return ManagerFacts(ref.id, name, account.account_id if account else None, key, link)


# -- what the next sync does ----------------------------------------------------------------


def _changes(mine: Plan, person: Person) -> tuple[ChangeFacts, ...]:
    facts: list[ChangeFacts] = []
    for create in mine.creates:
        changes = tuple(FieldChange(a, None, v) for a, v in create.values if v)
        facts.append(ChangeFacts("create", create.label, None, changes))
    for update in mine.updates:
        kind = "update" if person.has_change(update) else "manager link"
        facts.append(ChangeFacts(kind, update.label, update.object_key, update.changes))
    for off in mine.inactivations:
        facts.append(
            ChangeFacts("inactivate", off.label, off.object_key, off.changes, off.reason.value)
        )
    return tuple(facts)


def _rules(
    person: Person,
    *,
    accounts: Sequence[AtlassianAccount],
    users: Sequence[DirectoryUser],
    records: Sequence[EmployeeRecord],
    index: Index,
    plan: Plan,
    mine: Plan,
) -> tuple[str, ...]:
    """Every rule that decided what happens to this person, in plain words."""
    rules: list[str] = []
    if not accounts:
        rules.append(
            "No Atlassian account: an Employee is only made for a person with an active "
            "Atlassian account whose email reaches them in Entra ID."
        )
    if not users and accounts:
        rules.append("No directory user answers to their account's email.")
    rules += [_account_rule(a, plan, index) for a in accounts]
    for user in users:
        if not user.account_enabled:
            rules.append(f"{user.display_name}'s directory account is disabled: Active is false.")
    for record in records:
        if not record.is_owned:
            rules.append(
                f"Employee {record.object_key} is not owned by the sync (it has no usable "
                "Entra User ID), so the sync never changes it."
            )
    tokens = person.tokens() | {e.label for e in records} | {u.display_name for u in users}
    for warning in plan.warnings:
        if warning.subject in tokens or any(t in warning.message for t in person.tokens()):
            rules.append(warning.message)
    for gap in plan.missing_managers:
        if gap.entra_user_id in person.entra_user_ids:
            name = gap.manager_name or gap.manager_id
            rules.append(f"Manager left empty: {name}: {gap.reason.value}.")
    reports = [m for m in plan.missing_managers if m.manager_id in person.entra_user_ids]
    if reports:
        names = ", ".join(m.label for m in reports[:5]) + (", ..." if len(reports) > 5 else "")
        rules.append(
            f"{len(reports)} people's Manager stays empty because of this: "
            f"{reports[0].reason.value} ({names})."
        )
    rules += _write_rules(mine, person)
    if mine.is_empty:
        rules.append("The next sync changes nothing for them.")
    return tuple(dict.fromkeys(r for r in rules if r))


def _write_rules(mine: Plan, person: Person) -> list[str]:
    """Why each write is in the plan, in the planner's terms."""
    rules = [
        f"{c.label} has an active Atlassian account matched to an enabled directory user "
        "and no Employee yet: one is created."
        for c in mine.creates
    ]
    for update in mine.updates:
        fields = ", ".join(fc.attr.value for fc in update.changes)
        if person.has_change(update):
            rules.append(
                f"Employee {update.object_key} differs from Entra ID and Atlassian in "
                f"{fields}: the sync copies their values."
            )
        else:
            rules.append(
                f"{update.label} ({update.object_key}) reports to them in Entra ID: "
                f"their {fields} follows."
            )
    rules += [
        f"Employee {off.object_key} is inactivated (never deleted): {off.reason.value}."
        for off in mine.inactivations
    ]
    return rules


def _account_rule(account: AtlassianAccount, plan: Plan, index: Index) -> str:
    """Why this account is or is not linked, from the plan's unmatched list."""
    if not account.active:
        return f"Atlassian account {account.account_id} is inactive: never linked anew."
    for miss in plan.unmatched:
        if miss.account_id != account.account_id:
            continue
        detail = miss.detail
        if miss.reason is UnmatchedReason.AMBIGUOUS:
            ids = index.by_email.get((account.email or "").lower(), ())
            detail = " and ".join(f"{index.users[i].display_name} ({i})" for i in ids)
        if miss.reason is UnmatchedReason.EMAIL_HIDDEN:
            detail = "the org admin API did not reveal it (not an account of the organisation)"
        shown = f": {detail}" if detail else ""
        return f"Account {account.account_id} not linked: {miss.reason.value}{shown}."
    return ""
