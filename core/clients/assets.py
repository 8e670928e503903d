"""JSM Assets: workspace discovery, schema objects, Employee reads and writes.

Reads page through AQL at 999 objects a page (``maxResults`` of 1000 or more once made
``isLast`` lie, JSDCLOUD-16556), and stop only on ``isLast``. Writes send one object a
request, the only shape the API offers; the applier paces and parallelises them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.clients.http import ApiClient
from core.errors import ApiError
from core.sync import Attr, AttributeValues, EmployeeRecord, employee_record

AQL_PAGE_SIZE = 999

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
        page = self._api.get_json("objectschema/list", params={"maxResults": 1000})
        return [
            SchemaInfo(str(s["id"]), s["name"], s["objectSchemaKey"])
            for s in page.get("values", [])
        ]

    def create_schema(self, name: str, key: str, description: str) -> SchemaInfo:
        body = {"name": name, "objectSchemaKey": key, "description": description}
        s = self._api.post_json("objectschema/create", body, idempotent=False)
        return SchemaInfo(str(s["id"]), s["name"], s["objectSchemaKey"])

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
        t = self._api.post_json("objecttype/create", body, idempotent=False)
        return ObjectTypeInfo(str(t["id"]), t["name"])

    def attributes(self, object_type_id: str) -> list[AttributeInfo]:
        items = self._api.get_json(f"objecttype/{object_type_id}/attributes")
        return [_attribute(a) for a in items]

    def create_attribute(self, object_type_id: str, spec: Mapping[str, Any]) -> AttributeInfo:
        a = self._api.post_json(f"objecttypeattribute/{object_type_id}", dict(spec))
        return _attribute(a)

    def reference_types(self) -> list[NamedId]:
        items = self._api.get_json("config/referencetype")
        return [NamedId(str(r["id"]), r["name"]) for r in items]

    def create_reference_type(self, name: str, description: str) -> NamedId:
        body = {"name": name, "description": description, "color": "2684ff"}
        r = self._api.post_json("config/referencetype", body, idempotent=False)
        return NamedId(str(r["id"]), r["name"])

    def employees(self, employee_type: EmployeeType) -> list[EmployeeRecord]:
        """Every object of the Employee type, owned or not, paged to the end."""
        query = {"qlQuery": f"objectTypeId = {employee_type.object_type_id}"}
        by_id = {attr_id: attr for attr, attr_id in employee_type.attribute_ids}
        records: list[EmployeeRecord] = []
        start = 0
        while True:
            params: dict[str, str | int] = {
                "startAt": start,
                "maxResults": AQL_PAGE_SIZE,
                "includeAttributes": "true",
            }
            page = self._api.post_json("object/aql", query, params=params)
            values = page.get("values", [])
            records.extend(_employee(obj, by_id) for obj in values)
            start += len(values)
            if not values or page.get("isLast") is True:
                return records

    def create_employee(
        self, employee_type: EmployeeType, values: AttributeValues
    ) -> tuple[str, str]:
        """Create one Employee; returns (object id, object key)."""
        body = {
            "objectTypeId": employee_type.object_type_id,
            "attributes": _attribute_payload(employee_type, values),
        }
        obj = self._api.post_json("object/create", body, idempotent=False)
        return str(obj["id"]), str(obj["objectKey"])

    def update_employee(
        self, employee_type: EmployeeType, object_id: str, values: AttributeValues
    ) -> None:
        """Change only the given attributes; ``None`` clears one."""
        body = {
            "objectTypeId": employee_type.object_type_id,
            "attributes": _attribute_payload(employee_type, values),
        }
        self._api.request("PUT", f"object/{object_id}", json=body)


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
    values: dict[Attr, str | None] = {}
    for attribute in obj.get("attributes", []):
        attr = by_id.get(str(attribute.get("objectTypeAttributeId")))
        if attr is not None:
            values[attr] = _first_value(attr, attribute.get("objectAttributeValues") or [])
    return employee_record(str(obj["id"]), str(obj["objectKey"]), values)


def _first_value(attr: Attr, items: Sequence[Mapping[str, Any]]) -> str | None:
    if not items:
        return None
    item = items[0]
    if attr is Attr.MANAGER:
        ref = item.get("referencedObject") or {}
        return ref.get("objectKey") or item.get("searchValue") or None
    if attr is Attr.JIRA_USER:
        user = item.get("user") or {}
        return item.get("value") or user.get("key") or None
    value = item.get("value")
    if value is None:
        return None
    text = str(value)
    if attr is Attr.ACTIVE:
        return text.lower()
    return text or None
