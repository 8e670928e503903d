"""Graph /users: paging, projection, caps, filters, $count and $batch."""

from __future__ import annotations

from typing import Any

import httpx

from core.sandbox import Fault, Sandbox
from core.sync import GRAPH_CONTACT_TYPE, GRAPH_USER_TYPE
from tests.sandbox.conftest import GRAPH, issue_token

SELECT = "id,displayName,mail,userPrincipalName,accountEnabled,department"


def _all_pages(graph: httpx.Client, url: str) -> tuple[list[dict[str, Any]], int]:
    users: list[dict[str, Any]] = []
    pages = 0
    next_url: str | None = url
    while next_url:
        body = graph.get(next_url).json()
        assert "@odata.context" in body
        users += body["value"]
        pages += 1
        next_url = body.get("@odata.nextLink")
    return users, pages


def test_paging_to_the_end_with_select(graph: httpx.Client, sandbox: Sandbox) -> None:
    users, pages = _all_pages(graph, f"{GRAPH}/users?$select={SELECT}&$top=7")
    assert pages == 9  # 60 users in pages of 7
    assert [u["id"] for u in users] == list(sandbox.directory_users)
    assert set(users[0]) == set(SELECT.split(","))


def test_next_link_keeps_the_query(graph: httpx.Client) -> None:
    body = graph.get(f"{GRAPH}/users", params={"$select": "id,mail", "$top": "5"}).json()
    link = httpx.URL(body["@odata.nextLink"])
    assert link.params["$select"] == "id,mail"
    assert link.params["$top"] == "5"
    assert link.params["$skiptoken"]


def test_a_user_deleted_while_paging_shifts_nobody_off_the_listing(
    graph: httpx.Client, sandbox: Sandbox
) -> None:
    """Later pages follow the listing the first page began, as a server-side cursor:
    the deleted user is left out and everyone else is listed exactly once."""
    first = graph.get(f"{GRAPH}/users?$select=id&$top=7").json()
    gone = first["value"][2]["id"]
    sandbox.delete_user(gone)
    rest, _ = _all_pages(graph, first["@odata.nextLink"])
    listed = [u["id"] for u in first["value"] + rest]
    assert listed == [*list(sandbox.directory_users)[:2], gone, *list(sandbox.directory_users)[2:]]


def test_a_skiptoken_of_a_listing_long_since_begun_has_expired(graph: httpx.Client) -> None:
    """Only the latest 32 listings are kept for paging; an older one's link is refused."""
    links = [graph.get(f"{GRAPH}/users?$top=7").json()["@odata.nextLink"] for _ in range(33)]
    assert graph.get(links[-1]).status_code == 200
    expired = graph.get(links[0])
    assert expired.status_code == 400
    assert expired.json()["error"]["message"] == "'$skiptoken' is malformed or has expired."
    assert graph.get(f"{GRAPH}/users?$skiptoken=RFNwdAInotbase64").status_code == 400


def test_default_property_set_lacks_account_enabled(graph: httpx.Client) -> None:
    user = graph.get(f"{GRAPH}/users?$top=1").json()["value"][0]
    assert "accountEnabled" not in user
    assert "department" not in user
    assert {"id", "displayName", "mail", "userPrincipalName"} <= user.keys()


def test_top_above_999_is_refused(graph: httpx.Client) -> None:
    response = graph.get(f"{GRAPH}/users?$top=1000")
    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive."
    )
    assert graph.get(f"{GRAPH}/users?$top=999").status_code == 200


def test_expand_caps_pages_at_100() -> None:
    sandbox = Sandbox(people=250, atlassian=100)
    with httpx.Client(transport=sandbox.transport()) as graph:
        graph.headers["Authorization"] = f"Bearer {issue_token(graph)}"
        expand = "manager($select=id,displayName,mail,userPrincipalName)"
        url = f"{GRAPH}/users?$top=999&$expand={expand}"
        first = graph.get(url).json()
        assert len(first["value"]) == 100
        users, pages = _all_pages(graph, url)
        assert (len(users), pages) == (250, 3)
        plain = graph.get(f"{GRAPH}/users?$top=999").json()
        assert len(plain["value"]) == 250


def test_expanded_manager_types(graph: httpx.Client, sandbox: Sandbox) -> None:
    notes = sandbox.org.notes
    users, _ = _all_pages(graph, f"{GRAPH}/users?$expand=manager($select=id,displayName)")
    by_id = {u["id"]: u for u in users}
    assert "manager" not in by_id[notes["ceo"][0]]
    head = by_id[notes["department_heads"][0]]
    assert head["manager"] == {
        "@odata.type": GRAPH_USER_TYPE,
        "id": notes["ceo"][0],
        "displayName": sandbox.directory_users[notes["ceo"][0]].display_name,
    }
    contact_managed = by_id[notes["contact_manager_users"][0]]
    assert contact_managed["manager"]["@odata.type"] == GRAPH_CONTACT_TYPE
    assert contact_managed["manager"]["id"] == notes["org_contacts"][0]


def test_filter_by_alias_is_case_insensitive(graph: httpx.Client, sandbox: Sandbox) -> None:
    user_id = sandbox.org.notes["alias_only_users"][0]
    account_id = sandbox.org.notes["alias_only_accounts"][0]
    email = sandbox.atlassian_accounts[account_id].email
    assert email is not None
    query = (
        f"mail eq '{email}' or userPrincipalName eq '{email}' "
        f"or proxyAddresses/any(x:x eq 'smtp:{email}')"
    )
    found = graph.get(f"{GRAPH}/users", params={"$filter": query}).json()["value"]
    assert [u["id"] for u in found] == [user_id]


def test_filter_quote_escape_and_bad_filter(graph: httpx.Client) -> None:
    response = graph.get(f"{GRAPH}/users", params={"$filter": "mail eq 'o''brien@contoso.example'"})
    assert response.status_code == 200
    assert response.json()["value"] == []
    bad = graph.get(f"{GRAPH}/users", params={"$filter": "startswith(mail,'a')"})
    assert bad.status_code == 400


def test_count_needs_consistency_level(graph: httpx.Client) -> None:
    refused = graph.get(f"{GRAPH}/users/$count")
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "Request_BadRequest"
    counted = graph.get(f"{GRAPH}/users/$count", headers={"ConsistencyLevel": "eventual"})
    assert counted.status_code == 200
    assert counted.headers["content-type"].startswith("text/plain")
    assert counted.text == "60"


def test_user_by_id_manager_and_deletion(graph: httpx.Client, sandbox: Sandbox) -> None:
    head_id = sandbox.org.notes["department_heads"][0]
    user = graph.get(f"{GRAPH}/users/{head_id}?$select=id,accountEnabled").json()
    assert user["accountEnabled"] is True
    manager = graph.get(f"{GRAPH}/users/{head_id}/manager").json()
    assert manager["id"] == sandbox.org.notes["ceo"][0]
    ceo_manager = graph.get(f"{GRAPH}/users/{sandbox.org.notes['ceo'][0]}/manager")
    assert ceo_manager.status_code == 404
    sandbox.delete_user(head_id)
    gone = graph.get(f"{GRAPH}/users/{head_id}")
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "Request_ResourceNotFound"
    assert head_id in gone.json()["error"]["message"]


def test_disabled_user_shows_account_enabled_false(graph: httpx.Client, sandbox: Sandbox) -> None:
    user_id = sandbox.org.notes["department_heads"][1]
    sandbox.disable_user(user_id)
    body = graph.get(f"{GRAPH}/users/{user_id}?$select=accountEnabled").json()
    assert body["accountEnabled"] is False


def test_missing_or_bad_token(client: httpx.Client) -> None:
    missing = client.get(f"{GRAPH}/users")
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "InvalidAuthenticationToken"
    bad = client.get(f"{GRAPH}/users", headers={"Authorization": "Bearer forged"})
    assert bad.status_code == 401


def _batch(ids: list[str]) -> dict[str, Any]:
    return {
        "requests": [
            {"id": str(n), "method": "GET", "url": f"/users/{user_id}/manager?$select=id"}
            for n, user_id in enumerate(ids)
        ]
    }


def test_batch_of_21_is_refused(graph: httpx.Client, sandbox: Sandbox) -> None:
    ids = list(sandbox.directory_users)[:21]
    response = graph.post(f"{GRAPH}/$batch", json=_batch(ids))
    assert response.status_code == 400
    assert graph.post(f"{GRAPH}/$batch", json=_batch(ids[:20])).status_code == 200


def test_batch_items_and_counting(graph: httpx.Client, sandbox: Sandbox) -> None:
    ids = list(sandbox.directory_users)[:3]
    sandbox.reset_counts()
    body = graph.post(f"{GRAPH}/$batch", json=_batch(ids)).json()
    statuses = {item["id"]: item["status"] for item in body["responses"]}
    assert statuses == {"0": 404, "1": 200, "2": 200}  # the CEO has no manager
    assert sandbox.requests["graph"] == 1


def test_batch_item_fault(graph: httpx.Client, sandbox: Sandbox) -> None:
    ids = list(sandbox.directory_users)[:3]
    sandbox.add_fault(
        Fault(path_contains=f"/users/{ids[1]}/manager", status=429, retry_after=2, batch_item=True)
    )
    response = graph.post(f"{GRAPH}/$batch", json=_batch(ids))
    assert response.status_code == 200
    item = next(i for i in response.json()["responses"] if i["id"] == "1")
    assert item["status"] == 429
    assert item["headers"]["Retry-After"] == "2"
    assert item["body"]["error"]["code"] == "TooManyRequests"
    again = graph.post(f"{GRAPH}/$batch", json=_batch(ids)).json()
    assert next(i for i in again["responses"] if i["id"] == "1")["status"] == 200


def test_batch_items_need_auth(client: httpx.Client, sandbox: Sandbox) -> None:
    response = client.post(f"{GRAPH}/$batch", json=_batch(list(sandbox.directory_users)[:1]))
    assert response.status_code == 401
