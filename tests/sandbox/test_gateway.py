"""Scoped API tokens: the sandbox answers them only through ``/ex/jira/<cloud id>``.

As Atlassian does: a scoped token sent to the site is refused with a 401, the same
paths under the gateway work, and the classic token keeps working on the site. The
site's cloud id is told to anyone by ``/_edge/tenant_info``.
"""

from __future__ import annotations

import base64

import httpx
import pytest

from core.sandbox import (
    SANDBOX_ATLASSIAN_API_TOKEN,
    SANDBOX_ATLASSIAN_EMAIL,
    SANDBOX_ATLASSIAN_SCOPED_TOKEN,
    SANDBOX_CLOUD_ID,
    Sandbox,
)
from tests.sandbox.conftest import API, JIRA

GATEWAY = f"{API}/ex/jira/{SANDBOX_CLOUD_ID}"
USERS = "/rest/api/3/users/search"
WORKSPACE = "/rest/servicedeskapi/assets/workspace"


def basic(token: str) -> dict[str, str]:
    pair = f"{SANDBOX_ATLASSIAN_EMAIL}:{token}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


CLASSIC = basic(SANDBOX_ATLASSIAN_API_TOKEN)
SCOPED = basic(SANDBOX_ATLASSIAN_SCOPED_TOKEN)


def assets_root(client: httpx.Client, base: str, auth: dict[str, str]) -> str:
    workspace = client.get(f"{base}{WORKSPACE}", headers=auth).json()["values"][0]["workspaceId"]
    return f"/jsm/assets/workspace/{workspace}/v1"


def test_tenant_info_tells_the_cloud_id_without_credentials(client: httpx.Client) -> None:
    response = client.get(f"{JIRA}/_edge/tenant_info")
    assert response.status_code == 200
    assert response.json() == {"cloudId": SANDBOX_CLOUD_ID}


def test_a_scoped_token_is_refused_on_the_site(client: httpx.Client) -> None:
    """The day-one failure: a service account's token on <site>.atlassian.net is a 401."""
    for path in (USERS, WORKSPACE):
        response = client.get(f"{JIRA}{path}", headers=SCOPED)
        assert response.status_code == 401
        assert response.json()["errorMessages"]


def test_a_scoped_token_works_through_the_gateway(client: httpx.Client, sandbox: Sandbox) -> None:
    users = client.get(f"{GATEWAY}{USERS}", params={"maxResults": 1000}, headers=SCOPED)
    assert users.status_code == 200
    assert len(users.json()) == len(sandbox.atlassian_accounts)
    root = assets_root(client, GATEWAY, SCOPED)
    schemas = client.get(f"{GATEWAY}{root}/objectschema/list", headers=SCOPED)
    assert schemas.status_code == 200
    assert schemas.json()["values"] == []


def test_a_scoped_token_is_refused_on_the_assets_api_without_the_gateway(
    client: httpx.Client,
) -> None:
    root = assets_root(client, GATEWAY, SCOPED)
    response = client.get(f"{API}{root}/objectschema/list", headers=SCOPED)
    assert response.status_code == 401


def test_the_classic_token_works_on_the_site_and_not_through_the_gateway(
    client: httpx.Client,
) -> None:
    assert client.get(f"{JIRA}{USERS}", headers=CLASSIC).status_code == 200
    root = assets_root(client, JIRA, CLASSIC)
    assert client.get(f"{API}{root}/objectschema/list", headers=CLASSIC).status_code == 200
    refused = client.get(f"{GATEWAY}{USERS}", headers=CLASSIC)
    assert refused.status_code == 401
    assert refused.json() == {"code": 401, "message": "Unauthorized; scope does not match"}


def test_an_unknown_cloud_id_is_answered_by_the_gateway(client: httpx.Client) -> None:
    response = client.get(f"{API}/ex/jira/not-this-site{USERS}", headers=SCOPED)
    assert response.status_code == 404
    assert response.json()["code"] == 404


def test_the_request_log_keeps_the_gateway_path(client: httpx.Client, sandbox: Sandbox) -> None:
    """Tests see which door a request came in by; faults still match by service and path."""
    client.get(f"{GATEWAY}{USERS}", headers=SCOPED)
    assert sandbox.request_log[-1] == ("jira", "GET", f"/ex/jira/{SANDBOX_CLOUD_ID}{USERS}")


@pytest.mark.parametrize(("base", "auth"), [(JIRA, CLASSIC), (GATEWAY, SCOPED)])
def test_without_browse_users_the_search_is_403(
    client: httpx.Client, sandbox: Sandbox, base: str, auth: dict[str, str]
) -> None:
    sandbox.revoke_browse_users()
    response = client.get(f"{base}{USERS}", headers=auth)
    assert response.status_code == 403
    assert "Browse users and groups" in response.json()["errorMessages"][0]
    assert client.get(f"{base}{WORKSPACE}", headers=auth).status_code == 200
