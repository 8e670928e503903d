"""The slice of AQL the engine needs: ``field = value`` and ``field IN (v, ...)``
clauses joined with ``AND``, where a term may also be a parenthesised ``OR`` of clauses.

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
    r'(?:"(?P<qval>(?:[^"\\]|\\.)*)"|(?P<val>[^\s"()]+))\s*'
)
_IN = re.compile(
    r'\s*(?:"(?P<qname>[^"]+)"|(?P<name>[A-Za-z][A-Za-z0-9_]*))\s+IN\s*\((?P<values>[^)]*)\)\s*',
    re.IGNORECASE,
)
_VALUE = re.compile(r'\s*(?:"(?P<qval>(?:[^"\\]|\\.)*)"|(?P<val>[^\s",()]+))\s*(?:,|$)')
_AND = re.compile(r"AND\s", re.IGNORECASE)
_OR = re.compile(r"OR\s", re.IGNORECASE)
_OPEN = re.compile(r"\s*\(")
_CLOSE = re.compile(r"\s*\)\s*")
Predicate = Callable[[AssetObject], bool]


@dataclass(frozen=True)
class Clause:
    field: str
    value: str


@dataclass(frozen=True)
class AnyOf:
    """A parenthesised ``OR`` of clauses, or one ``field IN (...)``: any one may hold."""

    clauses: tuple[Clause, ...]


def bad_aql(query: str, why: str) -> HttpError:
    return atlassian_error(400, [f"AQL: {why} in '{query}'"])


def parse_aql(query: str) -> list[Clause | AnyOf]:
    terms: list[Clause | AnyOf] = []
    position = 0
    while True:
        term, position = _term(query, position)
        terms.append(term)
        if position == len(query):
            return terms
        connector = _AND.match(query, position)
        if connector is None:
            raise bad_aql(query, f"expected AND at position {position}")
        position = connector.end()


def _term(query: str, position: int) -> tuple[Clause | AnyOf, int]:
    opened = _OPEN.match(query, position)
    if opened is None:
        return _clause(query, position)
    position = opened.end()
    clauses: list[Clause] = []
    while True:
        term, position = _clause(query, position)
        clauses.extend(term.clauses if isinstance(term, AnyOf) else [term])
        closed = _CLOSE.match(query, position)
        if closed is not None:
            return AnyOf(tuple(clauses)), closed.end()
        connector = _OR.match(query, position)
        if connector is None:
            raise bad_aql(query, f"expected OR or ) at position {position}")
        position = connector.end()


def _clause(query: str, position: int) -> tuple[Clause | AnyOf, int]:
    listed = _IN.match(query, position)
    if listed is not None:
        name = listed.group("qname") or listed.group("name")
        values = _values(query, listed.group("values"))
        return AnyOf(tuple(Clause(name, v) for v in values)), listed.end()
    match = _CLAUSE.match(query, position)
    if match is None:
        raise bad_aql(query, f"cannot parse at position {position}")
    value = match.group("qval")
    value = re.sub(r"\\(.)", r"\1", value) if value is not None else match.group("val")
    return Clause(match.group("qname") or match.group("name"), value), match.end()


def _values(query: str, text: str) -> list[str]:
    values: list[str] = []
    position = 0
    while position < len(text):
        match = _VALUE.match(text, position)
        if match is None or match.end() == position:
            raise bad_aql(query, "cannot parse the IN list")
        quoted = match.group("qval")
        values.append(re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else match.group("val"))
        position = match.end()
    if not values:
        raise bad_aql(query, "an empty IN list")
    return values


def compile_aql(store: AssetsStore, query: str) -> Predicate:
    """A predicate over objects, checked against the store so unknown names fail."""
    tests = [_compile_term(store, query, term) for term in parse_aql(query)]
    return lambda obj: all(test(obj) for test in tests)


def _compile_term(store: AssetsStore, query: str, term: Clause | AnyOf) -> Predicate:
    if isinstance(term, Clause):
        return _compile_clause(store, query, term)
    tests = [_compile_clause(store, query, clause) for clause in term.clauses]
    return lambda obj: any(test(obj) for test in tests)


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
