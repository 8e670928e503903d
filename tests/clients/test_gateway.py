"""Where Jira and Assets requests go for each token kind, and what a 401 tells the operator."""

from __future__ import annotations

import httpx
import pytest
import respx

from core.clients import ApiClient, AtlassianRoutes, RequestCounter, RetryPolicy, discover_cloud_id
from core.config import TokenKind
from core.errors import AuthenticationError, PermissionDenied, UnreadableAnswer

from .conftest import ADMIN, JIRA

CLOUD_ID = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
CLASSIC = AtlassianRoutes(TokenKind.CLASSIC, JIRA, ADMIN)
SCOPED = AtlassianRoutes(TokenKind.SCOPED, JIRA, ADMIN, CLOUD_ID)


def test_classic_routes_are_the_site_and_the_assets_api() -> None:
    assert CLASSIC.jira_base == JIRA
    assert CLASSIC.assets_base("ws-1") == f"{ADMIN}/jsm/assets/workspace/ws-1/v1"


def test_scoped_routes_go_through_the_gateway_for_jira_and_assets() -> None:
    gateway = f"{ADMIN}/ex/jira/{CLOUD_ID}"
    assert SCOPED.jira_base == gateway
    assert SCOPED.assets_base("ws-1") == f"{gateway}/jsm/assets/workspace/ws-1/v1"


def test_scoped_routes_need_a_cloud_id() -> None:
    with pytest.raises(ValueError, match="cloud id"):
        AtlassianRoutes(TokenKind.SCOPED, JIRA, ADMIN)


def test_the_cloud_id_comes_from_tenant_info_without_credentials(
    router: respx.MockRouter, jira_api: ApiClient
) -> None:
    route = router.get(f"{JIRA}/_edge/tenant_info").mock(
        return_value=httpx.Response(200, json={"cloudId": CLOUD_ID})
    )
    assert discover_cloud_id(jira_api) == CLOUD_ID
    assert "Authorization" not in route.calls.last.request.headers


@pytest.mark.parametrize(
    "body", [{}, {"cloudId": ""}, {"cloudId": "../../admin"}, {"cloudId": 7}, ["x"]]
)
def test_an_answer_without_a_plain_cloud_id_names_the_site_setting(
    router: respx.MockRouter, jira_api: ApiClient, body: object
) -> None:
    """The id becomes part of every URL: anything but a plain id is refused, not used."""
    router.get(f"{JIRA}/_edge/tenant_info").mock(return_value=httpx.Response(200, json=body))
    with pytest.raises(UnreadableAnswer, match="ENTRA_SYNC_ATLASSIAN_SITE"):
        discover_cloud_id(jira_api)


def hinted(http: httpx.Client, routes: AtlassianRoutes) -> ApiClient:
    return ApiClient(
        "jira",
        routes.jira_base,
        http,
        counter=RequestCounter(),
        retry=RetryPolicy(sleep=lambda _: None),
        unauthorized_hint=routes.unauthorized_hint(),
    )


def test_a_401_with_a_classic_token_says_so_and_what_to_check(
    router: respx.MockRouter, http: httpx.Client
) -> None:
    router.get(f"{JIRA}/rest/api/3/users/search").mock(
        return_value=httpx.Response(401, json={"errorMessages": ["Client must be authenticated"]})
    )
    with pytest.raises(AuthenticationError) as raised:
        hinted(http, CLASSIC).get_json("/rest/api/3/users/search")
    text = str(raised.value)
    assert "Client must be authenticated; Atlassian refused the classic API token" in text
    for name in ("EMAIL", "API_TOKEN", "SITE", "TOKEN_KIND=scoped"):
        assert f"ENTRA_SYNC_ATLASSIAN_{name}" in text


def test_a_401_with_a_scoped_token_names_scopes_cloud_id_and_access(
    router: respx.MockRouter, http: httpx.Client
) -> None:
    router.get(f"{ADMIN}/ex/jira/{CLOUD_ID}/rest/api/3/users/search").mock(
        return_value=httpx.Response(401, json={"code": 401, "message": "Unauthorized"})
    )
    with pytest.raises(AuthenticationError) as raised:
        hinted(http, SCOPED).get_json("/rest/api/3/users/search")
    text = str(raised.value)
    assert "Unauthorized; Atlassian refused the scoped API token" in text
    assert CLOUD_ID in text
    assert "docs/atlassian-access.md" in text
    assert "access to the Jira site" in text
    assert "ENTRA_SYNC_ATLASSIAN_TOKEN_KIND=classic" in text


def test_the_hint_is_for_401_only(router: respx.MockRouter, http: httpx.Client) -> None:
    router.get(f"{JIRA}/rest/api/3/users/search").mock(
        return_value=httpx.Response(403, json={"errorMessages": ["Forbidden"]})
    )
    with pytest.raises(PermissionDenied) as raised:
        hinted(http, CLASSIC).get_json("/rest/api/3/users/search")
    assert "refused the classic" not in str(raised.value)
