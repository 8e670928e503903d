"""Create, or complete, the Assets schema "Entra Directory" (key ENTRA).

Everything is read first and every write comes after, so a conflict found on the way
(another schema using our key) leaves Assets untouched. Running it again adds only
what is missing and reports existing attributes whose type differs, without changing
them: a person may have tuned the schema, and we do not overrule them.

Entra User ID (and Atlassian Account ID) are created unique, so Assets itself refuses
a second Employee with the same id. An existing attribute that is not unique is
reported, not changed: it is the schema owner's call, and any duplicates must be
resolved before it can be made unique. The sync still looks an Employee up by Entra
User ID before resending a create whose answer was lost, so uniqueness is the second
line of defence against duplicates, not the only one.

Every create here goes through :func:`core.clients.assets.create_once`: when its
answer is lost, what it would have made is read back before anything is sent again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.clients.assets import (
    DEFAULT_BOOLEAN,
    DEFAULT_EMAIL,
    DEFAULT_TEXT,
    TYPE_DEFAULT,
    TYPE_REFERENCE,
    TYPE_USER,
    AssetsClient,
    AttributeInfo,
    EmployeeType,
    NamedId,
    ObjectTypeInfo,
    SchemaInfo,
    create_once,
)
from core.errors import SchemaConflict, SchemaMissing
from core.sync import OBJECT_TYPE_NAME, SCHEMA_KEY, SCHEMA_NAME, Attr

SCHEMA_DESCRIPTION = "Employees synced from Microsoft Entra ID by entra-assets-sync."
TYPE_DESCRIPTION = "A person with an Atlassian account, enriched from Microsoft Entra ID."
REFERENCE_TYPE_NAME = "Reports to"
NOT_UNIQUE = (
    "{name} is not unique, so Assets would accept two Employees with the same value; "
    "left as it is. Turn on Unique for it (Assets > Entra Directory > Employee > "
    "Attributes > {name}) once no two Employees share a value."
)
CONFLICT_ADVICE = (
    "Another schema already uses the key ENTRA ({name!r}). Rename or remove that schema "
    "before initializing this app; nothing was written."
)


@dataclass(frozen=True)
class SchemaReport:
    schema_id: str
    object_type_id: str
    created_schema: bool
    created_object_type: bool
    created_attributes: tuple[str, ...]
    mismatched_attributes: tuple[str, ...] = field(default=())
    created_reference_type: bool = False

    @property
    def changed(self) -> bool:
        return (
            self.created_schema
            or self.created_object_type
            or self.created_reference_type
            or bool(self.created_attributes)
        )

    def created(self) -> list[str]:
        """What this run added, in the order it was made, as a person would name it."""
        made = [f"schema {SCHEMA_NAME} ({SCHEMA_KEY})"] if self.created_schema else []
        made += [f"object type {OBJECT_TYPE_NAME}"] if self.created_object_type else []
        made += [f"reference type {REFERENCE_TYPE_NAME}"] if self.created_reference_type else []
        return made + [f"attribute {name}" for name in self.created_attributes]


def _spec(attr: Attr, **fields: Any) -> dict[str, Any]:
    return {"name": attr.value, **fields}


def _text(attr: Attr, *, unique: bool = False) -> dict[str, Any]:
    return _spec(attr, type=TYPE_DEFAULT, defaultTypeId=DEFAULT_TEXT, uniqueAttribute=unique)


def attribute_specs(object_type_id: str, reference_type_id: str) -> dict[Attr, dict[str, Any]]:
    """Creation payloads for every attribute we add (Name comes with the object type)."""
    return {
        Attr.ENTRA_USER_ID: _text(Attr.ENTRA_USER_ID, unique=True),
        Attr.EMAIL: _spec(Attr.EMAIL, type=TYPE_DEFAULT, defaultTypeId=DEFAULT_EMAIL),
        Attr.JOB_TITLE: _text(Attr.JOB_TITLE),
        Attr.ATLASSIAN_ACCOUNT_ID: _text(Attr.ATLASSIAN_ACCOUNT_ID, unique=True),
        Attr.JIRA_USER: _spec(
            Attr.JIRA_USER, type=TYPE_USER, additionalValue="SHOW_PROFILE", maximumCardinality=1
        ),
        Attr.ACTIVE: _spec(Attr.ACTIVE, type=TYPE_DEFAULT, defaultTypeId=DEFAULT_BOOLEAN),
        Attr.DEPARTMENT: _text(Attr.DEPARTMENT),
        Attr.MANAGER: _spec(
            Attr.MANAGER,
            type=TYPE_REFERENCE,
            typeValue=object_type_id,
            additionalValue=reference_type_id,
            maximumCardinality=1,
        ),
        Attr.MANAGER_ACCOUNT_ID: _text(Attr.MANAGER_ACCOUNT_ID),
    }


def _expected_type(attr: Attr) -> tuple[int, int | None]:
    spec = attribute_specs("0", "0").get(attr)
    if spec is None:  # the label attribute Assets creates itself
        return TYPE_DEFAULT, DEFAULT_TEXT
    return int(spec["type"]), spec.get("defaultTypeId")


def find_our_schema(schemas: list[SchemaInfo]) -> SchemaInfo | None:
    """Our schema, or None; raises SchemaConflict when someone else holds key or name."""
    for schema in schemas:
        if schema.key.upper() == SCHEMA_KEY and schema.name != SCHEMA_NAME:
            raise SchemaConflict(CONFLICT_ADVICE.format(name=schema.name))
        if schema.name == SCHEMA_NAME and schema.key.upper() != SCHEMA_KEY:
            raise SchemaConflict(
                f"A schema named {SCHEMA_NAME!r} already exists with key {schema.key!r}. "
                "Rename it, or give it the key ENTRA; nothing was written."
            )
    return next((s for s in schemas if s.key.upper() == SCHEMA_KEY), None)


def load_employee_type(assets: AssetsClient) -> EmployeeType:
    """Read-only: locate schema, type and attribute ids, or say what is missing."""
    schema = find_our_schema(assets.schemas())
    if schema is None:
        raise SchemaMissing("The Entra Directory schema does not exist yet: run the schema step.")
    object_type = _find_type(assets.object_types(schema.id))
    if object_type is None:
        raise SchemaMissing("Schema ENTRA has no Employee object type: run the schema step.")
    return _employee_type(schema.id, object_type.id, assets.attributes(object_type.id))


def _find_type(types: list[ObjectTypeInfo]) -> ObjectTypeInfo | None:
    return next((t for t in types if t.name == OBJECT_TYPE_NAME), None)


def _employee_type(
    schema_id: str, object_type_id: str, attributes: list[AttributeInfo]
) -> EmployeeType:
    ids = _attribute_ids(attributes)
    missing = [attr.value for attr in Attr if attr not in ids]
    if missing:
        raise SchemaMissing(
            f"Employee is missing attributes {', '.join(missing)}: run the schema step."
        )
    return EmployeeType(schema_id, object_type_id, tuple((a, ids[a]) for a in Attr))


def _attribute_ids(attributes: list[AttributeInfo]) -> dict[Attr, str]:
    by_name = {a.name: a for a in attributes}
    ids = {attr: by_name[attr.value].id for attr in Attr if attr.value in by_name}
    label = next((a for a in attributes if a.label), None)
    if label is not None:
        ids[Attr.FULL_NAME] = label.id
    return ids


def ensure_schema(
    assets: AssetsClient, progress: Callable[[str], None] = lambda _: None
) -> SchemaReport:
    """Create what is missing of schema, Employee type and attributes; change nothing else."""
    schema = find_our_schema(assets.schemas())
    existing_type = _find_type(assets.object_types(schema.id)) if schema else None
    attributes = assets.attributes(existing_type.id) if existing_type else []
    needs_type = existing_type is None
    icon = _pick_icon(assets.global_icons()) if needs_type else None

    created_schema = schema is None
    if schema is None:
        progress("Creating schema Entra Directory (ENTRA)")
        schema = create_once(
            lambda: assets.create_schema(SCHEMA_NAME, SCHEMA_KEY, SCHEMA_DESCRIPTION),
            lambda: find_our_schema(assets.schemas()),
        )
    object_type = existing_type
    if object_type is None:
        progress("Creating object type Employee")
        assert icon is not None
        schema_id, icon_id = schema.id, icon.id
        object_type = create_once(
            lambda: assets.create_object_type(
                schema_id, OBJECT_TYPE_NAME, TYPE_DESCRIPTION, icon_id
            ),
            lambda: _find_type(assets.object_types(schema_id)),
        )
        attributes = assets.attributes(object_type.id)
    reference_type, created_reference_type = _pick_reference_type(assets, schema.id, attributes)
    created = _create_missing_attributes(
        assets, object_type.id, reference_type, attributes, progress
    )
    return SchemaReport(
        schema_id=schema.id,
        object_type_id=object_type.id,
        created_schema=created_schema,
        created_object_type=existing_type is None,
        created_attributes=tuple(created),
        mismatched_attributes=tuple(_mismatches(attributes)),
        created_reference_type=created_reference_type,
    )


def _pick_icon(icons: list[NamedId]) -> NamedId:
    if not icons:
        raise SchemaMissing("Assets offers no global icons; an object type needs one.")
    return next((i for i in icons if i.name.lower() in {"user", "person"}), icons[0])


def _pick_reference_type(
    assets: AssetsClient, schema_id: str, attributes: list[AttributeInfo]
) -> tuple[str | None, bool]:
    """The schema's "Reports to" reference type for Manager, made in the schema if missing.

    Returns its id (None when Manager exists) and whether this run made it.

    Looked up only while Manager is still to be made, and always with the schema id:
    without it Assets lists only global types, and the one made here would be missed
    and made again on the next run.
    """
    if any(a.name == Attr.MANAGER.value for a in attributes):
        return None, False

    def find() -> NamedId | None:
        return next(
            (r for r in assets.reference_types(schema_id) if r.name == REFERENCE_TYPE_NAME), None
        )

    found = find()
    if found is not None:
        return found.id, False
    made = create_once(
        lambda: assets.create_reference_type(
            schema_id, REFERENCE_TYPE_NAME, "Employee reports to manager"
        ),
        find,
    )
    return made.id, True


def _create_missing_attributes(
    assets: AssetsClient,
    object_type_id: str,
    reference_type_id: str | None,
    attributes: list[AttributeInfo],
    progress: Callable[[str], None],
) -> list[str]:
    present = {a.name for a in attributes}
    specs = attribute_specs(object_type_id, reference_type_id or "")
    created = []
    for attr, spec in specs.items():
        if attr.value in present:
            continue
        progress(f"Adding attribute {attr.value}")
        _add_attribute(assets, object_type_id, spec)
        created.append(attr.value)
    return created


def _add_attribute(
    assets: AssetsClient, object_type_id: str, spec: dict[str, Any]
) -> AttributeInfo:
    """Create one attribute; after a lost answer, read the type's attributes back first."""
    name = spec["name"]
    return create_once(
        lambda: assets.create_attribute(object_type_id, spec),
        lambda: next((a for a in assets.attributes(object_type_id) if a.name == name), None),
    )


def _mismatches(attributes: list[AttributeInfo]) -> list[str]:
    notes = []
    unique = {a for a, spec in attribute_specs("0", "0").items() if spec.get("uniqueAttribute")}
    for info in attributes:
        if info.name not in {a.value for a in Attr}:
            continue
        expected = _expected_type(Attr(info.name))
        actual = (info.type, info.default_type_id if info.type == TYPE_DEFAULT else None)
        if (expected[0], expected[1] if expected[0] == TYPE_DEFAULT else None) != actual:
            notes.append(f"{info.name} has a different type than expected; left as it is")
        if Attr(info.name) in unique and not info.unique:
            notes.append(NOT_UNIQUE.format(name=info.name))
    return notes
