"""Atlassian accounts of the Jira site, with emails the profile settings hide filled in.

Jira user search lists every account but shows ``emailAddress`` only where the
person's profile visibility allows it. The organisation admin API sees the email of
every *managed* account, so when (and only when) some emails are hidden and an org API
key is configured, it fills them in. Unmanaged accounts may stay without an email.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from core.clients.http import ApiClient
from core.errors import ApiError, NotFound
from core.sync import AtlassianAccount

SEARCH_PATH = "/rest/api/3/users/search"
SEARCH_PAGE_SIZE = 1000  # the endpoint's maximum
USER_PATH = "/rest/api/3/user"
USER_SEARCH_PATH = "/rest/api/3/user/search"


class AtlassianDirectory:
    """Reads Jira's accounts; ``admin`` is an ApiClient for ``https://api.atlassian.com``."""

    def __init__(
        self, jira: ApiClient, admin: ApiClient | None = None, org_id: str | None = None
    ) -> None:
        self._jira = jira
        self._admin = admin
        self._org_id = org_id

    def list_accounts(self) -> list[AtlassianAccount]:
        """Every ``atlassian`` account, active or not, sorted by account id."""
        accounts = [parse_account(raw) for raw in self._search_pages() if _is_person(raw)]
        if any(account.email is None for account in accounts):
            accounts = self._fill_hidden_emails(accounts)
        return sorted(accounts, key=lambda account: account.account_id)

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
        if self._admin is None or not self._org_id:
            return accounts
        hidden = {account.account_id for account in accounts if account.email is None}
        found = _admin_emails(self._admin, self._org_id, hidden)
        return [
            replace(account, email=found[account.account_id], email_from_admin=True)
            if account.account_id in found
            else account
            for account in accounts
        ]


def _admin_emails(admin: ApiClient, org_id: str, wanted: set[str]) -> dict[str, str]:
    """Follow ``links.next`` until it ends, or until every wanted email is known."""
    found: dict[str, str] = {}
    path: str | None = f"/admin/v1/orgs/{org_id}/users"
    while path and len(found) < len(wanted):
        page = admin.get_json(path)
        for raw in page.get("data") or []:
            account_id, email = raw.get("account_id"), raw.get("email")
            if account_id in wanted and email:
                found[str(account_id)] = str(email)
        path = (page.get("links") or {}).get("next") or None
    return found


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
