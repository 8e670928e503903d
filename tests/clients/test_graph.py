"""GraphDirectory against respx: paging, retries, typed errors, $batch and read planning.

The delta reads are in test_graph_delta.py.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
import respx

from core.clients import ApiClient, GraphDirectory, RequestCounter, explain_graph_permission_error
from core.clients.graph import MANAGER_EXPAND, USER_SELECT, parse_user, prefers_lookup
from core.errors import (
    AuthenticationError,
    NotFound,
    PermissionDenied,
    RateLimited,
    UnreadableAnswer,
)
from core.sync import GRAPH_CONTACT_TYPE, GRAPH_USER_TYPE, Attr, DirectoryUser

from .conftest import V1, graph_user, manager_of

BATCH = f"{V1}/$batch"


def batch_requests(route: respx.Route) -> list[list[dict[str, Any]]]:
    """The sub-requests of every $batch call the route received."""
    return [json.loads(call.request.content)["requests"] for call in route.calls]


def ok_item(request_id: str, body: Any) -> dict[str, Any]:
    return {"id": request_id, "status": 200, "headers": {}, "body": body}


def answer_all(subs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A 200 for each sub-request: a user per id lookup, a one-user list per email."""
    items = []
    for sub in subs:
        number = int(sub["id"])
        body: Any = graph_user(number)
        if sub["url"].startswith("/users?"):
            body = {"value": [body]}
        items.append(ok_item(sub["id"], body))
    return items


def echo_batch(request: httpx.Request) -> httpx.Response:
    subs = json.loads(request.content)["requests"]
    return httpx.Response(200, json={"responses": answer_all(subs)})


# --- full listing -------------------------------------------------------------------


def test_list_all_follows_next_links_to_the_end(
    router: respx.MockRouter, graph_api: ApiClient, counter: RequestCounter
) -> None:
    pages = {
        None: ([graph_user(n) for n in range(100)], f"{V1}/users?$skiptoken=p2"),
        "p2": ([graph_user(n) for n in range(100, 200)], f"{V1}/users?$skiptoken=p3"),
        "p3": ([graph_user(n) for n in range(200, 250)], None),
    }

    def page(request: httpx.Request) -> httpx.Response:
        users, next_link = pages[request.url.params.get("$skiptoken")]
        body: dict[str, Any] = {"value": users}
        if next_link:
            body["@odata.nextLink"] = next_link
        return httpx.Response(200, json=body)

    route = router.get(f"{V1}/users").mock(side_effect=page)

    users = GraphDirectory(graph_api).list_all()

    assert [u.id for u in users] == [f"u-{n:04d}" for n in range(250)]
    assert route.call_count == 3
    first = route.calls[0].request.url.params
    assert first["$select"] == USER_SELECT
    assert first["$expand"] == MANAGER_EXPAND
    assert first["$top"] == "999"
    assert route.calls[2].request.url.params["$skiptoken"] == "p3"
    assert counter.snapshot() == {"graph": 3}


def test_parse_user_reads_every_selected_field() -> None:
    raw = graph_user(
        1,
        manager=manager_of(2, **{"@odata.type": None}),
        accountEnabled=False,
        department=None,
        userType="Guest",
    )
    user = parse_user(raw)
    assert user.proxy_addresses == ("SMTP:user1@contoso.com", "smtp:u1@contoso.com")
    assert user.account_enabled is False
    assert user.department is None
    assert user.is_guest
    assert user.manager is not None
    assert user.manager.odata_type == GRAPH_USER_TYPE
    assert user.manager.display_name == "User 2"


def test_missing_account_enabled_is_unknown_not_disabled() -> None:
    raw = graph_user(1)
    del raw["accountEnabled"]
    user = parse_user(raw)
    assert user.account_enabled is True
    assert user.unknown == frozenset({Attr.ACTIVE})


def test_null_account_enabled_is_unknown() -> None:
    """Every user has one: null is Graph withholding it (a downgraded permission)."""
    assert parse_user(graph_user(1, accountEnabled=None)).unknown == frozenset({Attr.ACTIVE})


def test_a_property_left_out_is_unknown_but_a_null_title_is_empty() -> None:
    """Graph answers null for an unset title; a property it leaves out it did not tell us."""
    raw = graph_user(1, jobTitle=None)
    del raw["department"]
    user = parse_user(raw)
    assert user.unknown == frozenset({Attr.DEPARTMENT})
    assert user.job_title is None
    assert parse_user(graph_user(1)).unknown == frozenset()


# --- retries and errors -------------------------------------------------------------


@pytest.mark.parametrize(("header", "expected"), [("7", 7.0), ("120", 30.0)])
def test_retry_after_is_honoured_and_capped(
    router: respx.MockRouter, graph_api: ApiClient, waits: list[float], header: str, expected: float
) -> None:
    route = router.get(f"{V1}/users").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": header}),
            httpx.Response(200, json={"value": []}),
        ]
    )
    GraphDirectory(graph_api).probe()
    assert waits == [expected]
    assert route.call_count == 2
    assert route.calls[0].request.url.params["$top"] == "1"


def test_503_is_retried_then_succeeds(
    router: respx.MockRouter, graph_api: ApiClient, waits: list[float]
) -> None:
    router.get(f"{V1}/users").mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json={"value": []})]
    )
    GraphDirectory(graph_api).probe()
    assert len(waits) == 1


def test_401_is_an_authentication_error(router: respx.MockRouter, graph_api: ApiClient) -> None:
    body = {"error": {"code": "InvalidAuthenticationToken", "message": "Access token is empty."}}
    router.get(f"{V1}/users").mock(return_value=httpx.Response(401, json=body))
    with pytest.raises(AuthenticationError, match="InvalidAuthenticationToken"):
        GraphDirectory(graph_api).probe()


def test_403_is_permission_denied_with_the_fix(
    router: respx.MockRouter, graph_api: ApiClient
) -> None:
    body = {"error": {"code": "Authorization_RequestDenied", "message": "Insufficient privileges"}}
    router.get(f"{V1}/users").mock(return_value=httpx.Response(403, json=body))
    with pytest.raises(PermissionDenied) as caught:
        GraphDirectory(graph_api).probe()
    assert "User.Read.All" in explain_graph_permission_error(caught.value)
    assert "admin consent" in explain_graph_permission_error(caught.value)


def test_count_users_asks_for_eventual_consistency(
    router: respx.MockRouter, graph_api: ApiClient
) -> None:
    route = router.get(f"{V1}/users/$count").mock(
        return_value=httpx.Response(200, text="\ufeff1234")
    )
    assert GraphDirectory(graph_api).count_users() == 1234
    assert route.calls[0].request.headers["ConsistencyLevel"] == "eventual"


def test_priority_header_is_sent_only_when_set(
    router: respx.MockRouter, graph_api: ApiClient
) -> None:
    route = router.get(f"{V1}/users").mock(return_value=httpx.Response(200, json={"value": []}))
    GraphDirectory(graph_api).probe()
    GraphDirectory(graph_api, priority="Low").probe()
    assert "x-ms-throttle-priority" not in route.calls[0].request.headers
    assert route.calls[1].request.headers["x-ms-throttle-priority"] == "Low"


# --- $batch lookups -----------------------------------------------------------------


def test_lookup_of_45_sends_exactly_3_batches(
    router: respx.MockRouter, graph_api: ApiClient, counter: RequestCounter
) -> None:
    route = router.post(BATCH).mock(side_effect=echo_batch)
    emails = [f"user{n}@contoso.com" for n in range(30)]
    ids = [f"u-{n:04d}" for n in range(30, 45)]

    users = GraphDirectory(graph_api).lookup(emails, ids)

    assert [len(subs) for subs in batch_requests(route)] == [20, 20, 5]
    assert len(users) == 45
    assert counter.snapshot() == {"graph": 3}


def test_lookup_urls_select_expand_and_encode_guest_upns(
    router: respx.MockRouter, graph_api: ApiClient
) -> None:
    route = router.post(BATCH).mock(side_effect=echo_batch)
    GraphDirectory(graph_api).lookup(["O'Neil_x.com#EXT#@contoso.onmicrosoft.com"], ["abc-1"])

    by_email, by_id = batch_requests(route)[0]
    assert "#" not in by_email["url"]
    assert "%23ext%23" in by_email["url"]  # emails are matched case-insensitively
    decoded = unquote(by_email["url"])
    assert "mail eq 'o''neil_x.com#ext#@contoso.onmicrosoft.com'" in decoded
    assert "proxyAddresses/any(p:p eq 'smtp:o''neil_x.com#ext#@contoso" in decoded
    assert f"$select={USER_SELECT}" in decoded
    assert f"$expand={MANAGER_EXPAND}" in decoded
    assert by_id["url"].startswith("/users/abc-1?")
    assert by_id["method"] == "GET"


def test_throttled_batch_item_is_retried_alone(
    router: respx.MockRouter, graph_api: ApiClient, waits: list[float]
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        subs = json.loads(request.content)["requests"]
        items = answer_all(subs)
        if route.call_count == 0:  # the first batch (recorded after it answers)
            items[1] = {"id": "2", "status": 429, "headers": {"retry-after": "7"}, "body": {}}
        return httpx.Response(200, json={"responses": items})

    route = router.post(BATCH).mock(side_effect=answer)
    emails = ["user1@contoso.com", "user2@contoso.com", "user3@contoso.com"]

    users = GraphDirectory(graph_api).lookup(emails, [])

    sent = batch_requests(route)
    assert [sub["id"] for sub in sent[1]] == ["2"]
    assert waits == [7.0]
    assert sorted(u.id for u in users) == ["u-0001", "u-0002", "u-0003"]


def test_failed_dependency_item_is_retried_with_backoff(
    router: respx.MockRouter, graph_api: ApiClient, waits: list[float]
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        items = answer_all(json.loads(request.content)["requests"])
        if route.call_count == 0:
            items[0] = {"id": "1", "status": 424, "body": {}}
        return httpx.Response(200, json={"responses": items})

    route = router.post(BATCH).mock(side_effect=answer)
    users = GraphDirectory(graph_api).lookup([], ["u-0001", "u-0002"])
    assert route.call_count == 2
    assert len(waits) == 1
    assert len(users) == 2


def test_batch_item_still_throttled_after_the_attempts_raises(
    router: respx.MockRouter, graph_api: ApiClient, waits: list[float]
) -> None:
    item = {"id": "1", "status": 429, "headers": {"Retry-After": "2"}, "body": {}}
    route = router.post(BATCH).mock(return_value=httpx.Response(200, json={"responses": [item]}))
    with pytest.raises(RateLimited):
        GraphDirectory(graph_api).lookup(["a@contoso.com"], [])
    assert route.call_count == 4  # the policy's attempts
    assert waits == [2.0, 2.0, 2.0]


def test_batch_item_403_aborts_with_permission_denied(
    router: respx.MockRouter, graph_api: ApiClient
) -> None:
    body = {"error": {"code": "Authorization_RequestDenied", "message": "Insufficient privileges"}}
    item = {"id": "1", "status": 403, "headers": {}, "body": body}
    router.post(BATCH).mock(return_value=httpx.Response(200, json={"responses": [item]}))
    with pytest.raises(PermissionDenied) as caught:
        GraphDirectory(graph_api).lookup(["secret.person@contoso.com"], [])
    assert "secret.person" not in str(caught.value)  # the query never reaches the message


def test_404_for_an_id_means_the_user_is_gone(
    router: respx.MockRouter, graph_api: ApiClient
) -> None:
    gone = {"error": {"code": "Request_ResourceNotFound", "message": "does not exist"}}
    items = [
        ok_item("1", graph_user(1)),
        {"id": "2", "status": 404, "headers": {}, "body": gone},
    ]
    router.post(BATCH).mock(return_value=httpx.Response(200, json={"responses": items}))
    users = GraphDirectory(graph_api).lookup([], ["u-0001", "u-0404"])
    assert [u.id for u in users] == ["u-0001"]


def test_404_for_an_email_lookup_is_an_error(
    router: respx.MockRouter, graph_api: ApiClient
) -> None:
    """An email filter answers 200 with an empty list when nobody matches; a 404 there
    means the request itself went wrong, and must not read as "nobody has this email"."""
    gone = {"error": {"code": "Request_ResourceNotFound", "message": "does not exist"}}
    items = [
        ok_item("1", {"value": [graph_user(1)]}),
        {"id": "2", "status": 404, "headers": {}, "body": gone},
    ]
    router.post(BATCH).mock(return_value=httpx.Response(200, json={"responses": items}))
    with pytest.raises(NotFound, match="does not exist") as caught:
        GraphDirectory(graph_api).lookup(["user1@contoso.com", "someone@contoso.com"], [])
    assert "someone" not in str(caught.value)


@pytest.mark.parametrize(
    ("by_id", "body"),
    [
        pytest.param(True, '{"value": [{"id": "', id="by id, not JSON"),
        pytest.param(True, {}, id="by id, empty"),
        pytest.param(False, {"error": "none"}, id="by email, no value list"),
    ],
)
def test_a_200_item_without_the_user_is_unreadable_not_a_user_gone(
    router: respx.MockRouter, graph_api: ApiClient, by_id: bool, body: object
) -> None:
    """Read as "no such user", a spoiled item would inactivate someone who is there."""
    item = {"id": "1", "status": 200, "headers": {}, "body": body}
    router.post(BATCH).mock(return_value=httpx.Response(200, json={"responses": [item]}))
    emails, ids = ([], ["u-0001"]) if by_id else (["a@contoso.com"], [])
    with pytest.raises(UnreadableAnswer, match="a \\$batch item answered 200 without"):
        GraphDirectory(graph_api).lookup(emails, ids)


def test_lookup_deduplicates_and_adds_manager_stand_ins(
    router: respx.MockRouter, graph_api: ApiClient
) -> None:
    contact = {"@odata.type": GRAPH_CONTACT_TYPE, "id": "c-1", "displayName": "Vendor"}
    alice = graph_user(1, manager=manager_of(9))
    bob = graph_user(2, manager=manager_of(1))  # manager returned in her own right
    carol = graph_user(3, manager=contact)
    items = [
        ok_item("1", {"value": [alice]}),
        ok_item("2", {"value": [bob]}),
        ok_item("3", {"value": [carol]}),
        ok_item("4", alice),  # the same user by id
    ]
    router.post(BATCH).mock(return_value=httpx.Response(200, json={"responses": items}))

    users = {u.id: u for u in GraphDirectory(graph_api).lookup(["a@x", "b@x", "c@x"], ["u-0001"])}

    assert sorted(users) == ["u-0001", "u-0002", "u-0003", "u-0009"]
    assert users["u-0001"] == parse_user(alice)  # the real user wins over a stand-in
    assert users["u-0009"] == DirectoryUser(
        id="u-0009",
        display_name="User 9",
        mail="user9@contoso.com",
        user_principal_name="user9@contoso.onmicrosoft.com",
        user_type="Member",
        account_enabled=True,
    )
    assert users["u-0003"].manager is not None
    assert users["u-0003"].manager.is_contact
    assert "c-1" not in users


# --- choosing the read when there is no copy yet -----------------------------------


@pytest.mark.parametrize(
    ("size", "lookups", "expected"),
    [
        (5_000, 40, True),  # a small site in a big tenant: 25 pages against 2 batches
        (20_000, 5_000, False),  # a big site: 100 pages against 250 batches
        (1_200, 45, False),  # 6 pages: no more than twice the 3 batches
        (1_400, 45, True),  # 7 pages: more than twice the 3 batches
        (0, 0, False),  # nothing to read either way: no lookup of nothing
    ],
)
def test_a_lookup_wins_only_while_a_first_delta_read_costs_more_than_two(
    size: int, lookups: int, expected: bool
) -> None:
    emails = [f"user{n}@contoso.com" for n in range(lookups // 2)]
    ids = [f"u-{n:04d}" for n in range(lookups - len(emails))]
    assert prefers_lookup(size, emails, ids) is expected
