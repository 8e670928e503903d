"""Jira Cloud user search, the JSM Assets workspace lookup and the org admin user list.

Jira pages with bare arrays (no ``isLast``); the admin API pages with opaque cursors
and lists managed accounts only. Both shapes are easy to get wrong, hence faithful here.

Two API tokens of the one sandbox account are accepted, each only where Atlassian
accepts its kind: the classic token (made without scopes) on the site's own paths and
on ``/jsm/assets/...``; the scoped token only through the gateway,
``/ex/jira/<cloud id>/...`` (see :mod:`core.sandbox.app`). Either one at the other
door is answered 401, as a scoped token sent to ``<site>.atlassian.net`` is.
``/_edge/tenant_info`` tells the site's cloud id to anyone.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

import httpx

from core.sandbox.credentials import (
    SANDBOX_ATLASSIAN_API_TOKEN,
    SANDBOX_ATLASSIAN_EMAIL,
    SANDBOX_ATLASSIAN_SCOPED_TOKEN,
    SANDBOX_CLOUD_ID,
    SANDBOX_ORG_API_KEY,
    SANDBOX_ORG_ID,
)
from core.sandbox.http import (
    admin_error,
    atlassian_error,
    basic_credentials,
    bearer_token,
    int_param,
    json_response,
    origin,
    via_gateway,
)
from core.sandbox.records import SandboxAccount
from core.sandbox.state import SandboxState

JIRA_DEFAULT_PAGE = 50
JIRA_MAX_PAGE = 1000
ADMIN_PAGE = 100


SITE_UNAUTHENTICATED = "Client must be authenticated to access this resource."
GATEWAY_UNAUTHORIZED = "Unauthorized; scope does not match"
NO_BROWSE_USERS = "You do not have the Browse users and groups global permission."


def require_site_auth(request: httpx.Request) -> None:
    """Basic ``email:api_token``, as Jira and Assets both require, of the right kind.

    The classic token is good on the site and ``/jsm/assets``; the scoped token only
    through the gateway. Anything else is a 401 in the shape of the door it came in by.
    """
    gateway = via_gateway(request)
    expected = SANDBOX_ATLASSIAN_SCOPED_TOKEN if gateway else SANDBOX_ATLASSIAN_API_TOKEN
    credentials = basic_credentials(request)
    if credentials is None or not (
        credentials[0] == SANDBOX_ATLASSIAN_EMAIL
        and secrets.compare_digest(credentials[1], expected)
    ):
        if gateway:
            raise admin_error(401, GATEWAY_UNAUTHORIZED)
        raise atlassian_error(401, [SITE_UNAUTHENTICATED])


def handle_jira(state: SandboxState, request: httpx.Request) -> httpx.Response:
    path = request.url.path.rstrip("/")
    if request.method == "GET" and path == "/_edge/tenant_info" and not via_gateway(request):
        return json_response(200, {"cloudId": SANDBOX_CLOUD_ID})
    require_site_auth(request)
    if request.method == "GET" and path in ("/rest/api/3/users/search", "/rest/api/3/users"):
        if not state.browse_users:
            raise atlassian_error(403, [NO_BROWSE_USERS])
        return _users_search(state, request)
    if request.method == "GET" and path == "/rest/api/3/user":
        return _user(state, request)
    if request.method == "GET" and path == "/rest/api/3/user/search":
        return _user_search(state, request)
    if request.method == "GET" and path == "/rest/servicedeskapi/assets/workspace":
        values = [{"workspaceId": state.org.workspace_id}]
        return json_response(
            200, {"size": 1, "start": 0, "limit": 50, "isLastPage": True, "values": values}
        )
    raise atlassian_error(404, [f"No endpoint for {request.method} {request.url.path}"])


def _users_search(state: SandboxState, request: httpx.Request) -> httpx.Response:
    bad = atlassian_error(400, ["startAt and maxResults must be non-negative integers."])
    start = int_param(request, "startAt", 0, bad)
    size = min(int_param(request, "maxResults", JIRA_DEFAULT_PAGE, bad), JIRA_MAX_PAGE)
    if start < 0 or size < 0:
        raise bad
    accounts = list(state.accounts.values())[start : start + size]
    return json_response(200, [_jira_user(request, a) for a in accounts])


def _user(state: SandboxState, request: httpx.Request) -> httpx.Response:
    """One account by id; any account type, active or not, as Jira answers it."""
    account_id = request.url.params.get("accountId")
    if not account_id:
        raise atlassian_error(400, ["The accountId query parameter needs to be provided."])
    account = state.accounts.get(account_id)
    if account is None:
        raise atlassian_error(
            404, ["Specified user does not exist or you do not have required permissions"]
        )
    return json_response(200, _jira_user(request, account))


def _user_search(state: SandboxState, request: httpx.Request) -> httpx.Response:
    """Active users whose display name (a word of it) or visible email starts with ``query``.

    Hidden emails are not searched, as profile visibility hides them from this endpoint.
    """
    query = (request.url.params.get("query") or "").strip().lower()
    account_id = request.url.params.get("accountId")
    if not query and not account_id:
        raise atlassian_error(400, ["One of 'query' or 'accountId' parameters must be provided."])
    bad = atlassian_error(400, ["startAt and maxResults must be non-negative integers."])
    start = int_param(request, "startAt", 0, bad)
    size = min(int_param(request, "maxResults", JIRA_DEFAULT_PAGE, bad), JIRA_MAX_PAGE)

    def matches(account: SandboxAccount) -> bool:
        if account_id:
            return bool(account.account_id == account_id)
        words = account.display_name.lower().split()
        email = (account.email or "").lower() if account.visible else ""
        return any(w.startswith(query) for w in words) or bool(email and email.startswith(query))

    found = [a for a in state.accounts.values() if a.active and matches(a)]
    return json_response(200, [_jira_user(request, a) for a in found[start : start + size]])


def _jira_user(request: httpx.Request, account: SandboxAccount) -> dict[str, Any]:
    user: dict[str, Any] = {
        "self": f"{origin(request)}/rest/api/3/user?accountId={account.account_id}",
        "accountId": account.account_id,
        "accountType": account.account_type,
    }
    if account.visible and account.email:
        user["emailAddress"] = account.email
    user.update(displayName=account.display_name, active=account.active, locale="en_US")
    return user


def handle_admin(state: SandboxState, request: httpx.Request) -> httpx.Response:
    token = bearer_token(request)
    if token is None or not secrets.compare_digest(token, SANDBOX_ORG_API_KEY):
        raise admin_error(401, "Unauthorized; scope does not match")
    parts = request.url.path.rstrip("/").split("/")[1:]
    if request.method != "GET" or len(parts) != 5 or parts[:3] != ["admin", "v1", "orgs"]:
        raise admin_error(404, f"No endpoint for {request.method} {request.url.path}")
    if parts[3] != SANDBOX_ORG_ID or parts[4] != "users":
        raise admin_error(404, f"Organization '{parts[3]}' not found")
    return _org_users(state, request)


def _org_users(state: SandboxState, request: httpx.Request) -> httpx.Response:
    managed = [a for a in state.accounts.values() if a.managed and a.account_type == "atlassian"]
    offset = _decode_cursor(request.url.params.get("cursor"))
    links = {"self": str(request.url)}
    if offset + ADMIN_PAGE < len(managed):
        links["next"] = str(
            request.url.copy_set_param("cursor", _encode_cursor(offset + ADMIN_PAGE))
        )
    data = [_admin_user(a) for a in managed[offset : offset + ADMIN_PAGE]]
    return json_response(200, {"data": data, "links": links, "meta": {"total": len(managed)}})


def _admin_user(account: SandboxAccount) -> dict[str, Any]:
    return {
        "account_id": account.account_id,
        "account_type": account.account_type,
        "account_status": "active" if account.active else "inactive",
        "name": account.display_name,
        "email": account.email,
        "access_billable": account.active,
        "product_access": [{"key": "jira-servicedesk", "name": "Jira Service Management"}],
    }


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"org-users|{offset}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        prefix, _, offset = base64.urlsafe_b64decode(padded).decode().partition("|")
        if prefix == "org-users":
            return int(offset)
    except (ValueError, UnicodeDecodeError):
        pass
    raise admin_error(400, "Invalid cursor")
