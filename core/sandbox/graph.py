"""Microsoft Graph ``/v1.0``: users, their managers, ``$count``, ``$batch`` and delta.

Paging, the 999 and ``$expand`` page caps, and the ``ConsistencyLevel`` rule behave as
documented, because the engine's paging and batching code is only as good as the
service it was tested against.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import unquote

import httpx

from core.sandbox.faults import FaultBook
from core.sandbox.graph_delta import handle_delta
from core.sandbox.graph_query import (
    DEFAULT_USER_SELECT,
    EXPANDED_COLLECTION_CAP,
    Expand,
    context_suffix,
    parse_expand,
    parse_filter,
    parse_select,
    render_directory_object,
    render_user,
)
from core.sandbox.http import (
    HttpError,
    bearer_token,
    graph_error,
    json_response,
    origin,
    text_response,
)
from core.sandbox.records import SandboxContact, SandboxUser
from core.sandbox.state import SandboxState

DEFAULT_PAGE = 100
MAX_PAGE = 999
EXPAND_PAGE = 100  # Graph's cap for $expand on directory-object collections
MAX_BATCH = 20


def handle_graph(state: SandboxState, request: httpx.Request, faults: FaultBook) -> httpx.Response:
    """Route a request whose path starts with ``/v1.0/``."""
    _authenticate(state, request)
    parts = request.url.path.split("/")[2:]
    if parts == ["$batch"] and request.method == "POST":
        return _batch(state, request, faults)
    if request.method != "GET" or not parts or parts[0] != "users" or len(parts) > 3:
        raise _not_found_segment(request.url.path)
    if len(parts) == 1:
        return _list_users(state, request)
    if len(parts) == 2:
        return _one_user_segment(state, request, parts[1])
    if parts[2] == "manager":
        return _get_manager(state, request, parts[1])
    if parts[2] == "directReports":
        return _get_reports(state, request, parts[1])
    raise _not_found_segment(request.url.path)


def _one_user_segment(state: SandboxState, request: httpx.Request, segment: str) -> httpx.Response:
    """``/users/$count``, ``/users/delta`` or ``/users/{id or UPN}``."""
    if segment == "$count":
        return _count_users(state, request)
    if segment == "delta":
        return handle_delta(state, request)
    return _get_user(state, request, segment)


def _authenticate(state: SandboxState, request: httpx.Request) -> None:
    token = bearer_token(request)
    if token is None:
        raise graph_error(401, "InvalidAuthenticationToken", "Access token is empty.")
    if token not in state.tokens:
        raise graph_error(
            401,
            "InvalidAuthenticationToken",
            "IDX14100: JWT is not well formed, there are no dots.",
        )


def _not_found_segment(path: str) -> HttpError:
    return graph_error(
        404, "Request_ResourceNotFound", f"Resource not found for the segment '{path}'."
    )


def _user_not_found(key: str) -> HttpError:
    return graph_error(
        404,
        "Request_ResourceNotFound",
        f"Resource '{key}' does not exist or one of its queried reference-property "
        "objects are not present.",
    )


def _page_size(request: httpx.Request, expand: Expand | None) -> int:
    raw = request.url.params.get("$top")
    size = DEFAULT_PAGE
    if raw is not None:
        try:
            size = int(raw)
        except ValueError:
            size = -1
        if not 1 <= size <= MAX_PAGE:
            raise graph_error(
                400,
                "Request_BadRequest",
                f"Invalid page size specified: '{raw}'. Must be between 1 and 999 inclusive.",
            )
    return min(size, EXPAND_PAGE) if expand is not None else size


def _encode_skiptoken(listing: int, offset: int) -> str:
    text = f"sandbox-users:{listing}:{offset}"
    return "RFNwdAI" + base64.urlsafe_b64encode(text.encode()).decode()


def _decode_skiptoken(token: str) -> tuple[int, int]:
    """(listing number, offset) from a ``$skiptoken`` this sandbox handed out."""
    try:
        prefix, listing, offset = base64.urlsafe_b64decode(token[7:]).decode().split(":")
        if prefix == "sandbox-users" and token.startswith("RFNwdAI"):
            return int(listing), int(offset)
    except (ValueError, UnicodeDecodeError):
        pass
    raise _expired_skiptoken()


def _expired_skiptoken() -> HttpError:
    return graph_error(400, "Request_BadRequest", "'$skiptoken' is malformed or has expired.")


def _matching_users(state: SandboxState, request: httpx.Request) -> list[SandboxUser]:
    predicate = parse_filter(request.url.params.get("$filter"))
    users = list(state.users.values())
    return users if predicate is None else [u for u in users if predicate(u)]


def _listing(
    state: SandboxState, request: httpx.Request
) -> tuple[int | None, tuple[str, ...], int]:
    """(listing number, the ids it lists, offset) for a first page or a ``$skiptoken``.

    The ids are taken once, on the first page, like a server-side cursor: later pages
    cost their own size, not the directory's, and a user deleted meanwhile is left out
    without shifting anyone else off the listing. A first page has no number yet.
    """
    token = request.url.params.get("$skiptoken")
    if token is None:
        return None, tuple(u.id for u in _matching_users(state, request)), 0
    number, offset = _decode_skiptoken(token)
    kept = state.listing(number)
    if kept is None:
        raise _expired_skiptoken()
    return number, kept, offset


def _render(
    state: SandboxState, user: SandboxUser, select: tuple[str, ...], expand: Expand | None
) -> dict[str, Any]:
    body = render_user(user, select)
    body.update({name: None for name in select if name in state.withheld})
    if expand is not None and expand.reports:
        reports = [u for u in state.users.values() if u.manager_id == user.id]
        body["directReports"] = [
            render_directory_object(r, expand.select) for r in reports[:EXPANDED_COLLECTION_CAP]
        ]
    elif expand is not None:
        manager = _manager_of(state, user)
        if manager is not None:
            body["manager"] = render_directory_object(manager, expand.select)
    return body


def _manager_of(state: SandboxState, user: SandboxUser) -> SandboxUser | SandboxContact | None:
    if user.manager_id is None:
        return None
    return state.users.get(user.manager_id) or state.contacts.get(user.manager_id)


def _list_users(state: SandboxState, request: httpx.Request) -> httpx.Response:
    params = request.url.params
    select = parse_select(params.get("$select"))
    expand = parse_expand(params.get("$expand"))
    size = _page_size(request, expand)
    number, ids, offset = _listing(state, request)
    suffix = context_suffix(select, expand)
    body: dict[str, Any] = {"@odata.context": f"{origin(request)}/v1.0/$metadata#users{suffix}"}
    if params.get("$count", "").lower() == "true" and _eventual(request):
        body["@odata.count"] = len(ids)
    if offset + size < len(ids):
        if number is None:  # a listing longer than a page: kept for its next pages
            number = state.open_listing(ids)
        body["@odata.nextLink"] = _next_link(request, _encode_skiptoken(number, offset + size))
    page = (state.users.get(i) for i in ids[offset : offset + size])
    body["value"] = [_render(state, u, select, expand) for u in page if u is not None]
    return json_response(200, body)


def _next_link(request: httpx.Request, skiptoken: str) -> str:
    """The request URL with every original parameter kept and ``$skiptoken`` replaced."""
    query = request.url.query.decode("ascii")
    kept = [p for p in query.split("&") if p and unquote(p.split("=")[0]) != "$skiptoken"]
    kept.append(f"$skiptoken={skiptoken}")
    return f"{origin(request)}{request.url.path}?{'&'.join(kept)}"


def _eventual(request: httpx.Request) -> bool:
    level: str = request.headers.get("ConsistencyLevel", "")
    return level.lower() == "eventual"


def _count_users(state: SandboxState, request: httpx.Request) -> httpx.Response:
    if not _eventual(request):
        raise graph_error(400, "Request_BadRequest", "Count is not currently supported.")
    return text_response(200, str(len(_matching_users(state, request))))


def _get_user(state: SandboxState, request: httpx.Request, key: str) -> httpx.Response:
    user = state.find_user(key)
    if user is None:
        raise _user_not_found(key)
    select = parse_select(request.url.params.get("$select"))
    expand = parse_expand(request.url.params.get("$expand"))
    suffix = context_suffix(select, expand)
    context = f"{origin(request)}/v1.0/$metadata#users{suffix}/$entity"
    return json_response(200, {"@odata.context": context, **_render(state, user, select, expand)})


def _get_manager(state: SandboxState, request: httpx.Request, key: str) -> httpx.Response:
    user = state.find_user(key)
    if user is None:
        raise _user_not_found(key)
    manager = _manager_of(state, user)
    if manager is None:
        raise _user_not_found("manager")
    raw = request.url.params.get("$select")
    select = parse_select(raw) if raw is not None else DEFAULT_USER_SELECT
    context = f"{origin(request)}/v1.0/$metadata#directoryObjects/$entity"
    return json_response(
        200, {"@odata.context": context, **render_directory_object(manager, select)}
    )


def _get_reports(state: SandboxState, request: httpx.Request, key: str) -> httpx.Response:
    """The users (and contacts) whose manager is ``key``, typed, in one page."""
    user = state.find_user(key)
    if user is None:
        raise _user_not_found(key)
    raw = request.url.params.get("$select")
    select = parse_select(raw) if raw is not None else DEFAULT_USER_SELECT
    reports = [u for u in state.users.values() if u.manager_id == user.id]
    context = f"{origin(request)}/v1.0/$metadata#directoryObjects"
    body = {
        "@odata.context": context,
        "value": [render_directory_object(r, select) for r in reports],
    }
    return json_response(200, body)


def _batch(state: SandboxState, request: httpx.Request, faults: FaultBook) -> httpx.Response:
    """JSON batching: each item is routed like a top-level request, under one auth."""
    items = _batch_items(request)
    responses = [_batch_item(state, request, faults, item) for item in items]
    return json_response(200, {"responses": responses})


def _batch_items(request: httpx.Request) -> list[dict[str, Any]]:
    try:
        body = json.loads(request.content or b"null")
    except ValueError:
        body = None
    items = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise graph_error(400, "BadRequest", "Invalid batch payload format.")
    if len(items) > MAX_BATCH:
        raise graph_error(
            400, "BadRequest", f"Too many requests in a batch. Max allowed is {MAX_BATCH}."
        )
    ids = [item.get("id") if isinstance(item, dict) else None for item in items]
    if any(not isinstance(i, str) or not i for i in ids) or len(set(ids)) != len(ids):
        raise graph_error(400, "BadRequest", "Batch request ids must be unique, non-empty strings.")
    for item in items:
        if not isinstance(item.get("url"), str) or not isinstance(item.get("method"), str):
            raise graph_error(
                400, "BadRequest", f"Batch request '{item['id']}' needs method and url."
            )
    return items


def _batch_item(
    state: SandboxState, batch: httpx.Request, faults: FaultBook, item: dict[str, Any]
) -> dict[str, Any]:
    method, url = item["method"].upper(), item["url"]
    fault = faults.take("graph", method, url, batch_item=True)
    if fault is not None and not fault.processes:
        return _item(item["id"], fault.error("graph").response())
    headers = {str(k): str(v) for k, v in (item.get("headers") or {}).items()}
    if "Authorization" in batch.headers:
        headers["Authorization"] = batch.headers["Authorization"]
    relative = url if url.startswith("/") else "/" + url
    if relative.startswith("/$batch"):
        nested = graph_error(400, "BadRequest", "A batch request cannot contain a batch.")
        return _item(item["id"], nested.response())
    sub = httpx.Request(
        method, f"{origin(batch)}/v1.0{relative}", headers=headers, json=item.get("body")
    )
    try:
        response = handle_graph(state, sub, faults)
    except HttpError as error:
        response = error.response()
    if fault is not None:  # handled first, then spoiled or answered with the fault's error
        response = (
            fault.spoil("graph", response) if fault.answer else fault.error("graph").response()
        )
    return _item(item["id"], response)


def _item(item_id: str, response: httpx.Response) -> dict[str, Any]:
    kept = ("Content-Type", "Retry-After", "request-id")
    headers = {name: response.headers[name] for name in kept if name in response.headers}
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    return {"id": item_id, "status": response.status_code, "headers": headers, "body": body}
