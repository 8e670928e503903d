"""One person, explained: the service behind ``entra-sync explain`` and ``/entra explain``.

It reads what a preview reads (the same :meth:`SyncService.read_snapshot`), hands it
to the pure :func:`core.sync.explain_person`, and adds the person's stored history.
Nothing is written and no run lease is taken: a person can be explained while a sync
runs. A query that is an email nobody's account uses is also asked of Entra ID
directly, so a directory user with no Atlassian account can still be explained.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from core.clients import with_emails
from core.errors import FieldProblem, InvalidInput
from core.runs.service import SyncService
from core.store import PersonWrite
from core.sync import Answer, DirectoryUser, Explanation, Person, explain_person

Say = Callable[[str], None]

MAX_QUERY = 254  # the longest an email address can be
RULE_EMPTY = "is empty: give an email, a name or an Atlassian account id"
RULE_LONG = f"is longer than {MAX_QUERY} characters"
RULE_CONTROL = "contains control characters"


@dataclass(frozen=True)
class PersonReport:
    """What ``explain`` shows: the answer, the person's stored writes, and the cost."""

    answer: Answer
    history: tuple[PersonWrite, ...]
    requests: dict[str, int]
    seconds: float


def check_query(query: str, name: str = "person") -> str:
    """The query, trimmed; :class:`InvalidInput` naming ``name`` and every broken rule."""
    text = query.strip()
    problems = []
    if not text:
        problems.append(FieldProblem(name, RULE_EMPTY))
    if len(text) > MAX_QUERY:
        problems.append(FieldProblem(name, RULE_LONG))
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        problems.append(FieldProblem(name, RULE_CONTROL))
    if problems:
        raise InvalidInput(problems)
    return text


class People:
    """Explain one person and show their history, over a :class:`SyncService`."""

    def __init__(self, service: SyncService) -> None:
        self._service = service

    def explain(self, query: str, say: Say = lambda _: None) -> PersonReport:
        """Read as a preview does (no lease, no writes) and explain the person ``query`` names."""
        text = check_query(query)
        service = self._service
        before, started = service.clients.counter.snapshot(), time.monotonic()
        snapshot = service.read_snapshot(say)
        directory = list(snapshot.directory.users)
        directory += self._asked_by_email(text, directory, say)
        accounts = snapshot.accounts
        answer = explain_person(text, accounts, directory, snapshot.employees, service.policy)
        hidden = _hidden_account_ids(answer)
        if hidden:  # the run skips what cannot change its plan; a person asked about sees it
            say("Asking the organization for their hidden email")
            found = service.clients.atlassian().org_emails(hidden).found
            if found:
                accounts = tuple(with_emails(accounts, found))
                answer = explain_person(
                    text, accounts, directory, snapshot.employees, service.policy
                )
        history = self.writes(answer.person) if isinstance(answer, Explanation) else ()
        after = service.clients.counter.snapshot()
        requests = {k: n for k, v in after.items() if (n := v - before.get(k, 0))}
        return PersonReport(answer, tuple(history), requests, round(time.monotonic() - started, 3))

    def _asked_by_email(
        self, text: str, directory: list[DirectoryUser], say: Say
    ) -> list[DirectoryUser]:
        """Directory users an email query names that the sync's read did not include."""
        address = text.lower()
        if "@" not in address or any(address in u.email_keys() for u in directory):
            return []
        say("Asking Entra ID for that email")
        known = {u.id for u in directory}
        found = self._service.clients.directory().lookup([address], [])
        return [u for u in found if u.id not in known]

    def writes(self, person: Person) -> list[PersonWrite]:
        """The stored writes for this person's Employees, newest first."""
        return self._service.store.person_writes(person.entra_user_ids, person.object_keys)

    def history(self, query: str) -> list[PersonWrite]:
        """Stored writes for a person named by Entra User ID, Employee key or name.

        Reads only the database: an email or account id is matched against the values
        the writes set, and then every write for the Entra User IDs found is shown.
        """
        text = check_query(query)
        store = self._service.store
        found = store.person_writes([text], [text.upper(), text], label=text, mentions=text)
        ids = {w.outcome.entra_user_id for w in found}
        return store.person_writes(ids) if ids else []


def _hidden_account_ids(answer: Answer) -> set[str]:
    """The person's active accounts whose email the run left hidden."""
    if not isinstance(answer, Explanation):
        return set()
    return {a.account_id for a in answer.accounts if a.email is None and a.active}
