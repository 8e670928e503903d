"""The token endpoint and discovery, directly and through MSAL."""

from __future__ import annotations

import httpx
import msal
import pytest

from core.sandbox import (
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_TENANT_ID,
    Sandbox,
)
from tests.sandbox.conftest import LOGIN, issue_token

TOKEN_URL = f"{LOGIN}/{SANDBOX_TENANT_ID}/oauth2/v2.0/token"


def _form(**overrides: str) -> dict[str, str]:
    form = {
        "grant_type": "client_credentials",
        "client_id": SANDBOX_CLIENT_ID,
        "client_secret": SANDBOX_CLIENT_SECRET,
        "scope": "https://graph.sandbox.invalid/.default",
    }
    return {**form, **overrides}


def test_token_is_issued_and_accepted_by_graph(client: httpx.Client) -> None:
    token = issue_token(client)
    response = client.get(
        "https://graph.sandbox.invalid/v1.0/users?$top=1",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200


def test_token_response_shape(client: httpx.Client) -> None:
    body = client.post(TOKEN_URL, data=_form()).json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3599
    assert body["ext_expires_in"] == 3599
    assert body["access_token"]


def test_unknown_tenant(client: httpx.Client) -> None:
    response = client.get(f"{LOGIN}/nope/v2.0/.well-known/openid-configuration")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_tenant"
    assert "AADSTS90002: Tenant 'nope' not found" in response.json()["error_description"]


def test_unknown_client(client: httpx.Client) -> None:
    response = client.post(TOKEN_URL, data=_form(client_id="someone-else"))
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"
    assert response.json()["error_description"].startswith("AADSTS700016")


def test_bad_secret(client: httpx.Client) -> None:
    response = client.post(TOKEN_URL, data=_form(client_secret="wrong"))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.json()["error_description"].startswith("AADSTS7000215")


def test_scope_must_be_dot_default(client: httpx.Client) -> None:
    response = client.post(TOKEN_URL, data=_form(scope="User.Read.All"))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_discovery_names_the_token_endpoint_on_the_request_host(client: httpx.Client) -> None:
    config = client.get(
        f"https://elsewhere.invalid:8443/{SANDBOX_TENANT_ID}/v2.0/.well-known/openid-configuration"
    ).json()
    expected = f"https://elsewhere.invalid:8443/{SANDBOX_TENANT_ID}/oauth2/v2.0/token"
    assert config["token_endpoint"] == expected
    assert {"issuer", "authorization_endpoint", "jwks_uri"} <= config.keys()


def _msal_app(
    sandbox: Sandbox, secret: str = SANDBOX_CLIENT_SECRET, tenant: str = ""
) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        SANDBOX_CLIENT_ID,
        authority=f"{LOGIN}/{tenant or SANDBOX_TENANT_ID}",
        client_credential=secret,
        http_client=httpx.Client(transport=sandbox.transport()),
        instance_discovery=False,
    )


def test_msal_gets_a_token(sandbox: Sandbox) -> None:
    result = _msal_app(sandbox).acquire_token_for_client(
        scopes=["https://graph.sandbox.invalid/.default"]
    )
    assert result.get("access_token"), result
    assert sandbox.requests["login"] == 2  # discovery + token


def test_msal_reports_a_bad_secret(sandbox: Sandbox) -> None:
    result = _msal_app(sandbox, secret="wrong").acquire_token_for_client(
        scopes=["https://graph.sandbox.invalid/.default"]
    )
    assert result["error"] == "invalid_client"
    assert "AADSTS7000215" in result["error_description"]


def test_msal_refuses_an_unknown_tenant(sandbox: Sandbox) -> None:
    with pytest.raises(ValueError, match="tenant"):
        _msal_app(sandbox, tenant="not-a-tenant")
