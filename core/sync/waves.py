"""The order of creates: managers before their reports, in waves that can run in parallel.

A create can carry its Manager reference only when the manager's object already
exists, because the reference is the manager's object key. So the creates are put in
waves by their depth in the management tree *among the creates*: wave 0 holds every
create whose manager is already an Employee, is not being created, or is nobody; wave
n holds the creates whose manager is in wave n-1. The applier writes one wave at a
time, each wave in parallel, so a report's create finds its manager's key.

A cycle of creates (A manages B manages A; the planner warns of it) has no first
member: it is broken where the walk from the earliest create in plan order meets it,
and that member is put in wave 0 with its reference left for the applier's last pass.
Everything is deterministic: the same plan gives the same waves, in plan order within
each wave.
"""

from __future__ import annotations

from collections.abc import Container, Sequence

from core.sync.models import Attr
from core.sync.plan import Create


def create_waves(creates: Sequence[Create], existing: Container[str]) -> list[list[Create]]:
    """``creates`` in waves, managers first; ``existing`` holds Employees' Entra User IDs.

    A create whose manager is in ``existing`` (or is no create of this plan) starts
    a chain; its depth is 0.
    """
    by_id = {c.entra_user_id: c for c in creates}
    depth: dict[str, int] = {}
    for create in creates:
        _settle(create.entra_user_id, by_id, existing, depth)
    waves: list[list[Create]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for create in creates:
        waves[depth[create.entra_user_id]].append(create)
    return waves


def _settle(
    start: str, by_id: dict[str, Create], existing: Container[str], depth: dict[str, int]
) -> None:
    """Give ``start`` and every create up its management chain a depth."""
    path: list[str] = []
    on_path: set[str] = set()
    current = start
    while current not in depth:
        manager = _created_manager(by_id[current], by_id, existing)
        if manager is None:
            depth[current] = 0  # the top of a chain: its manager exists or is no create
            break
        path.append(current)
        on_path.add(current)
        if manager in on_path:
            depth[manager] = 0  # a cycle: broken at the member the walk met first
            break
        current = manager
    for member in reversed(path):
        if member not in depth:
            manager = _created_manager(by_id[member], by_id, existing)
            assert manager is not None  # every member of the path has a created manager
            depth[member] = depth[manager] + 1


def _created_manager(
    create: Create, by_id: dict[str, Create], existing: Container[str]
) -> str | None:
    """The Entra User ID of ``create``'s manager when that manager is a create too."""
    manager = create.get(Attr.MANAGER)
    if manager is None or manager in existing or manager not in by_id:
        return None
    return manager
