"""JSM Assets: workspace discovery, schema objects, Employee reads and writes.

Reads page through AQL at 999 objects a page (``maxResults`` of 1000 or more once made
``isLast`` lie, JSDCLOUD-16556), and stop only on ``isLast``; the schema list pages the
same way. Writes send one object a
request, the only shape the API offers; the applier paces and parallelises them.

A create is never sent twice blindly. When its answer is lost or says nothing (a
timeout or reset after sending, a 5xx, a 409, a success without the object's id) it
may have happened, so
:func:`create_once` looks for what it would have made (an Employee by Entra User ID; a
schema, object type, reference type or attribute by key or name) and sends it again
only when that is not there, at most twice in all. Entra User ID is a unique attribute,
so a resend that races a create Assets had not yet indexed is refused rather than
stored as a second Employee.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from core.clients.http import ApiClient
from core.errors import (
    ApiError,
    IncompleteRead,
    ServerError,
    TransportFailure,
    UnreadableAnswer,
)
from core.sync import (
    Attr,
    AttributeValues,
    EmployeeRecord,
    employee_record,
    is_directory_object_id,
)

AQL_PAGE_SIZE = 999
SCHEMA_PAGE_SIZE = 50  # objectschema/list pages; its maximum page size is not documented
CREATE_ATTEMPTS = 2  # a create whose answer was lost is sent at most once more
T = TypeVar("T")

# Assets attribute type codes (ObjectTypeAttributeCreate.type / defaultTypeId).
TYPE_DEFAULT = 0
TYPE_REFERENCE = 1
TYPE_USER = 2
DEFAULT_TEXT = 0
DEFAULT_BOOLEAN = 2
DEFAULT_EMAIL = 8


@dataclass(frozen=True, slots=True)
class SchemaInfo:
    id: str
    name: str
    key: str


@dataclass(frozen=True, slots=True)
class ObjectTypeInfo:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class AttributeInfo:
    id: str
    name: str
    type: int
    default_type_id: int | None
    label: bool
    unique: bool
    reference_object_type_id: str | None


@dataclass(frozen=True, slots=True)
class NamedId:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class EmployeeType:
    """Where Employees live and which attribute id holds each of our fields."""

    schema_id: str
    object_type_id: str
    attribute_ids: tuple[tuple[Attr, str], ...]

    def attribute_id(self, attr: Attr) -> str:
        return dict(self.attribute_ids)[attr]


def answer_lost(error: ApiError) -> bool:
    """True when a failed create may have happened all the same.

    A transport failure after sending (timeout, reset), any 5xx (a gateway's 503 can
    follow the work), a success that cannot be read (:class:`UnreadableAnswer`) and a
    409 say nothing about whether the object was made. A 429 or another 4xx means it
    was not.
    """
    return isinstance(error, TransportFailure | ServerError) or error.status == 409


def _checking(
    employee_type: EmployeeType, check: Callable[[list[AttributeInfo]], None] | None
) -> Callable[[Mapping[str, Any]], None]:
    """The first-page hook that shows ``check`` the attributes an AQL page lists."""

    def first_page(page: Mapping[str, Any]) -> None:
        if check is not None and isinstance(page, Mapping) and page.get("values"):
            check(_listed_attributes(page, employee_type.object_type_id))

    return first_page


def create_once(create: Callable[[], T], find: Callable[[], T | None]) -> T:
    """Send ``create``; after an ambiguous failure, ``find`` what it would have made.

    Found: that is the result, and nothing is sent again. Not found: the create is sent
    once more. A resend refused with a 400 (a unique attribute already holds the
    value: the first create was processed after all, and only now visible) or failing
    ambiguously again is looked up once more; then its error stands. At most
    :data:`CREATE_ATTEMPTS` creates and as many look-ups.
    """
    for attempt in range(1, CREATE_ATTEMPTS + 1):
        try:
            return create()
        except ApiError as exc:
            refused_copy = attempt > 1 and exc.status == 400
            if not (answer_lost(exc) or refused_copy):
                raise
            try:
                made = find()
            except ApiError as lookup:
                raise ApiError(
                    exc.service,
                    f"the answer to a create was lost ({exc}) and looking for what it "
                    f"made failed ({lookup}); it may have been created: the next run "
                    "reads it back or creates it",
                    status=exc.status,
                    method=exc.method,
                    path=exc.path,
                ) from exc
            if made is not None:
                return made
            if attempt == CREATE_ATTEMPTS:
                raise
    raise AssertionError("unreachable: the last attempt returns or raises")


def aql_string(value: str) -> str:
    """``value`` as a double-quoted AQL string."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def discover_workspace(site: ApiClient) -> str:
    """The Assets workspace id of the Jira site; Assets URLs are built from it."""
    page = site.get_json("rest/servicedeskapi/assets/workspace")
    values = page.get("values") or []
    if not values:
        raise ApiError(
            "jira",
            "the site has no Assets workspace: Assets needs JSM Premium or Enterprise",
        )
    return str(values[0]["workspaceId"])


class AssetsClient:
    """Typed calls on ``{api}/jsm/assets/workspace/{id}/v1``."""

    def __init__(self, api: ApiClient) -> None:
        self._api = api

    def schemas(self) -> list[SchemaInfo]:
        """Every schema of the workspace, page after page until ``isLast``.

        ``objectschema/list`` pages like AQL does, and may answer fewer than asked for.
        One page alone would miss schema ENTRA on a site with many schemas, and the
        schema step would then try to create it again.
        """
        schemas: list[SchemaInfo] = []
        while True:
            params = {"startAt": len(schemas), "maxResults": SCHEMA_PAGE_SIZE}
            page = self._api.get_json("objectschema/list", params=params)
            values = page.get("values") or []
            schemas += [SchemaInfo(str(s["id"]), s["name"], s["objectSchemaKey"]) for s in values]
            if not values or page.get("isLast") is True or page.get("last") is True:
                return schemas

    def create_schema(self, name: str, key: str, description: str) -> SchemaInfo:
        body = {"name": name, "objectSchemaKey": key, "description": description}
        path = "objectschema/create"
        s = _created(self._api.post_json(path, body, idempotent=False), path, "id")
        return SchemaInfo(str(s["id"]), s.get("name") or name, s.get("objectSchemaKey") or key)

    def object_types(self, schema_id: str) -> list[ObjectTypeInfo]:
        types = self._api.get_json(f"objectschema/{schema_id}/objecttypes/flat")
        return [ObjectTypeInfo(str(t["id"]), t["name"]) for t in types]

    def global_icons(self) -> list[NamedId]:
        return [NamedId(str(i["id"]), i["name"]) for i in self._api.get_json("icon/global")]

    def create_object_type(
        self, schema_id: str, name: str, description: str, icon_id: str
    ) -> ObjectTypeInfo:
        body = {
            "name": name,
            "description": description,
            "iconId": icon_id,
            "objectSchemaId": schema_id,
            "inherited": False,
            "abstractObjectType": False,
        }
        path = "objecttype/create"
        t = _created(self._api.post_json(path, body, idempotent=False), path, "id")
        return ObjectTypeInfo(str(t["id"]), t.get("name") or name)

    def attributes(self, object_type_id: str) -> list[AttributeInfo]:
        items = self._api.get_json(f"objecttype/{object_type_id}/attributes")
        return [_attribute(a) for a in items]

    def create_attribute(self, object_type_id: str, spec: Mapping[str, Any]) -> AttributeInfo:
        path = f"objecttypeattribute/{object_type_id}"
        answer = self._api.post_json(path, dict(spec), idempotent=False)
        return _attribute(_created(answer, path, "id", "name"))

    def reference_types(self, schema_id: str) -> list[NamedId]:
        """The reference types of one schema.

        Without ``objectSchemaId`` Assets answers only the global types, so a type made
        in the schema would never be found and would be made again on every run.
        """
        params = {"objectSchemaId": schema_id}
        items = self._api.get_json("config/referencetype", params=params)
        return [NamedId(str(r["id"]), r["name"]) for r in items]

    def create_reference_type(self, schema_id: str, name: str, description: str) -> NamedId:
        """A reference type in the schema (``objectSchemaId``), not a global one."""
        body = {
            "name": name,
            "description": description,
            "color": "2684ff",
            "objectSchemaId": schema_id,
        }
        path = "config/referencetype"
        r = _created(self._api.post_json(path, body, idempotent=False), path, "id")
        return NamedId(str(r["id"]), r.get("name") or name)

    def employees(
        self,
        employee_type: EmployeeType,
        *,
        check: Callable[[list[AttributeInfo]], None] | None = None,
    ) -> list[EmployeeRecord]:
        """Every object of the Employee type, owned or not, paged to the end.

        Checked against the count Assets reports for the same query: a page marked
        last too early (it happened with large pages) would otherwise plan a create
        for every Employee it left out. ``check`` sees the attributes the first page
        lists for the Employee type (its ``objectTypeAttributes``) before any object
        is read with the ids it was given, and may raise to stop the read; a first
        page without objects lists none, and is not checked.
        """
        query = f"objectTypeId = {employee_type.object_type_id}"
        by_id = {attr_id: attr for attr, attr_id in employee_type.attribute_ids}
        first_page = _checking(employee_type, check)
        objects = self._aql(query, include_attributes=True, on_first_page=first_page)
        records = [_employee(obj, by_id) for obj in objects]
        counted = self.count(query)
        if len(records) < counted:
            raise IncompleteRead(
                "assets",
                f"the Employee read returned {len(records):,} objects but Assets counts "
                f"{counted:,}; nothing was written. Run again; if it repeats, Assets is "
                "ending its search pages early.",
                method="POST",
                path="object/aql",
            )
        return records

    def employees_where(
        self,
        employee_type: EmployeeType,
        condition: str,
        *,
        check: Callable[[list[AttributeInfo]], None] | None = None,
    ) -> list[EmployeeRecord]:
        """The Employees matching an AQL ``condition`` (one person's few, not everyone).

        Not checked against a count as :meth:`employees` is: the answer is a handful of
        objects on one page, and the count would double the cost of a one-person read.
        ``check`` is :meth:`employees`'s: it sees the attributes a first page with
        objects lists, before any object is read with the ids it was given.
        """
        query = f"objectTypeId = {employee_type.object_type_id} AND ({condition})"
        by_id = {attr_id: attr for attr, attr_id in employee_type.attribute_ids}
        first_page = _checking(employee_type, check)
        objects = self._aql(query, include_attributes=True, on_first_page=first_page)
        return [_employee(obj, by_id) for obj in objects]

    def count(self, query: str) -> int:
        """How many objects ``query`` matches, as Assets counts them."""
        path = "object/aql/totalcount"
        answer = self._api.post_json(path, {"qlQuery": query})
        total = answer.get("totalCount", 0) if isinstance(answer, dict) else None
        if not isinstance(total, int):
            raise UnreadableAnswer(
                "assets", "the count answer holds no number", method="POST", path=path
            )
        return total

    def find_employee(
        self, employee_type: EmployeeType, entra_user_id: str
    ) -> tuple[str, str] | None:
        """(object id, object key) of an Employee with this Entra User ID, if any."""
        query = (
            f"objectTypeId = {employee_type.object_type_id} AND "
            f'"{Attr.ENTRA_USER_ID.value}" = {aql_string(entra_user_id)}'
        )
        for obj in self._aql(query, include_attributes=False):
            return str(obj["id"]), str(obj["objectKey"])
        return None

    def _aql(
        self,
        query: str,
        *,
        include_attributes: bool,
        on_first_page: Callable[[Mapping[str, Any]], None] | None = None,
    ) -> Iterator[Mapping[str, Any]]:
        """The objects ``query`` matches, page after page until ``isLast``."""
        start = 0
        while True:
            params: dict[str, str | int] = {
                "startAt": start,
                "maxResults": AQL_PAGE_SIZE,
                "includeAttributes": "true" if include_attributes else "false",
            }
            body = {"qlQuery": query}
            page = self._api.post_json("object/aql", body, params=params)
            if start == 0 and on_first_page is not None:
                on_first_page(page)
            values = page.get("values", [])
            yield from values
            start += len(values)
            if not values or page.get("isLast") is True:
                return

    def create_employee(
        self, employee_type: EmployeeType, values: AttributeValues
    ) -> tuple[str, str]:
        """Create one Employee; returns (object id, object key).

        An ambiguous failure is checked by Entra User ID before anything is sent again
        (:func:`create_once`); without an Entra User ID there is nothing to check by,
        and the failure stands.
        """
        body = {
            "objectTypeId": employee_type.object_type_id,
            "attributes": _attribute_payload(employee_type, values),
        }

        def create() -> tuple[str, str]:
            answer = self._api.post_json("object/create", body, idempotent=False)
            obj = _created(answer, "object/create", "id", "objectKey")
            return str(obj["id"]), str(obj["objectKey"])

        entra_user_id = values.get(Attr.ENTRA_USER_ID)
        if not entra_user_id:
            return create()
        return create_once(create, lambda: self.find_employee(employee_type, entra_user_id))

    def update_employee(
        self, employee_type: EmployeeType, object_id: str, values: AttributeValues
    ) -> None:
        """Change only the given attributes; ``None`` clears one."""
        body = {
            "objectTypeId": employee_type.object_type_id,
            "attributes": _attribute_payload(employee_type, values),
        }
        self._api.request("PUT", f"object/{object_id}", json=body)


def _created(answer: Any, path: str, *fields: str) -> Mapping[str, Any]:
    """A create's answer, when it holds the fields that name what was made.

    A success without them says nothing about what happened: it is an
    :class:`UnreadableAnswer`, which :func:`create_once` treats as a lost answer and
    looks the thing up, rather than a crash halfway through the schema step.
    """
    if isinstance(answer, dict) and all(answer.get(name) not in (None, "") for name in fields):
        return answer
    raise UnreadableAnswer(
        "assets",
        f"the create was answered without the {' and '.join(fields)} of what it made",
        method="POST",
        path=path,
    )


def _attribute(a: Mapping[str, Any]) -> AttributeInfo:
    default_type = a.get("defaultType") or {}
    ref = a.get("referenceObjectTypeId")
    return AttributeInfo(
        id=str(a["id"]),
        name=a["name"],
        type=int(a.get("type", 0)),
        default_type_id=default_type.get("id") if default_type else None,
        label=bool(a.get("label", False)),
        unique=bool(a.get("uniqueAttribute", False)),
        reference_object_type_id=str(ref) if ref is not None else None,
    )


def _listed_attributes(page: Mapping[str, Any], object_type_id: str) -> list[AttributeInfo]:
    """The attributes an AQL answer lists for one object type (its ``objectTypeAttributes``).

    An attribute that names no object type is taken as the queried type's: the query
    asked for that type alone.
    """
    listed = page.get("objectTypeAttributes") if isinstance(page, Mapping) else None
    found: list[AttributeInfo] = []
    for raw in listed if isinstance(listed, list) else []:
        if not isinstance(raw, Mapping) or raw.get("id") is None or raw.get("name") is None:
            continue
        owner = (raw.get("objectType") or {}).get("id", raw.get("objectTypeId"))
        if owner is None or str(owner) == object_type_id:
            try:
                found.append(_attribute(raw))
            except (TypeError, ValueError):
                continue  # unreadable: left out, so the ids are read again
    return found


def _attribute_payload(
    employee_type: EmployeeType, values: AttributeValues
) -> list[dict[str, Any]]:
    return [
        {
            "objectTypeAttributeId": employee_type.attribute_id(attr),
            "objectAttributeValues": [] if value is None else [{"value": value}],
        }
        for attr, value in values.items()
    ]


def _employee(obj: Mapping[str, Any], by_id: Mapping[str, Attr]) -> EmployeeRecord:
    """An Employee from an AQL object; a value listed with nothing in it is refused.

    Assets leaves an attribute without a value out of the answer; it never lists one
    whose value is null. Such an answer was spoiled on the way, and reading its nulls
    as empty would plan a create for every Employee it hid the Entra User ID of, and a
    clear for every field.
    """
    if not obj.get("attributes"):
        # Every object has its label (Name) and Assets' own Key and dates: an object
        # with none came back spoiled, and would read as an Employee nobody owns.
        raise UnreadableAnswer(
            "assets",
            f"Employee {obj.get('objectKey')} came back without any attribute; nothing was written",
            method="POST",
            path="object/aql",
        )
    listed: dict[Attr, Mapping[str, Any]] = {}
    for attribute in obj.get("attributes", []):
        attr = by_id.get(str(attribute.get("objectTypeAttributeId")))
        items = attribute.get("objectAttributeValues") or []
        if attr is not None and items:
            listed[attr] = items[0]
    account_id = listed.get(Attr.ATLASSIAN_ACCOUNT_ID, {}).get("value")
    values: dict[Attr, str | None] = {}
    for attr, item in listed.items():
        raw = _raw_value(attr, item, account_id)
        if raw is None:
            raise UnreadableAnswer(
                "assets",
                f"Employee {obj.get('objectKey')} came back with {attr.value} listed but "
                "no value in it; nothing was written",
                method="POST",
                path="object/aql",
            )
        values[attr] = _normalised(attr, raw)
    unusable = values.get(Attr.ENTRA_USER_ID)
    if unusable is not None and not is_directory_object_id(unusable):
        del values[Attr.ENTRA_USER_ID]  # set aside, reported by the planner
    else:
        unusable = None
    return employee_record(
        str(obj["id"]), str(obj["objectKey"]), values, unusable_entra_user_id=unusable
    )


def _raw_value(attr: Attr, item: Mapping[str, Any], account_id: Any) -> Any:
    """What one listed value holds (None: nothing), by the attribute's type."""
    if attr is Attr.MANAGER:
        ref = item.get("referencedObject") or {}
        return ref.get("objectKey") or item.get("searchValue")
    if attr is Attr.JIRA_USER:
        return _jira_user(item, account_id)
    return item.get("value")


def _jira_user(item: Mapping[str, Any], account_id: Any) -> str | None:
    """The account id a User attribute holds, wherever Assets put it.

    Its read shape documents ``value`` as optional, gives the account id as the
    ``searchValue``, and a ``user`` object whose ``key`` is a Jira user key that need
    not be the account id. The first of them that is there is taken, but one equal to
    the Employee's Atlassian Account ID wins: reading a user key as the account id
    would plan a rewrite of every Employee on every run.
    """
    user = item.get("user") or {}
    found = [str(v) for v in (item.get("value"), item.get("searchValue"), user.get("key")) if v]
    if account_id and str(account_id) in found:
        return str(account_id)
    return found[0] if found else None


def _normalised(attr: Attr, raw: Any) -> str | None:
    text = str(raw)
    if attr is Attr.ACTIVE:
        return text.lower()
    return text or None
