"""The Assets workspace's configuration: schemas, object types, attributes, icons.

Validation answers with the 400 ``{"errorMessages", "errors"}`` bodies Assets gives, so
the engine's schema bootstrap is exercised against the same refusals it meets live.
Objects themselves are handled in :mod:`core.sandbox.assets_objects`.
"""

from __future__ import annotations

import re
from typing import Any

from core.sandbox.assets_model import (
    ATTRIBUTE_TYPES,
    DATETIME,
    DEFAULT_REFERENCE_TYPES,
    DEFAULT_TYPES,
    GLOBAL_ICONS,
    TEXT,
    TYPE_DEFAULT,
    TYPE_OBJECT,
    TYPE_USER,
    AssetObject,
    Attribute,
    ObjectType,
    ReferenceType,
    Schema,
    attribute_json,
)
from core.sandbox.http import HttpError, atlassian_error

_SCHEMA_KEY = re.compile(r"^[A-Z][A-Z0-9]{1,9}$")


class IdSequence:
    """Ids counting up from ``start``; a plain object, so a workspace can be deep-copied."""

    def __init__(self, start: int) -> None:
        self._next = start

    def __iter__(self) -> IdSequence:
        return self

    def __next__(self) -> int:
        value = self._next
        self._next += 1
        return value


def invalid(field: str, message: str) -> HttpError:
    return atlassian_error(400, [], {field: message})


def not_found(what: str, ident: object) -> HttpError:
    return atlassian_error(404, [f"{what} with id {ident} was not found"])


def text(body: dict[str, Any], field: str) -> str:
    value = body.get(field)
    return value.strip() if isinstance(value, str) else ""


def as_int(value: Any, field: str) -> int:
    if isinstance(value, bool):
        raise invalid(field, f"{field} must be an integer")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise invalid(field, f"{field} must be an integer") from None


class AssetsStore:
    """One workspace. Ids come from separate ranges so mixed-up ids fail, not collide."""

    def __init__(self, workspace_id: str = "", *, schema_page_limit: int = 50) -> None:
        self.workspace_id = workspace_id
        # The most schemas one objectschema/list page holds, whatever maxResults asks
        # for; the real limit is not documented, so tests set it low to page for sure.
        self.schema_page_limit = schema_page_limit
        self.schemas: dict[str, Schema] = {}
        self.types: dict[str, ObjectType] = {}
        self.attributes: dict[str, Attribute] = {}
        self.objects: dict[str, AssetObject] = {}
        self.reference_types: dict[str, ReferenceType] = {}
        # Lookups writes need at scale: lower-cased object key -> object id, and per
        # unique attribute, lower-cased value -> object id.
        self.keys: dict[str, str] = {}
        self.unique_values: dict[str, dict[str, str]] = {}
        self._schema_ids = IdSequence(1)
        self._type_ids = IdSequence(101)
        self._attribute_ids = IdSequence(1001)
        self.object_ids = IdSequence(10001)
        self._reference_ids = IdSequence(1)
        for name, description, color in DEFAULT_REFERENCE_TYPES:
            self.add_reference_type({"name": name, "description": description, "color": color})

    # -- schemas ---------------------------------------------------------------------
    def create_schema(self, body: dict[str, Any]) -> Schema:
        name, key = text(body, "name"), text(body, "objectSchemaKey")
        if not name:
            raise invalid("name", "The schema name is required")
        if not _SCHEMA_KEY.match(key):
            raise invalid(
                "objectSchemaKey", "The key must be 2-10 characters: capital letters and digits"
            )
        for schema in self.schemas.values():
            if schema.key == key:
                raise invalid("objectSchemaKey", f"The key {key} is already used by another schema")
            if schema.name.lower() == name.lower():
                raise invalid("name", f"A schema named {name} already exists")
        schema = Schema(str(next(self._schema_ids)), name, key, text(body, "description"))
        self.schemas[schema.id] = schema
        return schema

    def schema(self, schema_id: str) -> Schema:
        if schema_id not in self.schemas:
            raise not_found("Object schema", schema_id)
        return self.schemas[schema_id]

    def types_of(self, schema_id: str) -> list[ObjectType]:
        return [t for t in self.types.values() if t.schema_id == schema_id]

    def count_objects(self, type_ids: set[str]) -> int:
        return sum(1 for o in self.objects.values() if o.object_type_id in type_ids)

    # -- object types ----------------------------------------------------------------
    def create_type(self, body: dict[str, Any]) -> ObjectType:
        name, icon_id = text(body, "name"), str(body.get("iconId") or "").strip()
        if not name:
            raise invalid("name", "The object type name is required")
        if not icon_id:
            raise invalid("iconId", "An icon is required")
        if not icon_id.isdigit() or not 1 <= int(icon_id) <= len(GLOBAL_ICONS):
            raise invalid("iconId", f"Icon with id {icon_id} was not found")
        schema_id = str(body.get("objectSchemaId") or "")
        if schema_id not in self.schemas:
            raise invalid("objectSchemaId", f"Object schema with id {schema_id} was not found")
        parent = body.get("parentObjectTypeId")
        parent_id = None if parent in (None, "") else str(parent)
        if parent_id is not None and self.types.get(parent_id, None) is None:
            raise invalid("parentObjectTypeId", f"Object type with id {parent_id} was not found")
        siblings = self.types_of(schema_id)
        if any(t.name.lower() == name.lower() for t in siblings):
            raise invalid("name", f"An object type named {name} already exists in the schema")
        kind = ObjectType(
            str(next(self._type_ids)), name, text(body, "description"), icon_id, schema_id,
            parent_id, len(siblings),
        )  # fmt: skip
        self.types[kind.id] = kind
        self._add_system_attributes(kind)
        return kind

    def _add_system_attributes(self, kind: ObjectType) -> None:
        """Key, Name (the label), Created and Updated, as Assets gives every type."""
        for position, (name, default_type, system, label) in enumerate(
            (("Key", TEXT, True, False), ("Name", TEXT, False, True),
             ("Created", DATETIME, True, False), ("Updated", DATETIME, True, False))
        ):  # fmt: skip
            attr = Attribute(
                id=str(next(self._attribute_ids)), object_type_id=kind.id, name=name,
                type=TYPE_DEFAULT, default_type_id=default_type, label=label,
                minimum_cardinality=1 if label else 0, system=system, editable=not system,
                position=position,
            )  # fmt: skip
            self.attributes[attr.id] = attr

    def object_type(self, type_id: str) -> ObjectType:
        if type_id not in self.types:
            raise not_found("Object type", type_id)
        return self.types[type_id]

    def attributes_of(self, type_id: str) -> list[Attribute]:
        return sorted(
            (a for a in self.attributes.values() if a.object_type_id == type_id),
            key=lambda a: a.position,
        )

    # -- attributes ------------------------------------------------------------------
    def create_attribute(self, type_id: str, body: dict[str, Any]) -> Attribute:
        kind = self.object_type(type_id)
        name = text(body, "name")
        if not name:
            raise invalid("name", "The attribute name is required")
        existing = self.attributes_of(type_id)
        if any(a.name.lower() == name.lower() for a in existing):
            raise invalid("name", f"An attribute named {name} already exists on {kind.name}")
        attr_type = as_int(body.get("type", TYPE_DEFAULT), "type")
        if attr_type not in ATTRIBUTE_TYPES:
            raise invalid("type", f"Unknown attribute type {attr_type}")
        attr = Attribute(
            id="", object_type_id=type_id, name=name, type=attr_type,
            unique=body.get("uniqueAttribute") is True, description=text(body, "description"),
            minimum_cardinality=as_int(body.get("minimumCardinality", 0), "minimumCardinality"),
            maximum_cardinality=as_int(body.get("maximumCardinality", 1), "maximumCardinality"),
            position=len(existing),
        )  # fmt: skip
        self._type_specifics(attr, body)
        attr.id = str(next(self._attribute_ids))
        if body.get("label") is True:
            for other in existing:
                other.label = False
            attr.label = True
        self.attributes[attr.id] = attr
        if attr.unique:
            self.unique_values[attr.id] = {}
        return attr

    def set_unique(self, attr: Attribute, unique: bool) -> None:
        """Turn uniqueness on or off, as a person can in the Assets UI.

        Turning it on is refused while two objects share a value.
        """
        if not unique:
            attr.unique = False
            self.unique_values.pop(attr.id, None)
            return
        index: dict[str, str] = {}
        for obj in self.objects.values():
            for value in obj.values.get(attr.id, []):
                if index.setdefault(value.lower(), obj.id) != obj.id:
                    raise invalid("uniqueAttribute", f"{attr.name} has duplicate values")
        attr.unique = True
        self.unique_values[attr.id] = index

    def _type_specifics(self, attr: Attribute, body: dict[str, Any]) -> None:
        """defaultTypeId for type 0; typeValue and additionalValue for references."""
        additional = body.get("additionalValue")
        if attr.type == TYPE_DEFAULT:
            default_type = as_int(body.get("defaultTypeId"), "defaultTypeId")
            if default_type not in DEFAULT_TYPES:
                raise invalid("defaultTypeId", f"Unknown default type {default_type}")
            attr.default_type_id = default_type
        elif attr.type == TYPE_OBJECT:
            target = str(body.get("typeValue") or "")
            if target not in self.types:
                raise invalid("typeValue", "typeValue must be the id of the referenced object type")
            ref = self.reference_types.get(str(additional or ""))
            schema_id = self.types[attr.object_type_id].schema_id
            if ref is None or ref.schema_id not in (None, schema_id):
                raise invalid(
                    "additionalValue",
                    "additionalValue must be the id of a global reference type or one of "
                    "this schema's",
                )
            attr.type_value, attr.additional_value = target, str(additional)
        elif attr.type == TYPE_USER:
            attr.additional_value = str(additional or "SHOW_PROFILE")
            if attr.additional_value not in ("SHOW_PROFILE", "HIDE_PROFILE"):
                raise invalid("additionalValue", "Use SHOW_PROFILE or HIDE_PROFILE")

    def attribute_json(self, attr: Attribute) -> dict[str, Any]:
        kind = self.types[attr.object_type_id]
        referenced = self.types.get(attr.type_value or "")
        ref_type = self.reference_types.get(attr.additional_value or "")
        referenced_type = ref_type if attr.type == TYPE_OBJECT else None
        return attribute_json(self.workspace_id, attr, kind, referenced, referenced_type)

    def index_object(self, obj: AssetObject, old: dict[str, list[str]] | None) -> None:
        """Keep :attr:`keys` and :attr:`unique_values` in step with a write or delete."""
        self.keys[obj.key.lower()] = obj.id
        for attr_id, index in self.unique_values.items():
            for value in (old or {}).get(attr_id, []):
                index.pop(value.lower(), None)
            for value in obj.values.get(attr_id, []):
                index[value.lower()] = obj.id

    def delete_object(self, obj: AssetObject) -> None:
        for attr_id, index in self.unique_values.items():
            for value in obj.values.get(attr_id, []):
                index.pop(value.lower(), None)
        self.keys.pop(obj.key.lower(), None)
        del self.objects[obj.id]

    # -- reference types -------------------------------------------------------------
    def add_reference_type(self, body: dict[str, Any]) -> ReferenceType:
        """A global reference type, or one of a schema when ``objectSchemaId`` is given.

        Names are unique within where the type lives (globally, or in its schema).
        """
        name = text(body, "name")
        if not name:
            raise invalid("name", "The reference type name is required")
        given = body.get("objectSchemaId")
        schema_id = None if given in (None, "") else str(given)
        if schema_id is not None and schema_id not in self.schemas:
            raise invalid("objectSchemaId", f"Object schema with id {schema_id} was not found")
        if any(r.name.lower() == name.lower() for r in self.reference_types_of(schema_id)):
            raise invalid("name", f"A reference type named {name} already exists")
        ref = ReferenceType(
            str(next(self._reference_ids)), name, text(body, "description"),
            text(body, "color") or "#6b778c", schema_id,
        )  # fmt: skip
        self.reference_types[ref.id] = ref
        return ref

    def reference_types_of(self, schema_id: str | None) -> list[ReferenceType]:
        """The types of one schema, or the global ones for ``None``."""
        return [r for r in self.reference_types.values() if r.schema_id == schema_id]
