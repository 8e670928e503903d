"""One person's share of a plan: their own writes and the manager links pointing at them.

Explaining a person and syncing one person now both start from the whole
:class:`~core.sync.plan.Plan` the planner made and cut it down here, so the rules that
decided each write are the planner's, and the cut plan has a fingerprint an approval
can be bound to like any other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from core.sync.models import Attr
from core.sync.plan import FieldChange, Inactivation, Plan, Update
from core.sync.results import ChangeKind, ChangeOutcome

__all__ = ["MANAGER_ATTRS", "Person", "outcome_changes", "person_plan", "plan_changes"]

MANAGER_ATTRS = frozenset({Attr.MANAGER, Attr.MANAGER_ACCOUNT_ID})


@dataclass(frozen=True, slots=True)
class Person:
    """The ids one person goes by: directory user ids, Employee keys, account ids."""

    entra_user_ids: frozenset[str] = frozenset()
    object_keys: frozenset[str] = frozenset()
    account_ids: frozenset[str] = frozenset()

    def tokens(self) -> frozenset[str]:
        return self.entra_user_ids | self.object_keys | self.account_ids

    def has_change(self, change: Update | Inactivation) -> bool:
        return change.entra_user_id in self.entra_user_ids or change.object_key in self.object_keys

    def points_here(self, fc: FieldChange) -> bool:
        """A Manager field that names this person before or after the change."""
        if fc.attr not in MANAGER_ATTRS:
            return False
        return bool({fc.before, fc.after} & (self.entra_user_ids | self.account_ids))


def person_plan(plan: Plan, person: Person) -> Plan:
    """``plan`` cut down to ``person``: their create, update or inactivation, and of
    everyone else's writes only the Manager fields that point at them (before or after),
    as updates: whether a report is also inactivated is theirs to sync, not this person's.

    Findings are kept when they name the person. Stats stay the whole read's.
    """
    tokens = person.tokens()
    updates = [u for u in plan.updates if person.has_change(u)]
    writes: list[Update | Inactivation] = [*plan.updates, *plan.inactivations]
    for change in (c for c in writes if not person.has_change(c)):
        links = tuple(fc for fc in change.changes if fc.attr in MANAGER_ATTRS)
        if any(person.points_here(fc) for fc in links):
            updates.append(
                Update(
                    change.object_id, change.object_key, change.entra_user_id, change.label, links
                )
            )
    return replace(
        plan,
        creates=tuple(c for c in plan.creates if c.entra_user_id in person.entra_user_ids),
        updates=tuple(sorted(updates, key=lambda u: (u.label, u.entra_user_id, u.object_key))),
        inactivations=tuple(i for i in plan.inactivations if person.has_change(i)),
        unmatched=tuple(u for u in plan.unmatched if u.account_id in person.account_ids),
        missing_managers=tuple(
            m
            for m in plan.missing_managers
            if m.entra_user_id in person.entra_user_ids or m.manager_id in person.entra_user_ids
        ),
        warnings=tuple(
            w for w in plan.warnings if any(t in w.message or t == w.subject for t in tokens)
        ),
    )


def plan_changes(plan: Plan) -> dict[str, tuple[FieldChange, ...]]:
    """The before/after of every write in ``plan``, by Entra User ID.

    A create reads as every value set from nothing.
    """
    found: dict[str, tuple[FieldChange, ...]] = {}
    for create in plan.creates:
        found[create.entra_user_id] = tuple(FieldChange(a, None, v) for a, v in create.values if v)
    changes: list[Update | Inactivation] = [*plan.updates, *plan.inactivations]
    for change in changes:
        found[change.entra_user_id] = change.changes
    return found


def outcome_changes(
    changes: Mapping[str, tuple[FieldChange, ...]], outcome: ChangeOutcome
) -> tuple[FieldChange, ...]:
    """The before/after of the write ``outcome`` reports, from :func:`plan_changes`.

    The last pass's manager link (``ChangeKind.MANAGER``) carries only the Manager
    fields of that person's write.
    """
    values = changes.get(outcome.entra_user_id, ())
    if outcome.kind is ChangeKind.MANAGER:
        return tuple(fc for fc in values if fc.attr in MANAGER_ATTRS)
    return values
