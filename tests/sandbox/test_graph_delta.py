"""Graph /users/delta: rounds, pages, what a change round lists, and refused tokens."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from core.sandbox import Sandbox
from core.sync import GRAPH_CONTACT_TYPE, GRAPH_USER_TYPE
from tests.sandbox.conftest import GRAPH

SELECT = "id,displayName,mail,userPrincipalName,department,jobTitle,accountEnabled,manager"
PAGE_OF = {"Prefer": "odata.maxpagesize=25"}


def _round(
    graph: httpx.Client, url: str, headers: dict[str, str] | None = None
) -> tuple[list[dict[str, Any]], str, int]:
    """Every entry of one round, its deltaLink and how many pages it took."""
    entries: list[dict[str, Any]] = []
    pages = 0
    next_url = url
    while True:
        response = graph.get(next_url, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        entries += body["value"]
        pages += 1
        if "@odata.deltaLink" in body:
            assert "@odata.nextLink" not in body
            return entries, body["@odata.deltaLink"], pages
        next_url = body["@odata.nextLink"]


def _first(graph: httpx.Client, headers: dict[str, str] | None = None) -> tuple[list[Any], str]:
    entries, link, _ = _round(graph, f"{GRAPH}/users/delta?$select={SELECT}", headers)
    return entries, link


def _by_id(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {entry["id"]: entry for entry in entries}


def test_a_first_round_lists_everyone_in_pages_up_to_the_delta_link(
    graph: httpx.Client, sandbox: Sandbox
) -> None:
    entries, link, pages = _round(graph, f"{GRAPH}/users/delta?$select={SELECT}", PAGE_OF)
    assert pages == 3  # 60 users, 25 a page
    assert [e["id"] for e in entries] == list(sandbox.directory_users)
    assert "$deltatoken=" in link
    first = graph.get(f"{GRAPH}/users/delta?$select={SELECT}", headers=PAGE_OF)
    assert first.headers["Preference-Applied"] == "odata.maxpagesize=25"
    assert "$skiptoken=" in first.json()["@odata.nextLink"]
    assert "$select" not in first.json()["@odata.nextLink"]  # the token carries the query


def test_pages_are_capped_at_200_and_default_to_100(graph: httpx.Client) -> None:
    sandbox_page = graph.get(
        f"{GRAPH}/users/delta?$select=id", headers={"Prefer": "odata.maxpagesize=999"}
    )
    assert sandbox_page.headers["Preference-Applied"] == "odata.maxpagesize=200"
    assert "Preference-Applied" not in graph.get(f"{GRAPH}/users/delta?$select=id").headers


def test_entries_leave_out_what_was_never_set_and_name_the_manager(
    graph: httpx.Client, sandbox: Sandbox
) -> None:
    entries = _by_id(_first(graph)[0])
    users = sandbox.directory_users
    unset = next(u for u in users.values() if u.department is None)
    assert "department" not in entries[unset.id]
    managed = next(u for u in users.values() if u.manager_id in users)
    assert entries[managed.id]["manager@delta"] == [
        {"@odata.type": GRAPH_USER_TYPE, "id": managed.manager_id}
    ]
    by_contact = next(u for u in users.values() if u.manager_id in sandbox.contacts)
    assert entries[by_contact.id]["manager@delta"][0]["@odata.type"] == GRAPH_CONTACT_TYPE
    unmanaged = next(u for u in users.values() if u.manager_id is None)
    assert "manager@delta" not in entries[unmanaged.id]


def test_a_round_from_a_delta_link_lists_only_what_changed(
    graph: httpx.Client, sandbox: Sandbox
) -> None:
    _, link = _first(graph)
    users = sandbox.directory_users
    titled = next(u for u in users.values() if u.job_title and u.department)
    sandbox.set_job_title(titled.id, None)
    entries, next_link, _ = _round(graph, link)
    assert [e["id"] for e in entries] == [titled.id]
    assert entries[0]["jobTitle"] is None  # emptied since: null, not left out
    assert entries[0]["department"] == titled.department  # unchanged: whole by default
    assert _round(graph, next_link)[0] == []  # nothing since


def test_return_minimal_lists_only_the_changed_properties(
    graph: httpx.Client, sandbox: Sandbox
) -> None:
    _, link = _first(graph)
    user = next(iter(sandbox.directory_users.values()))
    sandbox.rename_user(user.id, "Someone Else")
    entries, _, _ = _round(graph, link, {"Prefer": "return=minimal"})
    assert entries == [{"id": user.id, "displayName": "Someone Else"}]


def test_leavers_hires_restores_and_manager_moves(graph: httpx.Client, sandbox: Sandbox) -> None:
    _, link = _first(graph)
    users = sandbox.directory_users
    manager = next(u for u in users.values() if sandbox_reports(sandbox, u.id))
    reports = sandbox_reports(sandbox, manager.id)
    leaver = next(u for u in users.values() if u.id != manager.id and u.id not in reports)
    mover = next(
        u
        for u in users.values()
        if u.manager_id not in (None, manager.id) and u.id not in (leaver.id, manager.id)
    )
    sandbox.delete_user(leaver.id)
    sandbox.delete_user(manager.id)
    sandbox.set_manager(mover.id, reports[0])
    hired = sandbox.hire("Nora Quist", "Sales", "Analyst", reports[0])
    changes, after_leaving, _ = _round(graph, link)
    entries = _by_id(changes)
    assert entries[leaver.id] == {"id": leaver.id, "@removed": {"reason": "changed"}}
    assert entries[manager.id]["@removed"] == {"reason": "changed"}
    for report in reports:  # Graph names no manager for them any more
        assert entries[report]["manager@delta"] == [
            {"@odata.type": GRAPH_USER_TYPE, "id": manager.id, "@removed": {"reason": "deleted"}}
        ]
    assert entries[mover.id]["manager@delta"][-1] == {
        "@odata.type": GRAPH_USER_TYPE,
        "id": reports[0],
    }
    assert entries[hired]["displayName"] == "Nora Quist"
    assert entries[hired]["accountEnabled"] is True
    sandbox.restore_user(manager.id)
    assert manager.id not in _by_id(_round(graph, link)[0])  # there then and now: no change
    restored = _by_id(_round(graph, after_leaving)[0])
    assert restored[manager.id]["displayName"] == manager.display_name  # whole again
    assert restored[reports[0]]["manager@delta"] == [
        {"@odata.type": GRAPH_USER_TYPE, "id": manager.id}
    ]


def sandbox_reports(sandbox: Sandbox, manager_id: str) -> list[str]:
    return [u.id for u in sandbox.directory_users.values() if u.manager_id == manager_id]


def test_a_withheld_property_comes_as_null_on_a_changed_user(
    graph: httpx.Client, sandbox: Sandbox
) -> None:
    _, link = _first(graph)
    user = next(iter(sandbox.directory_users.values()))
    sandbox.downgrade_graph_permission()
    assert _round(graph, link)[0] == []  # a permission is no change to a user
    sandbox.rename_user(user.id, "Renamed")
    entry = _round(graph, link)[0][0]
    assert entry["displayName"] == "Renamed"
    assert entry["accountEnabled"] is None
    assert entry["jobTitle"] is None


@pytest.mark.parametrize(
    ("gone", "status", "code"), [(False, 400, "syncStateNotFound"), (True, 410, "resyncRequired")]
)
def test_expired_tokens_are_refused(
    graph: httpx.Client, sandbox: Sandbox, gone: bool, status: int, code: str
) -> None:
    first = graph.get(f"{GRAPH}/users/delta?$select={SELECT}", headers=PAGE_OF).json()
    _, link = _first(graph)
    sandbox.expire_delta_tokens(gone=gone)
    for url in (link, first["@odata.nextLink"]):
        response = graph.get(url)
        assert response.status_code == status
        assert response.json()["error"]["code"] == code
    if gone:
        assert "/users/delta?$select=" in graph.get(link).headers["Location"]
    assert _first(graph)[0]  # a new first round works


@pytest.mark.parametrize("query", ["$top=5", "$expand=manager", "$filter=id eq 'x'"])
def test_unsupported_query_options_are_refused(graph: httpx.Client, query: str) -> None:
    response = graph.get(f"{GRAPH}/users/delta?$select=id&{query}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "Request_UnsupportedQuery"


def test_a_malformed_token_is_a_bad_request(graph: httpx.Client) -> None:
    for query in ("$deltatoken=Dnot-base64!", "$skiptoken=xyz"):
        response = graph.get(f"{GRAPH}/users/delta?{query}")
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "Request_BadRequest"
