"""GraphDirectory.delta_round against respx: pages, the merge onto a copy, refused links."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import httpx
import pytest
import respx

from core.clients import ApiClient, DeltaLinkRefused, GraphDirectory, directory_view
from core.clients.graph_delta import DELTA_SELECT, merge_entry
from core.errors import RequestRejected, UnreadableAnswer
from core.sync import GRAPH_CONTACT_TYPE, GRAPH_USER_TYPE, Attr, DirectoryUser, ManagerRef

from .conftest import V1, graph_user

DELTA = f"{V1}/users/delta"
LINK = f"{DELTA}?$deltatoken=saved"
NEXT_LINK = f"{DELTA}?$deltatoken=next"


def entry(number: int, manager: int | None = None, **overrides: Any) -> dict[str, Any]:
    """A user as a users/delta page lists them: the manager as manager@delta."""
    body = graph_user(number, **overrides)
    if manager is not None:
        body["manager@delta"] = [{"@odata.type": GRAPH_USER_TYPE, "id": f"u-{manager:04d}"}]
    return body


def page(value: list[dict[str, Any]], **links: str) -> httpx.Response:
    return httpx.Response(200, json={"value": value, **links})


def copy_of(*users: DirectoryUser) -> dict[str, DirectoryUser]:
    return {user.id: user for user in users}


def stored(number: int, manager: int | None = None, **fields: Any) -> DirectoryUser:
    """A user as the copy holds them after a round that listed ``entry(number)``.

    The round names a user manager by that user's display name (``User n``).
    """
    user, _ = merge_entry(None, entry(number, manager))
    if user.manager is not None:
        fields = {"manager": replace(user.manager, display_name=f"User {manager}"), **fields}
    return DirectoryUser(**{**_fields(user), **fields})


def _fields(user: DirectoryUser) -> dict[str, Any]:
    return {name: getattr(user, name) for name in DirectoryUser.__slots__}


def test_a_first_round_follows_next_links_to_the_delta_link(
    router: respx.MockRouter, graph_api: ApiClient
) -> None:
    pages = {
        None: page([entry(1), entry(2, manager=1)], **{"@odata.nextLink": f"{DELTA}?$skiptoken=2"}),
        "2": page([entry(3, manager=1)], **{"@odata.deltaLink": NEXT_LINK}),
    }
    route = router.get(DELTA).mock(side_effect=lambda r: pages[r.url.params.get("$skiptoken")])

    round_ = GraphDirectory(graph_api, priority="Low").delta_round({}, None)

    assert round_.fresh and round_.link == NEXT_LINK and round_.keepable
    assert list(round_.copy) == ["u-0001", "u-0002", "u-0003"]
    assert round_.copy["u-0002"].manager == ManagerRef("u-0001", GRAPH_USER_TYPE, "User 1")
    first, second = (call.request for call in route.calls)
    assert first.url.params["$select"] == DELTA_SELECT
    assert "manager" in DELTA_SELECT.split(",")
    assert "$expand" not in first.url.params  # users/delta refuses $expand
    assert first.headers["Prefer"] == "odata.maxpagesize=200"
    assert first.headers["x-ms-throttle-priority"] == "Low"
    assert second.url.params["$skiptoken"] == "2" and "$select" not in second.url.params


def test_a_page_with_neither_link_ends_the_read(
    router: respx.MockRouter, graph_api: ApiClient
) -> None:
    router.get(DELTA).mock(return_value=page([entry(1)]))
    with pytest.raises(UnreadableAnswer, match=r"neither @odata\.nextLink nor @odata\.deltaLink"):
        GraphDirectory(graph_api).delta_round({}, None)


def test_a_page_without_a_value_list_is_unreadable(
    router: respx.MockRouter, graph_api: ApiClient
) -> None:
    router.get(DELTA).mock(return_value=httpx.Response(200, json={"@odata.deltaLink": LINK}))
    with pytest.raises(UnreadableAnswer, match="without a value list"):
        GraphDirectory(graph_api).delta_round({}, None)


def test_changes_merge_onto_the_copy(router: respx.MockRouter, graph_api: ApiClient) -> None:
    copy = copy_of(stored(1), stored(2, manager=1), stored(3, manager=1), stored(4), stored(5))
    changes = [
        {"id": "u-0001", "jobTitle": "Lead"},  # only what changed (return=minimal)
        entry(2, manager=None, department=None) | {"department": None},  # emptied: null
        {"id": "U-0003", "manager@delta": [{"id": "u-0001", "@removed": {"reason": "deleted"}}]},
        {"id": "u-0004", "@removed": {"reason": "changed"}},
        {
            "id": "u-0005",
            "manager@delta": [
                {"@odata.type": GRAPH_USER_TYPE, "id": "u-0001", "@removed": {}},
                {"@odata.type": GRAPH_USER_TYPE, "id": "u-0002"},
            ],
        },
        {"id": "u-0006", "displayName": "New Person", "userPrincipalName": "new@contoso.com"}
        | {"accountEnabled": True},
    ]
    route = router.get(LINK).mock(return_value=page(changes, **{"@odata.deltaLink": NEXT_LINK}))

    round_ = GraphDirectory(graph_api).delta_round(copy, LINK)

    assert route.call_count == 1 and not round_.fresh
    users = round_.copy
    assert users["u-0001"] == stored(1, job_title="Lead")
    assert users["u-0002"] == stored(2, manager=1, department=None)  # manager@delta absent: kept
    assert users["u-0003"] == stored(3, manager=None)
    assert "u-0004" not in users
    assert users["u-0005"].manager == ManagerRef("u-0002", GRAPH_USER_TYPE, "User 2")
    assert users["u-0006"] == DirectoryUser(
        id="u-0006",
        display_name="New Person",
        mail=None,  # never set: left out of the entry
        user_principal_name="new@contoso.com",
        user_type=None,
    )
    assert round_.changed == {"u-0001", "u-0002", "u-0003", "u-0005", "u-0006"}
    assert round_.removed == {"u-0004"}
    assert copy["u-0001"] == stored(1)  # the stored copy itself is left as it was


def test_a_user_listed_twice_ends_as_the_last_entry_says(
    router: respx.MockRouter, graph_api: ApiClient
) -> None:
    changes = [entry(7), {"id": "u-0007", "@removed": {"reason": "changed"}}, entry(8)]
    changes += [{"id": "u-0008", "@removed": {"reason": "changed"}}, entry(8, jobTitle="Back")]
    router.get(LINK).mock(return_value=page(changes, **{"@odata.deltaLink": NEXT_LINK}))
    round_ = GraphDirectory(graph_api).delta_round({}, LINK)
    assert list(round_.copy) == ["u-0008"]
    assert round_.copy["u-0008"].job_title == "Back"
    assert (set(round_.changed), set(round_.removed)) == ({"u-0008"}, {"u-0007"})


def test_withheld_account_enabled_empties_nothing_and_makes_active_unknown(
    router: respx.MockRouter, graph_api: ApiClient
) -> None:
    copy = copy_of(stored(1), stored(2))
    nulls = {"accountEnabled": None, "department": None, "jobTitle": None}
    changes = [entry(1, displayName="Renamed", **nulls), entry(3, **nulls)]
    router.get(LINK).mock(return_value=page(changes, **{"@odata.deltaLink": NEXT_LINK}))

    round_ = GraphDirectory(graph_api).delta_round(copy, LINK)

    assert round_.withheld == 2 and not round_.keepable
    renamed = round_.copy["u-0001"]
    assert (renamed.display_name, renamed.department, renamed.job_title) == (
        "Renamed",
        "Sales",
        "Seller",
    )
    assert renamed.unknown == {Attr.ACTIVE}
    assert round_.copy["u-0003"].unknown == {Attr.ACTIVE}
    assert round_.copy["u-0003"].department is None  # a new user has nothing to keep


def test_a_new_user_without_account_enabled_is_withheld_but_a_known_one_is_unchanged() -> None:
    body = {"id": "u-0009", "displayName": "Nine", "userPrincipalName": "nine@contoso.com"}
    new, withheld = merge_entry(None, body)
    assert withheld and new.unknown == {Attr.ACTIVE}
    known = stored(9, account_enabled=False)
    kept, withheld = merge_entry(known, {"id": "u-0009", "jobTitle": "Nine"})
    assert not withheld and kept.account_enabled is False and kept.unknown == frozenset()
    unknown = stored(9, unknown=frozenset({Attr.ACTIVE}))
    assert merge_entry(unknown, {"id": "u-0009"})[0].unknown == {Attr.ACTIVE}
    assert merge_entry(unknown, {"id": "u-0009", "accountEnabled": True})[0].unknown == set()


@pytest.mark.parametrize(
    ("status", "code"),
    [(400, "syncStateNotFound"), (400, "resyncRequired"), (410, "resyncRequired"), (410, "x")],
)
def test_a_refused_link_is_told_apart(
    router: respx.MockRouter, graph_api: ApiClient, status: int, code: str
) -> None:
    body = {"error": {"code": code, "message": "The delta token is expired."}}
    router.get(LINK).mock(return_value=httpx.Response(status, json=body))
    with pytest.raises(DeltaLinkRefused) as refused:
        GraphDirectory(graph_api).delta_round({}, LINK)
    assert refused.value.status == status


def test_any_other_bad_request_is_not_a_refused_link(
    router: respx.MockRouter, graph_api: ApiClient
) -> None:
    body = {"error": {"code": "Request_BadRequest", "message": "Invalid select."}}
    router.get(LINK).mock(return_value=httpx.Response(400, json=body))
    with pytest.raises(RequestRejected) as rejected:
        GraphDirectory(graph_api).delta_round({}, LINK)
    assert not isinstance(rejected.value, DeltaLinkRefused)


def test_a_first_round_refused_is_an_error_not_a_loop(
    router: respx.MockRouter, graph_api: ApiClient
) -> None:
    body = {"error": {"code": "resyncRequired", "message": "Resync."}}
    router.get(DELTA).mock(return_value=httpx.Response(410, json=body))
    with pytest.raises(RequestRejected) as rejected:
        GraphDirectory(graph_api).delta_round({}, None)
    assert not isinstance(rejected.value, DeltaLinkRefused)


def test_contact_managers_are_named_by_one_batch_lookup_once(
    router: respx.MockRouter, graph_api: ApiClient
) -> None:
    contact = {"@odata.type": GRAPH_CONTACT_TYPE, "id": "c-1"}
    first = [entry(1) | {"manager@delta": [contact]}, entry(2, manager=1)]
    router.get(DELTA).mock(return_value=page(first, **{"@odata.deltaLink": LINK}))

    def answer(request: httpx.Request) -> httpx.Response:
        (sub,) = json.loads(request.content)["requests"]
        assert sub["url"].startswith("/users/u-0001?")
        user = graph_user(1, manager={**contact, "displayName": "Outside Adviser"})
        return httpx.Response(
            200, json={"responses": [{"id": sub["id"], "status": 200, "body": user}]}
        )

    batch = router.post(f"{V1}/$batch").mock(side_effect=answer)
    graph = GraphDirectory(graph_api)
    round_ = graph.delta_round({}, None)
    assert round_.copy["u-0001"].manager == ManagerRef("c-1", GRAPH_CONTACT_TYPE, "Outside Adviser")
    router.get(LINK).mock(
        return_value=page(
            [entry(1) | {"manager@delta": [contact]}], **{"@odata.deltaLink": NEXT_LINK}
        )
    )
    again = graph.delta_round(round_.copy, LINK)
    assert again.copy["u-0001"].manager == round_.copy["u-0001"].manager
    assert batch.call_count == 1  # the name, found once, is kept


def test_the_view_names_user_managers_after_the_manager_in_the_copy() -> None:
    manager = stored(1, display_name="Ada Lovelace")
    report = stored(2, manager=1)
    orphan = stored(3, manager=9)  # a manager not in the copy has no name to give
    view = {user.id: user for user in directory_view(copy_of(manager, report, orphan))}
    assert view["u-0002"].manager == ManagerRef("u-0001", GRAPH_USER_TYPE, "Ada Lovelace")
    assert view["u-0003"].manager == ManagerRef("u-0009", GRAPH_USER_TYPE, None)
    assert view["u-0001"] is manager
