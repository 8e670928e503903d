"""Assets objects: create, partial update, and the JSON Assets returns for them.

Writes are validated the way Assets validates them (types, cardinality, uniqueness,
references by object key, users by accountId) and every problem found is reported in
one 400, so the applier's error handling meets realistic refusals. As in Assets, a
problem with one attribute is keyed ``rlabs-insight-attribute-<attribute id>`` in the
body's ``errors``; the message names the attribute.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from core.sandbox.assets_model import (
    BOOLEAN,
    EMAIL,
    TYPE_DEFAULT,
    TYPE_OBJECT,
    TYPE_USER,
    AssetObject,
    Attribute,
    now,
    object_type_json,
)
from core.sandbox.assets_store import AssetsStore, invalid
from core.sandbox.http import atlassian_error
from core.sandbox.records import SandboxAccount

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
Accounts = Mapping[str, SandboxAccount]


def error_key(attr: Attribute) -> str:
    """The key Assets gives a problem with one attribute in a 400's ``errors``."""
    return f"rlabs-insight-attribute-{attr.id}"


class ObjectWriter:
    """Validates and applies one create or update against the store."""

    def __init__(self, store: AssetsStore, accounts: Accounts) -> None:
        self.store = store
        self.accounts = accounts

    def create(self, body: dict[str, Any]) -> AssetObject:
        type_id = str(body.get("objectTypeId") or "")
        if type_id not in self.store.types:
            raise invalid("objectTypeId", f"Object type with id {type_id} was not found")
        values = self._validated(type_id, body, None)
        schema = self.store.schemas[self.store.types[type_id].schema_id]
        schema.object_seq += 1
        obj = AssetObject(
            id=str(next(self.store.object_ids)),
            key=f"{schema.key}-{schema.object_seq}",
            object_type_id=type_id,
            values=values,
        )
        self.store.objects[obj.id] = obj
        self.store.index_object(obj, None)
        return obj

    def update(self, obj: AssetObject, body: dict[str, Any]) -> AssetObject:
        given_type = body.get("objectTypeId")
        if given_type not in (None, "") and str(given_type) != obj.object_type_id:
            raise invalid("objectTypeId", "An object cannot change its object type")
        old, obj.values = obj.values, self._validated(obj.object_type_id, body, obj)
        obj.updated = now()
        self.store.index_object(obj, old)
        return obj

    def _validated(
        self, type_id: str, body: dict[str, Any], existing: AssetObject | None
    ) -> dict[str, list[str]]:
        """The object's values after this write, or a 400 naming every problem."""
        attributes = {a.id: a for a in self.store.attributes_of(type_id)}
        values = dict(existing.values) if existing else {}
        errors: dict[str, str] = {}
        entries = body.get("attributes", [])
        if not isinstance(entries, list):
            raise invalid("attributes", "attributes must be a list")
        for entry in entries:
            self._apply_entry(attributes, entry, values, errors)
        for attr in attributes.values():
            count = len(values.get(attr.id, []))
            if not attr.system and count < attr.minimum_cardinality:
                errors.setdefault(error_key(attr), f"{attr.name} is required")
            if attr.unique and count:
                self._check_unique(attr, values[attr.id], existing, errors)
        if errors:
            raise atlassian_error(400, [], errors)
        return {k: v for k, v in values.items() if v}

    def _apply_entry(
        self,
        attributes: dict[str, Attribute],
        entry: Any,
        values: dict[str, list[str]],
        errors: dict[str, str],
    ) -> None:
        if not isinstance(entry, dict):
            errors["attributes"] = "Each attribute must be an object"
            return
        attr = attributes.get(str(entry.get("objectTypeAttributeId")))
        if attr is None:
            errors["objectTypeAttributeId"] = (
                f"Attribute with id {entry.get('objectTypeAttributeId')} is not on this object type"
            )
            return
        if attr.system:
            errors[error_key(attr)] = f"{attr.name} is set by Assets and cannot be changed"
            return
        raw = entry.get("objectAttributeValues", [])
        if not isinstance(raw, list):
            errors[error_key(attr)] = f"{attr.name}: objectAttributeValues must be a list"
            return
        if attr.maximum_cardinality != -1 and len(raw) > attr.maximum_cardinality:
            errors[error_key(attr)] = (
                f"{attr.name} takes at most {attr.maximum_cardinality} value(s)"
            )
            return
        stored: list[str] = []
        for item in raw:
            value = item.get("value") if isinstance(item, dict) else None
            problem = self._store_value(attr, value, stored)
            if problem:
                errors[error_key(attr)] = problem
                return
        values[attr.id] = stored

    def _store_value(self, attr: Attribute, value: Any, stored: list[str]) -> str | None:
        """Append the stored form of ``value`` or return what is wrong with it."""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            return f"{attr.name} needs a string value"
        text = str(value)
        if attr.type == TYPE_OBJECT:
            target = self._object_by_key(text, attr.type_value)
            if target is None:
                return f"{attr.name}: no object with key {text} of the referenced object type"
            stored.append(target.id)
            return None
        if attr.type == TYPE_USER:
            if text not in self.accounts:
                return f"{attr.name}: no user with account id {text}"
        elif attr.type == TYPE_DEFAULT:
            problem = _default_type_problem(attr, text)
            if problem:
                return problem
        stored.append(text)
        return None

    def _object_by_key(self, key: str, type_id: str | None) -> AssetObject | None:
        obj = self.store.objects.get(self.store.keys.get(key.lower(), ""))
        return obj if obj is not None and obj.object_type_id == type_id else None

    def _check_unique(
        self,
        attr: Attribute,
        mine: list[str],
        existing: AssetObject | None,
        errors: dict[str, str],
    ) -> None:
        index = self.store.unique_values.get(attr.id, {})
        for value in mine:
            holder = self.store.objects.get(index.get(value.lower(), ""))
            if holder is not None and holder is not existing:
                errors[error_key(attr)] = (
                    f"The value of the unique attribute {attr.name} is already used by {holder.key}"
                )
                return


def jira_user_key(account_id: str) -> str:
    """A stable Jira user key for an account: ``ug:`` and a UUID, never the account id."""
    return f"ug:{uuid.uuid5(uuid.NAMESPACE_URL, 'jira-user:' + account_id)}"


def _default_type_problem(attr: Attribute, text: str) -> str | None:
    if attr.default_type_id == BOOLEAN and text not in ("true", "false"):
        return f"{attr.name} must be true or false"
    if attr.default_type_id == EMAIL and not _EMAIL.match(text):
        return f"{attr.name} must be a valid email address"
    if attr.default_type_id == 1 and not re.fullmatch(r"-?\d+", text):
        return f"{attr.name} must be an integer"
    return None


class ObjectRenderer:
    """The object JSON of Assets Cloud, with attribute values in their read shape."""

    def __init__(self, store: AssetsStore, accounts: Accounts) -> None:
        self.store = store
        self.accounts = accounts

    def label(self, obj: AssetObject) -> str:
        for attr in self.store.attributes_of(obj.object_type_id):
            if attr.label and obj.values.get(attr.id):
                return obj.values[attr.id][0]
        return obj.key

    def render(self, obj: AssetObject, *, include_attributes: bool = True) -> dict[str, Any]:
        store = self.store
        kind = store.types[obj.object_type_id]
        body: dict[str, Any] = {
            "workspaceId": store.workspace_id,
            "globalId": f"{store.workspace_id}:{obj.id}",
            "id": obj.id,
            "label": self.label(obj),
            "objectKey": obj.key,
            "avatar": {"objectId": obj.id},
            "objectType": object_type_json(store.workspace_id, kind, 0),
            "created": obj.created,
            "updated": obj.updated,
            "hasAvatar": False,
            "attributes": [],
        }
        if include_attributes:
            body["attributes"] = [
                entry
                for attr in store.attributes_of(obj.object_type_id)
                if (entry := self._attribute(obj, attr)) is not None
            ]
        return body

    def _attribute(self, obj: AssetObject, attr: Attribute) -> dict[str, Any] | None:
        system = {"Key": obj.key, "Created": obj.created, "Updated": obj.updated}
        raw = (
            [system[attr.name]]
            if attr.system and attr.name in system
            else obj.values.get(attr.id, [])
        )
        rendered = [v for v in (self._value(attr, r) for r in raw) if v is not None]
        if not rendered:
            return None
        return {
            "workspaceId": self.store.workspace_id,
            "globalId": f"{self.store.workspace_id}:{obj.id}:{attr.id}",
            "id": f"{obj.id}{attr.id}",
            "objectTypeAttributeId": attr.id,
            "objectAttributeValues": rendered,
            "objectId": obj.id,
        }

    def _value(self, attr: Attribute, raw: str) -> dict[str, Any] | None:
        if attr.type == TYPE_OBJECT:
            target = self.store.objects.get(raw)
            if target is None:
                return None
            kind = self.store.types[target.object_type_id]
            label = self.label(target)
            referenced = {
                "id": target.id,
                "objectKey": target.key,
                "label": label,
                "objectType": {"id": kind.id, "name": kind.name},
            }
            return {
                "referencedObject": referenced,
                "displayValue": label,
                "searchValue": target.key,
                "referencedType": True,
            }
        if attr.type == TYPE_USER:
            return self._user_value(raw)
        return {
            "value": raw,
            "displayValue": raw,
            "searchValue": raw,
            "referencedType": False,
        }

    def _user_value(self, account_id: str) -> dict[str, Any]:
        """A User attribute's value in the documented read shape.

        ``ObjectAttributeValue.value`` is optional and left out here; the account id is
        the ``searchValue``. The ``user`` object (the Assets ``User`` model) has a
        ``key``, ``name`` and ``displayName`` and no account id field: its ``key`` is a
        Jira user key, which on Cloud is not the account id.
        """
        account = self.accounts.get(account_id)
        name = account.display_name if account else account_id
        return {
            "displayValue": name,
            "searchValue": account_id,
            "referencedType": False,
            "user": {
                "key": jira_user_key(account_id),
                "name": name,
                "displayName": name,
                "isDeleted": account is None,
            },
        }

    def plain_values(self, obj: AssetObject) -> dict[str, Any]:
        """``{attribute name: value}`` for non-system attributes, references as keys."""
        result: dict[str, Any] = {}
        for attr in self.store.attributes_of(obj.object_type_id):
            raw = obj.values.get(attr.id, [])
            if attr.system or not raw:
                continue
            if attr.type == TYPE_OBJECT:
                raw = [self.store.objects[r].key for r in raw if r in self.store.objects]
            result[attr.name] = raw[0] if len(raw) == 1 else raw
        return result
