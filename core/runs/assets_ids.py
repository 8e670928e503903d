"""The Assets ids a run needs, from the database when they are still right.

A cold run reads the workspace (Jira), then the schema list, the object types and
the Employee attributes (Assets) before it reads a single Employee. None of that
changes from one run to the next unless someone edits the schema, so the ids are kept
in the database (:mod:`core.store.read_cache`) and checked instead of read: the
Employee read's first page lists the type's attributes (``objectTypeAttributes``),
and :func:`core.clients.check_attribute_ids` compares them with the kept ids as a
cold read would derive them. On any difference, or a 404 or 400 from a kept id, the
kept ids are dropped and everything is read again as on a cold start; an error then
stands, and the run stops before any write as always.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TypeVar

from core.clients import (
    AssetsClient,
    AttributeInfo,
    EmployeeType,
    SchemaChanged,
    check_attribute_ids,
    load_employee_type,
)
from core.errors import ApiError
from core.runs.wiring import Clients
from core.store import AssetsIds
from core.sync import Attr, EmployeeRecord

STALE_STATUSES = (400, 404)  # what Assets answers for an id that no longer exists
T = TypeVar("T")
Say = Callable[[str], None]
Check = Callable[[list[AttributeInfo]], None]
# A read of Employees: Assets, the type to read with, and the check of the kept ids.
_Read = Callable[[AssetsClient, EmployeeType, Check | None], list[EmployeeRecord]]


class EmployeeIds:
    """One run's Employee type: kept ids first, read again when they prove stale."""

    def __init__(self, clients: Clients, say: Say = lambda _: None) -> None:
        self._clients = clients
        self._say = say
        self._from_store = False

    def employee_type(self) -> EmployeeType:
        """The kept Employee type, or one read from Assets (and kept)."""
        kept = _employee_type(self._clients.stored_assets_ids())
        if kept is not None:
            self._from_store = True
            return kept
        return self._read()

    def employees(self, employee_type: EmployeeType) -> tuple[EmployeeType, list[EmployeeRecord]]:
        """Every Employee, read with ids known to be right; the type they were read with."""
        return self._checked(
            employee_type, lambda assets, kind, check: assets.employees(kind, check=check)
        )

    def where(
        self, employee_type: EmployeeType, condition: str
    ) -> tuple[EmployeeType, list[EmployeeRecord]]:
        """The Employees an AQL ``condition`` matches (one person's), checked the same way."""
        return self._checked(
            employee_type,
            lambda assets, kind, check: assets.employees_where(kind, condition, check=check),
        )

    def _checked(
        self, employee_type: EmployeeType, read: _Read
    ) -> tuple[EmployeeType, list[EmployeeRecord]]:
        """``read`` with the kept ids checked against what its first page lists.

        An answer with no objects lists no attributes: the kept ids are then checked the
        cold way, by reading the type, before anything is planned with them.
        """
        if not self._from_store:
            return employee_type, read(self._clients.assets(), employee_type, None)
        check = partial(check_attribute_ids, employee_type)
        try:
            found = read(self._clients.assets(), employee_type, check)
            if found:
                return employee_type, found
            self._from_store = False
            fresh = self._read()
            if fresh == employee_type:
                return employee_type, found
            return fresh, read(self._clients.assets(), fresh, None)
        except SchemaChanged:
            self._say("The Assets schema changed since the last run; reading it again")
        except ApiError as exc:
            if exc.status not in STALE_STATUSES:
                raise
            self._say("Assets did not know the kept schema ids; reading them again")
        self._clients.forget_workspace()
        self._from_store = False
        fresh = self._read()
        return fresh, read(self._clients.assets(), fresh, None)

    def _read(self) -> EmployeeType:
        employee_type = with_fresh_workspace(self._clients, load_employee_type)
        self._clients.keep_employee_type(employee_type)
        return employee_type


def with_fresh_workspace(clients: Clients, read: Callable[[AssetsClient], T]) -> T:
    """``read`` on Assets; after a 404 (a kept workspace gone), once more on a fresh one."""
    try:
        return read(clients.assets())
    except ApiError as exc:
        if exc.status != 404:
            raise
    clients.forget_workspace()
    return read(clients.assets())


def _employee_type(ids: AssetsIds | None) -> EmployeeType | None:
    """The kept ids as an Employee type, when every attribute has one."""
    if ids is None or ids.schema_id is None or ids.object_type_id is None:
        return None
    by_name = dict(ids.attribute_ids)
    if any(attr.value not in by_name for attr in Attr):
        return None
    attribute_ids = tuple((attr, by_name[attr.value]) for attr in Attr)
    return EmployeeType(ids.schema_id, ids.object_type_id, attribute_ids)
