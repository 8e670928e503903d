"""Which hidden Atlassian emails are worth an org admin read, and what a run remembers.

Jira hides the email of an account whose profile says so; the org admin user list
shows it for accounts the organisation manages, but it cannot be asked for one
account: finding an email may mean reading every page of it. So a run asks only for
emails that can change the plan, in two steps:

1. before the directory read, for the active accounts no owned Employee holds
   (:func:`core.sync.linked_account_ids`): they are matched by email, and their
   emails also pick which directory users a ``$batch`` read looks up;
2. after it, for an account an owned Employee holds whose directory user has no
   ``mail``: the Employee's Email is then the account's (see the planner's
   ``_desired``), so a hidden one must still be looked up to plan as before.

An account held by an owned Employee whose directory user has a mail is matched by
its id and its Email comes from the directory: its hidden email changes nothing the
plan writes, so it is not looked up. The one thing it could still touch is the
shared-address check, which would need another active account on that very address;
an Atlassian account's address is its login, unique to it.

When the list was read whole, the accounts asked for that it never named are not
managed by the organisation: they are remembered in the database and not asked for
again for :data:`RECHECK_UNMANAGED` (a domain can be verified later), so a site with
a few outside accounts does not read the whole list on every run. Any read error
stops the run before a write, as every read does.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import timedelta

from core.clients import AtlassianDirectory, with_emails
from core.store import Store
from core.sync import AtlassianAccount, DirectoryUser, EmployeeRecord, linked_account_ids

RECHECK_UNMANAGED = timedelta(days=7)
Say = Callable[[str], None]


def for_matching(
    accounts: Sequence[AtlassianAccount], employees: Sequence[EmployeeRecord]
) -> set[str]:
    """Active accounts with a hidden email that no owned Employee holds."""
    linked = linked_account_ids(employees)
    return {a.account_id for a in accounts if a.active and a.email is None} - linked


def for_email_values(
    accounts: Sequence[AtlassianAccount],
    employees: Sequence[EmployeeRecord],
    users: Iterable[DirectoryUser],
) -> set[str]:
    """Hidden accounts an owned Employee holds whose directory user has no mail."""
    hidden = {a.account_id for a in accounts if a.email is None}
    mailless = {u.id for u in users if not u.mail}
    return {
        account_id
        for e in employees
        if (account_id := e.atlassian_account_id) in hidden and e.entra_user_id in mailless
    }


class HiddenEmails:
    """One run's org admin look-ups; an account is asked for at most once a run."""

    def __init__(self, atlassian: AtlassianDirectory, store: Store, say: Say) -> None:
        self._atlassian = atlassian
        self._store = store
        self._say = say
        self._asked: set[str] = set()

    def fill(
        self, accounts: Sequence[AtlassianAccount], wanted: Collection[str]
    ) -> tuple[AtlassianAccount, ...]:
        """``accounts`` with the ``wanted`` hidden emails the organisation shows."""
        if not self._atlassian.reads_org or not wanted:
            return tuple(accounts)
        skipped = self._store.unmanaged_accounts(self._store.now() - RECHECK_UNMANAGED)
        ask = set(wanted) - skipped - self._asked
        self._asked |= ask
        if not ask:
            return tuple(accounts)
        self._say(f"Looking up {len(ask)} hidden emails in the organisation")
        answer = self._atlassian.org_emails(ask)
        self._store.forget_unmanaged(answer.found)
        self._store.remember_unmanaged(sorted(answer.not_managed))
        return tuple(with_emails(accounts, answer.found))
