"""Injected faults (errors, lost connections, answers that lie), clones, counting."""

from __future__ import annotations

import httpx
import pytest

from core.sandbox import (
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_ORG_API_KEY,
    SANDBOX_ORG_ID,
    SANDBOX_TENANT_ID,
    Answer,
    Fault,
    Sandbox,
)
from tests.sandbox.conftest import API, GRAPH, JIRA, LOGIN, SITE_AUTH
from tests.sandbox.test_assets import Workspace


def test_503_with_retry_after_then_recovers(site: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.add_fault(Fault(service="jira", status=503, retry_after=1.5, times=2))
    url = f"{JIRA}/rest/api/3/users/search"
    first, second, third = (site.get(url) for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (503, 503, 200)
    assert first.headers["Retry-After"] == "1.5"
    assert first.json()["errorMessages"]
    assert sandbox.requests["jira"] == 3


def test_graph_fault_has_graph_error_body(graph: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.add_fault(Fault(service="graph", path_contains="$skiptoken", status=429, retry_after=3))
    first = graph.get(f"{GRAPH}/users?$top=10")
    assert first.status_code == 200
    throttled = graph.get(first.json()["@odata.nextLink"])
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "3"
    assert throttled.json()["error"]["code"] == "TooManyRequests"


def test_timeout_fault_raises_read_timeout(graph: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.add_fault(Fault(service="graph", method="GET", timeout=True))
    with pytest.raises(httpx.ReadTimeout):
        graph.get(f"{GRAPH}/users")
    assert graph.get(f"{GRAPH}/users").status_code == 200


def test_counts_log_and_reset(graph: httpx.Client, sandbox: Sandbox) -> None:
    graph.get(f"{GRAPH}/users?$top=1")
    assert sandbox.requests == {"login": 1, "graph": 1}
    assert sandbox.request_log[-1] == ("graph", "GET", "/v1.0/users")
    sandbox.reset_counts()
    assert not sandbox.requests
    assert sandbox.request_log == []


def test_unknown_path_names_it(client: httpx.Client) -> None:
    response = client.get("https://anything.invalid/no/such/thing")
    assert response.status_code == 404
    assert "/no/such/thing" in response.text


def test_latency_is_settable(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.latency = 0.01
    response = client.get("https://anything.invalid/x")
    assert response.status_code == 404


@pytest.mark.parametrize("timeout", [False, True])
def test_after_processing_keeps_the_write_and_loses_the_answer(
    site: httpx.Client, sandbox: Sandbox, timeout: bool
) -> None:
    """The create happens; the caller sees a 503 or a timeout, never the new object."""
    ws = Workspace(site, sandbox)
    type_id, ids = ws.employee_type()
    sandbox.add_fault(
        Fault(
            service="assets",
            method="POST",
            path_contains="object/create",
            after_processing=True,
            timeout=timeout,
        )
    )
    values = {ids["Name"]: ["Ada"], ids["Entra User ID"]: ["u-1"]}
    if timeout:
        with pytest.raises(httpx.ReadTimeout):
            ws.create(type_id, values)
    else:
        lost = ws.create(type_id, values)
        assert lost.status_code == 503
        assert lost.json()["errorMessages"]
    assert [e["attributes"]["Entra User ID"] for e in sandbox.employees()] == ["u-1"]
    again = ws.create(type_id, values)  # the fault is used up: a copy is refused as unique
    assert again.status_code == 400
    assert len(sandbox.employees()) == 1


def test_a_fault_before_processing_changes_nothing(site: httpx.Client, sandbox: Sandbox) -> None:
    ws = Workspace(site, sandbox)
    type_id, ids = ws.employee_type()
    sandbox.add_fault(Fault(service="assets", path_contains="object/create", status=503))
    assert ws.create(type_id, {ids["Name"]: ["Ada"]}).status_code == 503
    assert sandbox.employees() == []


# -- connection resets --------------------------------------------------------------


@pytest.mark.parametrize("after_processing", [False, True])
def test_a_reset_raises_read_error_and_keeps_the_write_only_after_processing(
    site: httpx.Client, sandbox: Sandbox, after_processing: bool
) -> None:
    ws = Workspace(site, sandbox)
    type_id, ids = ws.employee_type()
    sandbox.add_fault(
        Fault(
            service="assets",
            path_contains="object/create",
            reset=True,
            after_processing=after_processing,
        )
    )
    with pytest.raises(httpx.ReadError, match="reset by peer"):
        ws.create(type_id, {ids["Name"]: ["Ada"], ids["Entra User ID"]: ["u-1"]})
    assert len(sandbox.employees()) == (1 if after_processing else 0)


def test_a_batch_item_cannot_time_out_or_reset_on_its_own() -> None:
    with pytest.raises(ValueError, match="batch item"):
        Fault(batch_item=True, timeout=True)
    with pytest.raises(ValueError, match="batch item"):
        Fault(batch_item=True, reset=True)


# -- answers that lie ---------------------------------------------------------------


def token_answer(sandbox: Sandbox) -> httpx.Response:
    """The token endpoint's answer to a well-formed client-credentials request."""
    form = {
        "grant_type": "client_credentials",
        "client_id": SANDBOX_CLIENT_ID,
        "client_secret": SANDBOX_CLIENT_SECRET,
        "scope": "https://graph.sandbox.invalid/.default",
    }
    with httpx.Client(transport=sandbox.transport()) as plain:
        return plain.post(TOKEN, data=form)


TOKEN = f"{LOGIN}/{SANDBOX_TENANT_ID}/oauth2/v2.0/token"
ORG_USERS = f"{API}/admin/v1/orgs/{SANDBOX_ORG_ID}/users"
ORG_AUTH = {"Authorization": f"Bearer {SANDBOX_ORG_API_KEY}"}


def test_malformed_is_a_200_whose_json_stops_mid_value_after_the_work_is_done(
    site: httpx.Client, sandbox: Sandbox
) -> None:
    ws = Workspace(site, sandbox)
    type_id, ids = ws.employee_type()
    sandbox.add_fault(
        Fault(service="assets", path_contains="object/create", answer=Answer.MALFORMED)
    )
    answer = ws.create(type_id, {ids["Name"]: ["Ada"], ids["Entra User ID"]: ["u-1"]})
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    with pytest.raises(ValueError, match="Unterminated string"):
        answer.json()
    assert [e["attributes"]["Name"] for e in sandbox.employees()] == ["Ada"]


def test_empty_answers_keep_each_services_shape(graph: httpx.Client, sandbox: Sandbox) -> None:
    """Seven requests, seven empty answers in the shape of each; then the real ones."""
    sandbox.add_fault(Fault(answer=Answer.EMPTY, times=7))
    users = graph.get(f"{GRAPH}/users")
    assert (users.status_code, users.json()) == (200, {"value": []})
    count = graph.get(f"{GRAPH}/users/$count", headers={"ConsistencyLevel": "eventual"})
    assert count.text == "0"
    one = graph.get(f"{GRAPH}/users/{next(iter(sandbox.directory_users))}")
    assert one.json() == {}
    batch = graph.post(
        f"{GRAPH}/$batch", json={"requests": [{"id": "1", "method": "GET", "url": "/users"}]}
    )
    assert batch.json() == {"responses": []}
    token = token_answer(sandbox)
    assert (token.status_code, token.json()) == (200, {})
    assert graph.get(ORG_USERS, headers=ORG_AUTH).json() == {"data": [], "links": {}}
    search = f"{JIRA}/rest/api/3/users/search"
    assert graph.get(search, headers={"Authorization": SITE_AUTH}).json() == []
    assert graph.get(search, headers={"Authorization": SITE_AUTH}).json()  # used up
    assert len(graph.get(f"{GRAPH}/users").json()["value"]) == 60


def test_empty_aql_page_says_it_is_the_last(site: httpx.Client, sandbox: Sandbox) -> None:
    ws = Workspace(site, sandbox)
    type_id, ids = ws.employee_type()
    assert ws.create(type_id, {ids["Name"]: ["Ada"]}).status_code == 201
    sandbox.add_fault(Fault(service="assets", path_contains="object/aql", answer=Answer.EMPTY))
    page = ws.post("object/aql", {"qlQuery": f"objectTypeId = {type_id}"})
    assert page.json() == {"values": [], "isLast": True}
    assert (
        len(ws.post("object/aql", {"qlQuery": f"objectTypeId = {type_id}"}).json()["values"]) == 1
    )


def test_a_truncated_graph_page_has_half_the_users_and_no_next_link(
    graph: httpx.Client, sandbox: Sandbox
) -> None:
    sandbox.add_fault(Fault(service="graph", answer=Answer.TRUNCATED))
    cut = graph.get(f"{GRAPH}/users?$top=10").json()
    assert len(cut["value"]) == 5
    assert "@odata.nextLink" not in cut
    whole = graph.get(f"{GRAPH}/users?$top=10").json()
    assert whole["value"][:5] == cut["value"]
    assert "@odata.nextLink" in whole


def test_truncated_pages_of_jira_aql_and_the_org_list(site: httpx.Client, sandbox: Sandbox) -> None:
    search = f"{JIRA}/rest/api/3/users/search"
    whole = site.get(search, params={"maxResults": 10}).json()
    sandbox.add_fault(Fault(answer=Answer.TRUNCATED, times=3))
    assert site.get(search, params={"maxResults": 10}).json() == whole[:5]
    org = site.get(ORG_USERS, headers=ORG_AUTH).json()
    full = sandbox.atlassian_accounts.values()
    assert (
        len(org["data"]) == sum(1 for a in full if a.managed and a.account_type == "atlassian") // 2
    )
    assert "next" not in org["links"]
    ws = Workspace(site, sandbox)
    sandbox.clear_faults()
    type_id, ids = ws.employee_type()
    for name in ("Ada", "Bo", "Cy", "Di"):
        ws.create(type_id, {ids["Name"]: [name]})
    sandbox.add_fault(Fault(service="assets", path_contains="object/aql", answer=Answer.TRUNCATED))
    page = ws.post("object/aql", {"qlQuery": f"objectTypeId = {type_id}"}, maxResults=3).json()
    assert (len(page["values"]), page["isLast"], page["total"]) == (1, True, 4)


def test_a_truncated_answer_that_is_not_a_page_is_left_alone(sandbox: Sandbox) -> None:
    sandbox.add_fault(Fault(service="login", answer=Answer.TRUNCATED))
    token = token_answer(sandbox)
    assert token.status_code == 200
    assert token.json()["access_token"]


def test_null_fields_in_graph_users_and_batch_items(graph: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.add_fault(Fault(service="graph", answer=Answer.NULLS))
    select = "id,displayName,mail,department,jobTitle,accountEnabled"
    users = graph.get(f"{GRAPH}/users", params={"$select": select}).json()["value"]
    assert all(
        (u["accountEnabled"], u["department"], u["jobTitle"]) == (None, None, None) for u in users
    )
    assert all(u["displayName"] and u["id"] for u in users)
    user_id = next(iter(sandbox.directory_users))
    sandbox.add_fault(Fault(service="graph", answer=Answer.NULLS, batch_item=True))
    request = {"id": "1", "method": "GET", "url": f"/users/{user_id}?$select={select}"}
    item = graph.post(f"{GRAPH}/$batch", json={"requests": [request]}).json()["responses"][0]
    assert (item["status"], item["body"]["id"], item["body"]["jobTitle"]) == (200, user_id, None)


def test_null_fields_for_tokens_jira_the_org_list_and_assets(
    site: httpx.Client, sandbox: Sandbox
) -> None:
    ws = Workspace(site, sandbox)
    type_id, ids = ws.employee_type()
    ws.create(type_id, {ids["Name"]: ["Ada"], ids["Entra User ID"]: ["u-1"]})
    for service in ("login", "jira", "admin", "assets"):
        sandbox.add_fault(Fault(service=service, answer=Answer.NULLS))
    token = token_answer(sandbox).json()
    assert (token["access_token"], token["expires_in"], token["token_type"]) == (
        None,
        None,
        "Bearer",
    )
    people = site.get(f"{JIRA}/rest/api/3/users/search").json()
    assert {(p["active"], p.get("emailAddress"), p["displayName"]) for p in people} == {
        (None, None, None)
    }
    assert all(p["accountId"] for p in people)
    org = site.get(ORG_USERS, headers=ORG_AUTH).json()["data"]
    assert {(u["email"], u["account_status"]) for u in org} == {(None, None)}
    (obj,) = ws.post("object/aql", {"qlQuery": f"objectTypeId = {type_id}"}).json()["values"]
    values = [v for a in obj["attributes"] for v in a["objectAttributeValues"]]
    assert values and all(v["value"] is None and v["displayValue"] is None for v in values)
    assert obj["id"] and obj["objectKey"]


def test_answer_faults_on_batch_items(graph: httpx.Client, sandbox: Sandbox) -> None:
    """A spoiled item answers 200: not JSON becomes a text body; empty is {} or no users."""
    user_id = next(iter(sandbox.directory_users))
    requests = [
        {"id": "1", "method": "GET", "url": f"/users/{user_id}"},
        {"id": "2", "method": "GET", "url": "/users?$filter=mail eq 'nobody@x.invalid'"},
        {"id": "3", "method": "GET", "url": "/users/no-such-user"},
    ]
    sandbox.add_fault(Fault(answer=Answer.MALFORMED, batch_item=True, path_contains="/users/"))
    sandbox.add_fault(Fault(answer=Answer.EMPTY, batch_item=True, times=2))
    items = graph.post(f"{GRAPH}/$batch", json={"requests": requests}).json()["responses"]
    by_id = {item["id"]: item for item in items}
    assert by_id["1"]["status"] == 200 and isinstance(by_id["1"]["body"], str)
    assert (by_id["2"]["status"], by_id["2"]["body"]) == (200, {"value": []})
    assert by_id["3"]["status"] == 404  # an error answer passes as it is


def test_a_clone_is_independent_and_hires_the_same_person() -> None:
    original = Sandbox(seed=7, people=40, atlassian=30)
    original.add_fault(Fault(status=503))
    twin, other = original.clone(), original.clone()
    user_id = next(iter(original.directory_users))
    twin.disable_user(user_id)
    assert original.directory_users[user_id].account_enabled
    manager = original.directory_users[user_id]
    assert twin.hire("Nora Quist", None, None, manager.id) == other.hire(
        "Nora Quist", None, None, manager.id
    )
    assert len(original.directory_users) == 40
    with httpx.Client(transport=twin.transport()) as client:
        assert client.get("https://anything.invalid/x").status_code == 404  # no fault copied
