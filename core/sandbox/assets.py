"""JSM Assets REST, relative to ``/jsm/assets/workspace/{workspaceId}/v1/``.

Routes map one-to-one onto the endpoints the engine's schema bootstrap, preload and
applier call; ``DELETE object/{id}`` exists so tests can assert nobody calls it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx

from core.sandbox.assets_aql import compile_aql
from core.sandbox.assets_model import (
    GLOBAL_ICONS,
    AssetObject,
    icon_json,
    object_type_json,
    reference_type_json,
    schema_json,
)
from core.sandbox.assets_objects import ObjectRenderer, ObjectWriter
from core.sandbox.assets_store import AssetsStore
from core.sandbox.atlassian import require_site_auth
from core.sandbox.http import atlassian_error, int_param, json_body, json_response
from core.sandbox.state import SandboxState

AQL_DEFAULT_PAGE = 25
AQL_MAX_PAGE = 1000
SCHEMA_DEFAULT_PAGE = 25
Handler = Callable[["AssetsApi", httpx.Request, str], httpx.Response]
_PREFIX = re.compile(r"^/jsm/assets/workspace/(?P<workspace>[^/]+)/v1/(?P<rest>.*)$")


class AssetsApi:
    """One request's view of the workspace: the store plus the Atlassian accounts."""

    def __init__(self, state: SandboxState) -> None:
        self.store: AssetsStore = state.assets
        self.writer = ObjectWriter(state.assets, state.accounts)
        self.renderer = ObjectRenderer(state.assets, state.accounts)

    def schema(self, schema_id: str) -> dict[str, Any]:
        schema = self.store.schema(schema_id)
        type_ids = {t.id for t in self.store.types_of(schema_id)}
        return schema_json(
            self.store.workspace_id, schema, self.store.count_objects(type_ids), len(type_ids)
        )

    def object_type(self, type_id: str) -> dict[str, Any]:
        kind = self.store.object_type(type_id)
        return object_type_json(self.store.workspace_id, kind, self.store.count_objects({type_id}))

    def object(self, object_id: str) -> AssetObject:
        obj = self.store.objects.get(object_id)
        if obj is None:
            raise atlassian_error(404, [f"No object found with id: {object_id}"])
        return obj


def handle_assets(state: SandboxState, request: httpx.Request) -> httpx.Response:
    require_site_auth(request)
    match = _PREFIX.match(request.url.path)
    if match is None or match.group("workspace") != state.org.workspace_id:
        raise atlassian_error(404, [f"Workspace not found for path {request.url.path}"])
    rest = match.group("rest").rstrip("/")
    api = AssetsApi(state)
    for method, pattern, handler in _ROUTES:
        found = pattern.fullmatch(rest)
        if found and method == request.method:
            return handler(api, request, found.group(1) if pattern.groups else "")
    raise atlassian_error(404, [f"No endpoint for {request.method} {request.url.path}"])


def _list_schemas(api: AssetsApi, request: httpx.Request, _: str) -> httpx.Response:
    """One page of schemas: ``startAt``/``maxResults``, capped at the store's page limit.

    A larger ``maxResults`` is quietly cut to the limit, and ``isLast`` says whether
    more follow, so a client that reads one page misses every schema after it.
    """
    bad = atlassian_error(400, ["startAt and maxResults must be integers"])
    start = max(int_param(request, "startAt", 0, bad), 0)
    limit = api.store.schema_page_limit
    size = min(max(int_param(request, "maxResults", SCHEMA_DEFAULT_PAGE, bad), 1), limit)
    schemas = list(api.store.schemas)
    page = [api.schema(s) for s in schemas[start : start + size]]
    body = {
        "startAt": start,
        "maxResults": size,
        "total": len(schemas),
        "isLast": start + size >= len(schemas),
    }
    return json_response(200, {**body, "values": page})


def _create_schema(api: AssetsApi, request: httpx.Request, _: str) -> httpx.Response:
    schema = api.store.create_schema(json_body(request))
    return json_response(201, api.schema(schema.id))


def _get_schema(api: AssetsApi, request: httpx.Request, schema_id: str) -> httpx.Response:
    return json_response(200, api.schema(schema_id))


def _schema_types(api: AssetsApi, request: httpx.Request, schema_id: str) -> httpx.Response:
    api.store.schema(schema_id)
    return json_response(200, [api.object_type(t.id) for t in api.store.types_of(schema_id)])


def _global_icons(api: AssetsApi, request: httpx.Request, _: str) -> httpx.Response:
    ws = api.store.workspace_id
    return json_response(200, [icon_json(ws, str(i)) for i in range(1, len(GLOBAL_ICONS) + 1)])


def _create_type(api: AssetsApi, request: httpx.Request, _: str) -> httpx.Response:
    kind = api.store.create_type(json_body(request))
    return json_response(201, api.object_type(kind.id))


def _get_type(api: AssetsApi, request: httpx.Request, type_id: str) -> httpx.Response:
    return json_response(200, api.object_type(type_id))


def _type_attributes(api: AssetsApi, request: httpx.Request, type_id: str) -> httpx.Response:
    api.store.object_type(type_id)
    attributes = api.store.attributes_of(type_id)
    return json_response(200, [api.store.attribute_json(a) for a in attributes])


def _create_attribute(api: AssetsApi, request: httpx.Request, type_id: str) -> httpx.Response:
    attr = api.store.create_attribute(type_id, json_body(request))
    return json_response(201, api.store.attribute_json(attr))


def _reference_types(api: AssetsApi, request: httpx.Request, _: str) -> httpx.Response:
    """Global types only, unless ``objectSchemaId`` asks for that schema's own.

    ``includeAll=true`` lists every type, global and of every schema.
    """
    ws = api.store.workspace_id
    params = request.url.params
    if params.get("includeAll", "").lower() == "true":
        found = list(api.store.reference_types.values())
    elif params.get("objectSchemaId"):
        found = api.store.reference_types_of(api.store.schema(params["objectSchemaId"]).id)
    else:
        found = api.store.reference_types_of(None)
    return json_response(200, [reference_type_json(ws, r) for r in found])


def _add_reference_type(api: AssetsApi, request: httpx.Request, _: str) -> httpx.Response:
    ref = api.store.add_reference_type(json_body(request))
    return json_response(201, reference_type_json(api.store.workspace_id, ref))


def _aql_matches(api: AssetsApi, request: httpx.Request) -> list[AssetObject]:
    query = json_body(request).get("qlQuery")
    if not isinstance(query, str) or not query.strip():
        raise atlassian_error(400, [], {"qlQuery": "qlQuery is required"})
    predicate = compile_aql(api.store, query.strip())
    return [o for o in api.store.objects.values() if predicate(o)]


def _aql(api: AssetsApi, request: httpx.Request, _: str) -> httpx.Response:
    bad = atlassian_error(400, ["startAt and maxResults must be integers"])
    start = max(int_param(request, "startAt", 0, bad), 0)
    size = min(max(int_param(request, "maxResults", AQL_DEFAULT_PAGE, bad), 1), AQL_MAX_PAGE)
    include = request.url.params.get("includeAttributes", "true").lower() != "false"
    matches = _aql_matches(api, request)
    page = matches[start : start + size]
    type_ids = sorted({o.object_type_id for o in matches}, key=int)
    attributes = [a for t in type_ids for a in api.store.attributes_of(t)]
    is_last = start + size >= len(matches)
    return json_response(
        200,
        {
            "startAt": start,
            "maxResults": size,
            "total": len(matches),
            "isLast": is_last,
            "values": [api.renderer.render(o, include_attributes=include) for o in page],
            "objectTypeAttributes": [api.store.attribute_json(a) for a in attributes],
        },
    )


def _aql_count(api: AssetsApi, request: httpx.Request, _: str) -> httpx.Response:
    return json_response(200, {"totalCount": len(_aql_matches(api, request))})


def _create_object(api: AssetsApi, request: httpx.Request, _: str) -> httpx.Response:
    obj = api.writer.create(json_body(request))
    return json_response(201, api.renderer.render(obj))


def _get_object(api: AssetsApi, request: httpx.Request, object_id: str) -> httpx.Response:
    return json_response(200, api.renderer.render(api.object(object_id)))


def _update_object(api: AssetsApi, request: httpx.Request, object_id: str) -> httpx.Response:
    obj = api.writer.update(api.object(object_id), json_body(request))
    return json_response(200, api.renderer.render(obj))


def _delete_object(api: AssetsApi, request: httpx.Request, object_id: str) -> httpx.Response:
    api.store.delete_object(api.object(object_id))
    return httpx.Response(204)


_ID = r"(\d+)"
_ROUTES: tuple[tuple[str, re.Pattern[str], Handler], ...] = tuple(
    (method, re.compile(pattern), handler)
    for method, pattern, handler in (
        ("GET", "objectschema/list", _list_schemas),
        ("POST", "objectschema/create", _create_schema),
        ("GET", f"objectschema/{_ID}", _get_schema),
        ("GET", f"objectschema/{_ID}/objecttypes(?:/flat)?", _schema_types),
        ("GET", "icon/global", _global_icons),
        ("POST", "objecttype/create", _create_type),
        ("GET", f"objecttype/{_ID}", _get_type),
        ("GET", f"objecttype/{_ID}/attributes", _type_attributes),
        ("POST", f"objecttypeattribute/{_ID}", _create_attribute),
        ("GET", "config/referencetype", _reference_types),
        ("POST", "config/referencetype", _add_reference_type),
        ("POST", "object/aql", _aql),
        ("POST", "object/aql/totalcount", _aql_count),
        ("POST", "object/create", _create_object),
        ("GET", f"object/{_ID}", _get_object),
        ("PUT", f"object/{_ID}", _update_object),
        ("DELETE", f"object/{_ID}", _delete_object),
    )
)
