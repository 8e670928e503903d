"""Jira user search (bare arrays), the workspace lookup and the org admin user list."""

from __future__ import annotations

from typing import Any

import httpx

from core.sandbox import SANDBOX_ORG_API_KEY, SANDBOX_ORG_ID, Sandbox
from tests.sandbox.conftest import API, JIRA, SITE_AUTH


def _jira_users(site: httpx.Client, page: int) -> tuple[list[dict[str, Any]], int]:
    users: list[dict[str, Any]] = []
    start, calls = 0, 0
    while True:
        batch = site.get(
            f"{JIRA}/rest/api/3/users/search", params={"startAt": start, "maxResults": page}
        ).json()
        calls += 1
        assert isinstance(batch, list)
        users += batch
        if len(batch) < page:
            return users, calls
        start += page


def test_jira_pages_are_bare_arrays(site: httpx.Client, sandbox: Sandbox) -> None:
    users, calls = _jira_users(site, 10)
    assert len(users) == len(sandbox.atlassian_accounts) == 49
    assert calls == 5
    kinds = {u["accountType"] for u in users}
    assert kinds == {"atlassian", "app", "customer"}
    assert any(u["active"] is False for u in users)


def test_jira_max_results_is_capped_at_1000() -> None:
    sandbox = Sandbox(people=1500, atlassian=1200)
    with httpx.Client(transport=sandbox.transport(), headers={"Authorization": SITE_AUTH}) as site:
        page = site.get(f"{JIRA}/rest/api/3/users/search?maxResults=5000").json()
        assert len(page) == 1000
        assert len(site.get(f"{JIRA}/rest/api/3/users/search").json()) == 50


def test_hidden_emails_are_omitted(site: httpx.Client, sandbox: Sandbox) -> None:
    hidden = set(sandbox.org.notes["hidden_managed"] + sandbox.org.notes["hidden_unmanaged"])
    users, _ = _jira_users(site, 100)
    for user in users:
        assert ("emailAddress" in user) == (
            user["accountId"] not in hidden and user["accountType"] != "app"
        )


def test_jira_requires_basic_auth(client: httpx.Client) -> None:
    response = client.get(f"{JIRA}/rest/api/3/users/search")
    assert response.status_code == 401
    assert response.json()["errorMessages"]


def test_workspace(site: httpx.Client, sandbox: Sandbox) -> None:
    body = site.get(f"{JIRA}/rest/servicedeskapi/assets/workspace").json()
    assert body["values"] == [{"workspaceId": sandbox.org.workspace_id}]
    assert body["isLastPage"] is True


def test_admin_cursor_paging_lists_managed_accounts_only() -> None:
    sandbox = Sandbox(people=300, atlassian=250)
    headers = {"Authorization": f"Bearer {SANDBOX_ORG_API_KEY}"}
    users: list[dict[str, Any]] = []
    pages = 0
    url: str | None = f"{API}/admin/v1/orgs/{SANDBOX_ORG_ID}/users"
    with httpx.Client(transport=sandbox.transport(), headers=headers) as admin:
        while url:
            body = admin.get(url).json()
            users += body["data"]
            pages += 1
            url = body["links"].get("next")
    managed = [a for a in sandbox.atlassian_accounts.values() if a.managed]
    assert pages == 3
    assert len(users) == len(managed) > 200
    by_id = {u["account_id"]: u for u in users}
    for account_id in sandbox.org.notes["hidden_managed"]:
        assert by_id[account_id]["email"] == sandbox.atlassian_accounts[account_id].email
    assert sandbox.org.notes["hidden_unmanaged"][0] not in by_id
    assert not set(sandbox.org.notes["guest_accounts"]) & by_id.keys()
    statuses = {by_id[a]["account_status"] for a in sandbox.org.notes["inactive_accounts"]}
    assert statuses == {"inactive"}


def test_admin_requires_the_org_key(client: httpx.Client) -> None:
    url = f"{API}/admin/v1/orgs/{SANDBOX_ORG_ID}/users"
    assert client.get(url).status_code == 401
    assert client.get(url, headers={"Authorization": SITE_AUTH}).status_code == 401
    wrong_org = client.get(
        f"{API}/admin/v1/orgs/other/users",
        headers={"Authorization": f"Bearer {SANDBOX_ORG_API_KEY}"},
    )
    assert wrong_org.status_code == 404


def test_one_user_by_account_id(site: httpx.Client, sandbox: Sandbox) -> None:
    """Any state and type; unknown is 404 and a missing parameter 400, as Jira answers."""
    inactive = sandbox.org.notes["inactive_accounts"][0]
    answer = site.get(f"{JIRA}/rest/api/3/user", params={"accountId": inactive})
    assert answer.status_code == 200
    assert answer.json()["accountId"] == inactive and answer.json()["active"] is False
    hidden = sandbox.org.notes["hidden_managed"][0]
    assert (
        "emailAddress"
        not in site.get(f"{JIRA}/rest/api/3/user", params={"accountId": hidden}).json()
    )
    assert site.get(f"{JIRA}/rest/api/3/user", params={"accountId": "nope"}).status_code == 404
    assert site.get(f"{JIRA}/rest/api/3/user").status_code == 400


def test_user_search_prefix_matches_names_and_visible_emails(
    site: httpx.Client, sandbox: Sandbox
) -> None:
    """Active accounts only; a hidden email is never matched; words of names match."""

    def found(query: str) -> set[str]:
        answer = site.get(f"{JIRA}/rest/api/3/user/search", params={"query": query})
        assert answer.status_code == 200
        return {u["accountId"] for u in answer.json()}

    lower, upper = sandbox.org.notes["case_duplicate_accounts"]
    email = sandbox.atlassian_accounts[lower].email or ""
    assert found(email.upper()) == {lower, upper}
    hidden = sandbox.atlassian_accounts[sandbox.org.notes["hidden_managed"][0]]
    assert hidden.account_id not in found(hidden.email or "")
    inactive = sandbox.atlassian_accounts[sandbox.org.notes["inactive_accounts"][0]]
    assert inactive.account_id not in found(inactive.email or "")
    surname = sandbox.atlassian_accounts[lower].display_name.split()[-1]
    assert lower in found(surname[:3])
    assert site.get(f"{JIRA}/rest/api/3/user/search").status_code == 400
