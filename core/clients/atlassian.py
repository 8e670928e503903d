"""Atlassian accounts of the Jira site, with emails the profile settings hide filled in.

Jira user search lists every account but shows ``emailAddress`` only where the
person's profile visibility allows it. The organisation admin API sees the email of
every *managed* account, so when (and only when) some emails are hidden and an org API
key is configured, it fills them in. Unmanaged accounts may stay without an email.

The org list has no look-up by account id: finding one email may mean reading it to
its last page. :meth:`AtlassianDirectory.org_emails` therefore also says which of the
accounts asked about a whole list never named, so the run can remember that the org
does not manage them (:mod:`core.runs.hidden_emails` decides whose emails are worth
that read).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from core.clients.http import ApiClient
from core.errors import ApiError, NotFound
from core.sync import AtlassianAccount

SEARCH_PATH = "/rest/api/3/users/search"
SEARCH_PAGE_SIZE = 1000  # the endpoint's maximum
USER_PATH = "/rest/api/3/user"
USER_SEARCH_PATH = "/rest/api/3/user/search"


@dataclass(frozen=True)
class OrgEmails:
    """Emails the org admin list gave for the accounts asked about.

    ``not_managed``: accounts asked about that the list, read whole, never named.
    ``read``: whether the list was read at all (no org key, or nothing asked: False).
    """

    found: Mapping[str, str] = field(default_factory=dict)
    not_managed: frozenset[str] = frozenset()
    read: bool = False


class AtlassianDirectory:
    """Reads Jira's accounts; ``admin`` is an ApiClient for ``https://api.atlassian.com``."""

    def __init__(
        self, jira: ApiClient, admin: ApiClient | None = None, org_id: str | None = None
    ) -> None:
        self._jira = jira
        self._admin = admin
        self._org_id = org_id

    @property
    def reads_org(self) -> bool:
        """True when an org API key is configured, so hidden emails can be looked up."""
        return self._admin is not None and bool(self._org_id)

    def list_accounts(self) -> list[AtlassianAccount]:
        """Every ``atlassian`` account, active or not, sorted by account id.

        Every hidden email is looked up; a run asks only for those it needs
        (:meth:`search_accounts`, then :meth:`org_emails`).
        """
        accounts = self.search_accounts()
        hidden = {account.account_id for account in accounts if account.email is None}
        return with_emails(accounts, self.org_emails(hidden).found)

    def search_accounts(self) -> list[AtlassianAccount]:
        """Every ``atlassian`` account as Jira shows it (hidden emails are None), by id."""
        accounts = [parse_account(raw) for raw in self._search_pages() if _is_person(raw)]
        return sorted(accounts, key=lambda account: account.account_id)

    def probe(self) -> int:
        """One account of the user search: proves the token and the Browse permission.

        Returns how many came back, 0 or 1. The account asking is itself a user, so an
        empty answer means some are hidden from it: Jira may answer that way, rather
        than 403, to an account without the Browse users and groups permission.
        """
        page = self._jira.get_json(SEARCH_PATH, params={"startAt": 0, "maxResults": 1})
        if not isinstance(page, list):
            raise ApiError("jira", "user search did not answer with a list of users")
        return len(page)

    def probe_org(self) -> None:
        """One page of the organization's users: proves the org id and its API key."""
        if self._admin is not None and self._org_id:
            self._admin.get_json(_org_users_path(self._org_id))

    def org_emails(self, wanted: Collection[str]) -> OrgEmails:
        """The emails of the ``wanted`` account ids the org admin API knows.

        Pages are read until every wanted email is known or the list ends; nothing is
        read when nothing is wanted or no org key is configured.
        """
        if self._admin is None or not self._org_id or not wanted:
            return OrgEmails()
        found, not_managed = _admin_emails(self._admin, self._org_id, set(wanted))
        return OrgEmails(found, not_managed=not_managed, read=True)

    def account(self, account_id: str, *, fill_email: bool = True) -> AtlassianAccount | None:
        """One account by id (any state), or None when Jira knows no such account.

        Its email is filled from the org admin API when Jira hides it, unless
        ``fill_email`` is False (the caller may not need it: see :meth:`fill_emails`).
        """
        try:
            raw = self._jira.get_json(USER_PATH, params={"accountId": account_id})
        except NotFound:
            return None
        if not isinstance(raw, dict) or not _is_person(raw):
            return None
        account = parse_account(raw)
        return self._fill_hidden_emails([account])[0] if fill_email else account

    def fill_emails(self, accounts: list[AtlassianAccount]) -> list[AtlassianAccount]:
        """The accounts with hidden emails filled from the org admin API where it knows them."""
        if all(account.email is not None for account in accounts):
            return accounts
        return self._fill_hidden_emails(accounts)

    def accounts_with_email(self, email: str) -> list[AtlassianAccount]:
        """Active accounts whose visible email is ``email`` in any letter case.

        Jira's user search prefix-matches names and visible emails, so the answer is
        filtered to exact addresses here; hidden emails are never found this way.
        """
        params: dict[str, str | int] = {"query": email, "maxResults": SEARCH_PAGE_SIZE}
        page = self._jira.get_json(USER_SEARCH_PATH, params=params)
        if not isinstance(page, list):
            raise ApiError("jira", "user search did not answer with a list of users")
        found = [parse_account(raw) for raw in page if isinstance(raw, dict) and _is_person(raw)]
        return [a for a in found if a.email and a.email.lower() == email.lower()]

    def _search_pages(self) -> Iterator[Mapping[str, Any]]:
        """Page user search until an empty page.

        The answer is a bare array with no total, and Jira may cap a page below
        ``maxResults``: stopping at the first short page could miss people, and every
        Employee after that point would look like an account that no longer exists.
        """
        start = 0
        while True:
            params = {"startAt": start, "maxResults": SEARCH_PAGE_SIZE}
            page = self._jira.get_json(SEARCH_PATH, params=params)
            if not isinstance(page, list):
                raise ApiError("jira", "user search did not answer with a list of users")
            if not page:
                return
            yield from (raw for raw in page if isinstance(raw, dict))
            start += len(page)

    def _fill_hidden_emails(self, accounts: list[AtlassianAccount]) -> list[AtlassianAccount]:
        """Emails from the org admin API, only for accounts whose email Jira hid."""
        hidden = {account.account_id for account in accounts if account.email is None}
        return with_emails(accounts, self.org_emails(hidden).found)


def with_emails(
    accounts: Sequence[AtlassianAccount], found: Mapping[str, str]
) -> list[AtlassianAccount]:
    """``accounts`` with the hidden emails in ``found`` filled in; a shown one stays."""
    return [
        replace(account, email=found[account.account_id], email_from_admin=True)
        if account.email is None and account.account_id in found
        else account
        for account in accounts
    ]


def _admin_emails(
    admin: ApiClient, org_id: str, wanted: set[str]
) -> tuple[dict[str, str], frozenset[str]]:
    """Follow ``links.next`` until it ends, or until every wanted email is known.

    Returns the emails found and the wanted accounts the organisation does not
    manage: those the list never named, when it was read whole (to its last page,
    listing as many users as its ``meta.total`` says). An empty, cut-short or
    spoiled list proves nothing, and an account listed without an email is managed.
    """
    found: dict[str, str] = {}
    listed: set[str] = set()
    total: object = None
    path: str | None = _org_users_path(org_id)
    while path and len(found) < len(wanted):
        page = admin.get_json(path)
        for raw in page.get("data") or []:
            account_id, email = raw.get("account_id"), raw.get("email")
            listed.add(str(account_id))
            if account_id in wanted and email:
                found[str(account_id)] = str(email)
        total = (page.get("meta") or {}).get("total")
        path = (page.get("links") or {}).get("next") or None
    whole = path is None and bool(listed) and total == len(listed)
    return found, frozenset(wanted - listed) if whole else frozenset()


def _org_users_path(org_id: str) -> str:
    return f"/admin/v1/orgs/{org_id}/users"


def _is_person(raw: Mapping[str, Any]) -> bool:
    """Apps, customers and unknown accounts are never Employees."""
    return raw.get("accountType") == "atlassian"


def parse_account(raw: Mapping[str, Any]) -> AtlassianAccount:
    """An account from a user search item; an empty ``emailAddress`` means hidden."""
    return AtlassianAccount(
        account_id=str(raw["accountId"]),
        display_name=str(raw.get("displayName") or ""),
        email=raw.get("emailAddress") or None,
        active=bool(raw.get("active")),
    )
