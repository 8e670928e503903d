"""The slice of AQL the engine needs: ``field = value`` clauses joined with ``AND``.

Fields: ``objectTypeId``, ``objectSchemaId``, ``objectType``, ``Key``/``objectKey`` and
any attribute name (quoted when it has spaces). Anything else is a 400, as a typo in a
real AQL query would be.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from core.sandbox.assets_model import TYPE_OBJECT, AssetObject
from core.sandbox.assets_store import AssetsStore
from core.sandbox.http import HttpError, atlassian_error

_CLAUSE = re.compile(
    r'\s*(?:"(?P<qname>[^"]+)"|(?P<name>[A-Za-z][A-Za-z0-9_]*))\s*=\s*'
    r'(?:"(?P<qval>(?:[^"\\]|\\.)*)"|(?P<val>[^\s"]+))\s*'
)
_AND = re.compile(r"AND\s", re.IGNORECASE)
Predicate = Callable[[AssetObject], bool]


@dataclass(frozen=True)
class Clause:
    field: str
    value: str


def bad_aql(query: str, why: str) -> HttpError:
    return atlassian_error(400, [f"AQL: {why} in '{query}'"])


def parse_aql(query: str) -> list[Clause]:
    clauses: list[Clause] = []
    position = 0
    while True:
        match = _CLAUSE.match(query, position)
        if match is None:
            raise bad_aql(query, f"cannot parse at position {position}")
        value = match.group("qval")
        value = re.sub(r"\\(.)", r"\1", value) if value is not None else match.group("val")
        clauses.append(Clause(match.group("qname") or match.group("name"), value))
        position = match.end()
        if position == len(query):
            return clauses
        connector = _AND.match(query, position)
        if connector is None:
            raise bad_aql(query, f"expected AND at position {position}")
        position = connector.end()


def compile_aql(store: AssetsStore, query: str) -> Predicate:
    """A predicate over objects, checked against the store so unknown names fail."""
    tests = [_compile_clause(store, query, clause) for clause in parse_aql(query)]
    return lambda obj: all(test(obj) for test in tests)


def _compile_clause(store: AssetsStore, query: str, clause: Clause) -> Predicate:
    field, value = clause.field.lower(), clause.value
    if field in ("objecttypeid", "objectschemaid") and not value.isdigit():
        raise bad_aql(query, f"{clause.field} needs a number")
    if field == "objecttypeid":
        return lambda obj: obj.object_type_id == value
    if field == "objectschemaid":
        return lambda obj: store.types[obj.object_type_id].schema_id == value
    if field == "objecttype":
        names = {t.name.lower() for t in store.types.values()}
        if value.lower() not in names:
            raise bad_aql(query, f"no object type named {value}")
        return lambda obj: store.types[obj.object_type_id].name.lower() == value.lower()
    if field in ("key", "objectkey"):
        return lambda obj: obj.key.lower() == value.lower()
    return _attribute_clause(store, query, clause)


def _attribute_clause(store: AssetsStore, query: str, clause: Clause) -> Predicate:
    """``"Attribute Name" = value``, on whichever object types have that attribute."""
    by_type = {
        a.object_type_id: a
        for a in store.attributes.values()
        if a.name.lower() == clause.field.lower()
    }
    if not by_type:
        raise bad_aql(query, f"no attribute named {clause.field}")
    wanted = clause.value.lower()

    def test(obj: AssetObject) -> bool:
        attr = by_type.get(obj.object_type_id)
        if attr is None:
            return False
        if attr.name in ("Key", "Created", "Updated") and attr.system:
            return attr.name == "Key" and obj.key.lower() == wanted
        values = obj.values.get(attr.id, [])
        if attr.type == TYPE_OBJECT:
            values = [store.objects[v].key for v in values if v in store.objects]
        return any(v.lower() == wanted for v in values)

    return test
