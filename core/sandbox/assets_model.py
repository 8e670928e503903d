"""Records of the Assets workspace and the JSON shapes Assets Cloud returns for them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

ATTRIBUTE_TYPES = {0: "Default", 1: "Object", 2: "User", 4: "Group", 7: "Status"}
DEFAULT_TYPES = {
    -1: "None", 0: "Text", 1: "Integer", 2: "Boolean", 3: "Double", 4: "Date", 5: "Time",
    6: "DateTime", 7: "URL", 8: "Email", 9: "Textarea", 10: "Select", 11: "IP Address",
}  # fmt: skip
TYPE_DEFAULT, TYPE_OBJECT, TYPE_USER = 0, 1, 2
TEXT, BOOLEAN, DATETIME, EMAIL = 0, 2, 6, 8
GLOBAL_ICONS = ("Laptop", "Server", "User", "Users", "Building", "Printer", "Phone", "Network")
DEFAULT_REFERENCE_TYPES = (
    ("Dependency", "Is dependent on", "#ff7800"),
    ("Reference", "References", "#0052cc"),
    ("Link", "Is linked to", "#00875a"),
)


def now() -> str:
    """A timestamp in the millisecond ISO 8601 form Assets uses."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class Schema:
    id: str
    name: str
    key: str
    description: str
    created: str = field(default_factory=now)
    object_seq: int = 0  # last number used in this schema's object keys


@dataclass
class ObjectType:
    id: str
    name: str
    description: str
    icon_id: str
    schema_id: str
    parent_id: str | None
    position: int
    created: str = field(default_factory=now)


@dataclass
class Attribute:
    """An object type attribute; ``type_value`` is the referenced type for type 1."""

    id: str
    object_type_id: str
    name: str
    type: int
    default_type_id: int | None = None
    type_value: str | None = None
    additional_value: str | None = None
    unique: bool = False
    label: bool = False
    minimum_cardinality: int = 0
    maximum_cardinality: int = 1
    system: bool = False
    editable: bool = True
    position: int = 0
    description: str = ""


@dataclass
class ReferenceType:
    """A reference type: global (``schema_id`` None) or one schema's own."""

    id: str
    name: str
    description: str
    color: str
    schema_id: str | None = None


@dataclass
class AssetObject:
    """An object; ``values`` maps attribute id to stored strings (references: object ids)."""

    id: str
    key: str
    object_type_id: str
    values: dict[str, list[str]]
    created: str = field(default_factory=now)
    updated: str = field(default_factory=now)


def icon_json(workspace_id: str, icon_id: str) -> dict[str, Any]:
    name = GLOBAL_ICONS[int(icon_id) - 1]
    base = f"https://api.atlassian.com/jsm/assets/workspace/{workspace_id}/v1/icon/{icon_id}"
    return {
        "id": icon_id,
        "name": name,
        "url16": f"{base}/icon.png?size=16",
        "url48": f"{base}/icon.png?size=48",
    }


def reference_type_json(workspace_id: str, ref: ReferenceType) -> dict[str, Any]:
    body: dict[str, Any] = {
        "workspaceId": workspace_id,
        "globalId": f"{workspace_id}:{ref.id}",
        "id": ref.id,
        "name": ref.name,
        "description": ref.description,
        "color": ref.color,
        "removable": False,
    }
    if ref.schema_id is not None:
        body["objectSchemaId"] = ref.schema_id
    return body


def schema_json(
    workspace_id: str, schema: Schema, object_count: int, type_count: int
) -> dict[str, Any]:
    return {
        "workspaceId": workspace_id,
        "globalId": f"{workspace_id}:{schema.id}",
        "id": schema.id,
        "name": schema.name,
        "objectSchemaKey": schema.key,
        "description": schema.description,
        "status": "Ok",
        "created": schema.created,
        "updated": schema.created,
        "objectCount": object_count,
        "objectTypeCount": type_count,
        "canManage": True,
        "idAsInt": int(schema.id),
    }


def object_type_json(workspace_id: str, kind: ObjectType, object_count: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        "workspaceId": workspace_id,
        "globalId": f"{workspace_id}:{kind.id}",
        "id": kind.id,
        "name": kind.name,
        "description": kind.description,
        "icon": icon_json(workspace_id, kind.icon_id),
        "iconId": kind.icon_id,
        "position": kind.position,
        "created": kind.created,
        "updated": kind.created,
        "objectCount": object_count,
        "objectSchemaId": kind.schema_id,
        "inherited": False,
        "abstractObjectType": False,
        "parentObjectTypeInherited": False,
    }
    if kind.parent_id is not None:
        body["parentObjectTypeId"] = kind.parent_id
    return body


def attribute_json(
    workspace_id: str,
    attr: Attribute,
    kind: ObjectType,
    referenced: ObjectType | None,
    reference_type: ReferenceType | None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "workspaceId": workspace_id,
        "globalId": f"{workspace_id}:{attr.id}",
        "id": attr.id,
        "objectType": {"id": kind.id, "name": kind.name, "objectSchemaId": kind.schema_id},
        "name": attr.name,
        "label": attr.label,
        "type": attr.type,
        "description": attr.description,
        "editable": attr.editable,
        "system": attr.system,
        "sortable": True,
        "summable": False,
        "indexed": True,
        "minimumCardinality": attr.minimum_cardinality,
        "maximumCardinality": attr.maximum_cardinality,
        "removable": not (attr.system or attr.label),
        "hidden": False,
        "includeChildObjectTypes": False,
        "uniqueAttribute": attr.unique,
        "options": "",
        "position": attr.position,
    }
    if attr.type == TYPE_DEFAULT and attr.default_type_id is not None:
        name = DEFAULT_TYPES[attr.default_type_id]
        body["defaultType"] = {"id": attr.default_type_id, "name": name}
    if attr.type == TYPE_OBJECT and referenced is not None:
        body["referenceObjectTypeId"] = referenced.id
        body["referenceObjectType"] = {"id": referenced.id, "name": referenced.name}
    if attr.type == TYPE_OBJECT and reference_type is not None:
        body["referenceType"] = reference_type_json(workspace_id, reference_type)
    if attr.additional_value is not None:
        body["additionalValue"] = attr.additional_value
    return body
