"""The Microsoft identity platform's discovery and token endpoints, client credentials only.

Enough for MSAL Python built with ``instance_discovery=False``: it reads
``authorization_endpoint``, ``token_endpoint``, ``issuer`` and
``device_authorization_endpoint`` from discovery, then posts the secret as form fields.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import parse_qs

import httpx

from core.sandbox.credentials import (
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_DOMAIN,
    SANDBOX_TENANT_ID,
)
from core.sandbox.http import (
    basic_credentials,
    json_response,
    login_error,
    origin,
)
from core.sandbox.state import SandboxState

TOKEN_LIFETIME = 3599
_TENANT_ALIASES = {SANDBOX_TENANT_ID, SANDBOX_DOMAIN}


def is_login_path(parts: list[str]) -> bool:
    """``/{tenant}/v2.0/.well-known/...`` or ``/{tenant}/oauth2/v2.0/token``."""
    return len(parts) >= 3 and (parts[1:3] == ["v2.0", ".well-known"] or parts[1] == "oauth2")


def handle_login(state: SandboxState, request: httpx.Request) -> httpx.Response:
    parts = request.url.path.split("/")[1:]
    tenant = parts[0]
    if parts[1:] == ["v2.0", ".well-known", "openid-configuration"] and request.method == "GET":
        return json_response(200, _openid_configuration(request, tenant))
    if parts[1:] == ["oauth2", "v2.0", "token"] and request.method == "POST":
        return _token(state, request, tenant)
    raise login_error(
        404, "invalid_request", f"AADSTS900561: The endpoint {request.url.path} does not exist."
    )


def _check_tenant(tenant: str, error: str) -> None:
    if tenant.lower() not in _TENANT_ALIASES:
        raise login_error(
            400,
            error,
            f"AADSTS90002: Tenant '{tenant}' not found. Check to make sure you have the "
            "correct tenant ID and are signing into the correct cloud. Check with your "
            "subscription administrator, this may happen if there are no active "
            "subscriptions for the tenant.",
        )


def _openid_configuration(request: httpx.Request, tenant: str) -> dict[str, Any]:
    _check_tenant(tenant, "invalid_tenant")
    base = f"{origin(request)}/{SANDBOX_TENANT_ID}"
    return {
        "token_endpoint": f"{base}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": [
            "client_secret_post",
            "private_key_jwt",
            "client_secret_basic",
        ],
        "jwks_uri": f"{base}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": f"{base}/v2.0",
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": f"{origin(request)}/oidc/userinfo",
        "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "tid", "oid", "name"],
        "tenant_region_scope": "EU",
        "cloud_instance_name": request.url.host,
    }


def _form(request: httpx.Request) -> dict[str, str]:
    parsed = parse_qs(request.content.decode("utf-8", "replace"), keep_blank_values=True)
    return {key: values[0] for key, values in parsed.items()}


def _token(state: SandboxState, request: httpx.Request, tenant: str) -> httpx.Response:
    _check_tenant(tenant, "invalid_request")
    form = _form(request)
    client_id, secret = form.get("client_id"), form.get("client_secret")
    basic = basic_credentials(request)
    if basic is not None:
        client_id, secret = basic
    if form.get("grant_type") != "client_credentials":
        raise login_error(
            400,
            "unsupported_grant_type",
            f"AADSTS70003: The app requested an unsupported grant type '{form.get('grant_type')}'.",
        )
    if client_id != SANDBOX_CLIENT_ID:
        raise login_error(
            400,
            "unauthorized_client",
            f"AADSTS700016: Application with identifier '{client_id}' was not found in the "
            f"directory '{SANDBOX_DOMAIN}'. This can happen if the application has not been "
            "installed by the administrator of the tenant or consented to by any user in the "
            "tenant. You may have sent your authentication request to the wrong tenant.",
        )
    _check_secret(secret)
    _check_scope(form.get("scope", ""))
    token = secrets.token_urlsafe(48)
    state.tokens.add(token)
    body = {
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME,
        "ext_expires_in": TOKEN_LIFETIME,
        "access_token": token,
    }
    return json_response(200, body, {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"})


def _check_secret(secret: str | None) -> None:
    if not secret:
        raise login_error(
            401,
            "invalid_client",
            "AADSTS7000216: 'client_assertion', 'client_secret' or 'request' is required "
            "for the 'client_credentials' grant type.",
        )
    if not secrets.compare_digest(secret, SANDBOX_CLIENT_SECRET):
        raise login_error(
            401,
            "invalid_client",
            "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in "
            f"the request is the client secret value, not the client secret ID, for a secret "
            f"added to app '{SANDBOX_CLIENT_ID}'.",
        )


def _check_scope(scope: str) -> None:
    scopes = [s for s in scope.split() if s not in {"openid", "profile", "offline_access"}]
    if len(scopes) != 1 or not scopes[0].endswith("/.default"):
        raise login_error(
            400,
            "invalid_scope",
            f"AADSTS1002012: The provided value for scope {scope} is not valid. Client "
            "credential flows must have a scope value with /.default suffixed to the "
            "resource identifier (application ID URI).",
        )
