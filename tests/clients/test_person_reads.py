"""The one-person reads against respx: one account, a search, a person's $batch, an AQL."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

import httpx
import respx

from core.clients import ApiClient, AtlassianDirectory, GraphDirectory, RequestCounter

from .conftest import ADMIN, JIRA, V1, graph_user, manager_of

USER = f"{JIRA}/rest/api/3/user"
SEARCH = f"{JIRA}/rest/api/3/user/search"
BATCH = f"{V1}/$batch"
ORG_USERS = f"{ADMIN}/admin/v1/orgs/org-1/users"


def jira_user(account_id: str, email: str | None, **overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "accountId": account_id,
        "accountType": "atlassian",
        "displayName": account_id.title(),
        "active": True,
    }
    if email:
        raw["emailAddress"] = email
    raw.update(overrides)
    return raw


def test_one_account_by_id_none_when_unknown_or_not_a_person(
    router: respx.MockRouter, jira_api: ApiClient
) -> None:
    directory = AtlassianDirectory(jira_api)
    router.get(USER, params={"accountId": "a-1"}).mock(
        return_value=httpx.Response(200, json=jira_user("a-1", "a@x.com", active=False))
    )
    router.get(USER, params={"accountId": "gone"}).mock(
        return_value=httpx.Response(404, json={"errorMessages": ["Specified user does not exist"]})
    )
    router.get(USER, params={"accountId": "bot"}).mock(
        return_value=httpx.Response(200, json=jira_user("bot", None, accountType="app"))
    )
    found = directory.account("a-1")
    assert found is not None and found.email == "a@x.com" and not found.active
    assert directory.account("gone") is None
    assert directory.account("bot") is None


def test_a_hidden_email_is_filled_only_when_asked(
    router: respx.MockRouter, jira_api: ApiClient, admin_api: ApiClient, counter: RequestCounter
) -> None:
    router.get(USER).mock(return_value=httpx.Response(200, json=jira_user("a-1", None)))
    admin = router.get(ORG_USERS).mock(
        return_value=httpx.Response(
            200, json={"data": [{"account_id": "a-1", "email": "a@x.com"}], "links": {}}
        )
    )
    directory = AtlassianDirectory(jira_api, admin_api, "org-1")
    hidden = directory.account("a-1", fill_email=False)
    assert hidden is not None and hidden.email is None and admin.call_count == 0
    filled = directory.fill_emails([hidden])[0]
    assert filled.email == "a@x.com" and filled.email_from_admin
    assert directory.fill_emails([filled]) == [filled] and admin.call_count == 1


def test_search_keeps_exact_addresses_in_any_case(
    router: respx.MockRouter, jira_api: ApiClient
) -> None:
    route = router.get(SEARCH).mock(
        return_value=httpx.Response(
            200,
            json=[
                jira_user("a-1", "ann@x.com"),
                jira_user("a-2", "ANN@x.com"),
                jira_user("a-3", "ann@x.com.au"),  # a prefix match, not the address
                jira_user("a-4", None),
                jira_user("app", "ann@x.com", accountType="app"),
            ],
        )
    )
    found = AtlassianDirectory(jira_api).accounts_with_email("Ann@X.com")
    assert sorted(a.account_id for a in found) == ["a-1", "a-2"]
    assert route.calls[0].request.url.params["query"] == "Ann@X.com"


def test_a_person_is_one_batch_with_reports_by_email_and_by_id(
    router: respx.MockRouter, graph_api: ApiClient, counter: RequestCounter
) -> None:
    """Users by email and id (managers as stand-ins) and their reports, in one request."""

    def answer(request: httpx.Request) -> httpx.Response:
        items = []
        for sub in json.loads(request.content)["requests"]:
            url = unquote(sub["url"])
            if "directReports?" in url:
                body: Any = {"value": [graph_user(3, **{"@odata.type": "#microsoft.graph.user"})]}
            elif "$expand=directReports" in url:
                reports = [graph_user(4), {"@odata.type": "#microsoft.graph.orgContact", "id": "c"}]
                body = {"value": [{"id": "u-0001", "directReports": reports}]}
            elif url.startswith("/users?"):
                body = {"value": [graph_user(1, manager=manager_of(9))]}
            else:
                body = graph_user(2)
            items.append({"id": sub["id"], "status": 200, "headers": {}, "body": body})
        return httpx.Response(200, json={"responses": items})

    route = router.post(BATCH).mock(side_effect=answer)
    users, reports = GraphDirectory(graph_api).person(["user1@contoso.com"], ["u-0002"])
    assert route.call_count == 1 and counter.snapshot() == {"graph": 1}
    assert {u.id for u in users} == {"u-0001", "u-0002", "u-0009"}
    by_id = {r.id: r for r in reports}
    assert set(by_id) == {"u-0003", "u-0004"}  # the contact is never an Employee
    assert by_id["u-0003"].manager is not None and by_id["u-0003"].manager.id == "u-0002"
    assert by_id["u-0004"].manager is not None and by_id["u-0004"].manager.id == "u-0001"


def test_twenty_expanded_reports_are_read_again_in_full(
    router: respx.MockRouter, graph_api: ApiClient
) -> None:
    """Graph expands at most 20: a list that long may be cut, so it is asked for by id."""

    def answer(request: httpx.Request) -> httpx.Response:
        items = []
        for sub in json.loads(request.content)["requests"]:
            url = unquote(sub["url"])
            if "directReports?" in url:
                body: Any = {"value": [graph_user(n) for n in range(100, 125)]}
            elif "$expand=directReports" in url:
                body = {
                    "value": [
                        {"id": "u-0001", "directReports": [graph_user(n) for n in range(100, 120)]}
                    ]
                }
            else:
                body = {"value": [graph_user(1)]}
            items.append({"id": sub["id"], "status": 200, "headers": {}, "body": body})
        return httpx.Response(200, json={"responses": items})

    route = router.post(BATCH).mock(side_effect=answer)
    _, reports = GraphDirectory(graph_api).person(["user1@contoso.com"], [])
    assert route.call_count == 2
    assert len(reports) == 25


def test_reports_of_a_deleted_user_are_none(router: respx.MockRouter, graph_api: ApiClient) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        items = [
            {"id": sub["id"], "status": 404, "headers": {}, "body": {"error": {"code": "x"}}}
            for sub in json.loads(request.content)["requests"]
        ]
        return httpx.Response(200, json={"responses": items})

    router.post(BATCH).mock(side_effect=answer)
    assert GraphDirectory(graph_api).person([], ["u-0002"]) == ([], [])
