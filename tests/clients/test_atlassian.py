"""AtlassianDirectory against respx: user search paging and hidden emails."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from core.clients import ApiClient, AtlassianDirectory, RequestCounter
from core.errors import ApiError
from core.sync import AtlassianAccount

from .conftest import ADMIN, JIRA

SEARCH = f"{JIRA}/rest/api/3/users/search"
ORG = "org-1"
ORG_USERS = f"{ADMIN}/admin/v1/orgs/{ORG}/users"


def account(number: int, **overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "accountId": f"acc-{number:04d}",
        "accountType": "atlassian",
        "displayName": f"Person {number}",
        "emailAddress": f"person{number}@contoso.com",
        "active": True,
    }
    raw.update(overrides)
    return raw


def search_pages(router: respx.MockRouter, *pages: list[dict[str, Any]]) -> respx.Route:
    return router.get(SEARCH).mock(side_effect=[httpx.Response(200, json=page) for page in pages])


def test_pages_until_an_empty_page_and_keeps_only_atlassian_accounts(
    router: respx.MockRouter, jira_api: ApiClient, counter: RequestCounter
) -> None:
    """A short page is not the end (Jira may cap pages); only an empty page is."""
    first = [account(n) for n in range(1000)]
    first[0]["accountType"] = "app"
    first[1]["accountType"] = "customer"
    first[2]["active"] = False
    second = [account(1001), account(1000, accountType="unknown"), account(999 + 1003)]
    route = search_pages(router, first, second, [])

    accounts = AtlassianDirectory(jira_api).list_accounts()

    assert route.call_count == 3
    params = [call.request.url.params for call in route.calls]
    assert [(p["startAt"], p["maxResults"]) for p in params] == [
        ("0", "1000"),
        ("1000", "1000"),
        ("1003", "1000"),
    ]
    assert len(accounts) == 998 + 2
    assert [a.account_id for a in accounts] == sorted(a.account_id for a in accounts)
    assert AtlassianAccount("acc-0002", "Person 2", "person2@contoso.com", False) in accounts
    assert {"acc-0000", "acc-0001", "acc-1000"}.isdisjoint(a.account_id for a in accounts)
    assert counter.snapshot() == {"jira": 3}


def test_a_capped_short_page_does_not_end_paging(
    router: respx.MockRouter, jira_api: ApiClient
) -> None:
    """Jira answering 100 where 1000 were asked still pages on to the rest."""
    route = search_pages(router, [account(n) for n in range(100)], [account(100)], [])
    assert len(AtlassianDirectory(jira_api).list_accounts()) == 101
    assert route.call_count == 3


def test_a_non_list_answer_is_an_error(router: respx.MockRouter, jira_api: ApiClient) -> None:
    """An answer that is not a list of users aborts the read instead of ending it quietly."""
    router.get(SEARCH).mock(return_value=httpx.Response(200, json={"values": []}))
    with pytest.raises(ApiError):
        AtlassianDirectory(jira_api).list_accounts()


def test_an_empty_page_ends_paging(router: respx.MockRouter, jira_api: ApiClient) -> None:
    route = search_pages(router, [account(n) for n in range(1000)], [])
    assert len(AtlassianDirectory(jira_api).list_accounts()) == 1000
    assert route.call_count == 2


def test_hidden_emails_are_filled_from_the_org_admin_api(
    router: respx.MockRouter, jira_api: ApiClient, admin_api: ApiClient
) -> None:
    search_pages(
        router,
        [
            account(1, emailAddress=""),
            account(2),
            account(3, emailAddress=None),
            account(4, emailAddress=None),  # unmanaged: the org does not know it
        ],
        [],
    )
    next_page = f"{ORG_USERS}?cursor=c2"
    pages = {
        None: {
            "data": [
                {"account_id": "acc-0001", "email": "one@contoso.com"},
                {"account_id": "acc-0002", "email": "changed@contoso.com"},
            ],
            "links": {"self": ORG_USERS, "next": next_page},
        },
        "c2": {
            "data": [{"account_id": "acc-0003", "email": "three@contoso.com"}],
            "links": {"self": next_page},
        },
    }
    admin = router.get(ORG_USERS).mock(
        side_effect=lambda request: httpx.Response(
            200, json=pages[request.url.params.get("cursor")]
        )
    )

    accounts = AtlassianDirectory(jira_api, admin_api, ORG).list_accounts()

    emails = {a.account_id: a.email for a in accounts}
    assert emails == {
        "acc-0001": "one@contoso.com",
        "acc-0002": "person2@contoso.com",  # a visible email is never replaced
        "acc-0003": "three@contoso.com",
        "acc-0004": None,
    }
    assert admin.call_count == 2


def test_no_admin_call_when_no_email_is_hidden(
    router: respx.MockRouter, jira_api: ApiClient, admin_api: ApiClient
) -> None:
    search_pages(router, [account(1), account(2)], [])
    admin = router.get(ORG_USERS).mock(return_value=httpx.Response(200, json={"data": []}))
    AtlassianDirectory(jira_api, admin_api, ORG).list_accounts()
    assert admin.call_count == 0


def test_admin_paging_stops_once_every_hidden_email_is_known(
    router: respx.MockRouter, jira_api: ApiClient, admin_api: ApiClient
) -> None:
    search_pages(router, [account(1, emailAddress=None)], [])
    page = {
        "data": [{"account_id": "acc-0001", "email": "one@contoso.com"}],
        "links": {"next": f"{ORG_USERS}?cursor=c2"},
    }
    admin = router.get(ORG_USERS).mock(return_value=httpx.Response(200, json=page))
    accounts = AtlassianDirectory(jira_api, admin_api, ORG).list_accounts()
    assert accounts[0].email == "one@contoso.com"
    assert admin.call_count == 1


def test_without_an_org_key_hidden_emails_stay_hidden(
    router: respx.MockRouter, jira_api: ApiClient
) -> None:
    search_pages(router, [account(1, emailAddress=None)], [])
    assert AtlassianDirectory(jira_api).list_accounts()[0].email is None


def org_pages(router: respx.MockRouter, pages: dict[str | None, dict[str, Any]]) -> respx.Route:
    return router.get(ORG_USERS).mock(
        side_effect=lambda request: httpx.Response(
            200, json=pages[request.url.params.get("cursor")]
        )
    )


def test_search_accounts_never_reads_the_org_list(
    router: respx.MockRouter, jira_api: ApiClient, admin_api: ApiClient
) -> None:
    search_pages(router, [account(1, emailAddress=None)], [])
    admin = org_pages(router, {None: {"data": [], "links": {}}})
    accounts = AtlassianDirectory(jira_api, admin_api, ORG).search_accounts()
    assert accounts[0].email is None
    assert admin.call_count == 0


def test_a_whole_list_names_the_accounts_the_org_does_not_manage(
    router: respx.MockRouter, admin_api: ApiClient, jira_api: ApiClient
) -> None:
    """Read to its last page with as many users as ``meta.total``: the rest are outside."""
    next_page = f"{ORG_USERS}?cursor=c2"
    admin = org_pages(
        router,
        {
            None: {
                "data": [{"account_id": "acc-0001", "email": "one@contoso.com"}],
                "links": {"next": next_page},
                "meta": {"total": 2},
            },
            "c2": {
                "data": [{"account_id": "acc-0002", "email": None}],  # managed, no email
                "links": {},
                "meta": {"total": 2},
            },
        },
    )
    directory = AtlassianDirectory(jira_api, admin_api, ORG)

    answer = directory.org_emails({"acc-0001", "acc-0002", "acc-0003"})

    assert dict(answer.found) == {"acc-0001": "one@contoso.com"}
    assert answer.not_managed == {"acc-0003"}
    assert admin.call_count == 2


@pytest.mark.parametrize(
    "page",
    [
        {"data": [], "links": {}},  # empty: an org with nobody, or a spoiled answer
        {"data": [{"account_id": "acc-0001", "email": "one@contoso.com"}], "links": {}},
        {  # fewer listed than the total says: cut short
            "data": [{"account_id": "acc-0001", "email": "one@contoso.com"}],
            "links": {},
            "meta": {"total": 5},
        },
    ],
)
def test_a_list_not_read_whole_proves_nobody_unmanaged(
    router: respx.MockRouter, admin_api: ApiClient, jira_api: ApiClient, page: dict[str, Any]
) -> None:
    org_pages(router, {None: page})
    answer = AtlassianDirectory(jira_api, admin_api, ORG).org_emails({"acc-0001", "acc-0009"})
    assert answer.not_managed == frozenset()


def test_nothing_wanted_reads_nothing(
    router: respx.MockRouter, admin_api: ApiClient, jira_api: ApiClient
) -> None:
    admin = org_pages(router, {None: {"data": [], "links": {}}})
    answer = AtlassianDirectory(jira_api, admin_api, ORG).org_emails(set())
    assert (answer.read, admin.call_count) == (False, 0)
