"""The plan: what a sync would change, as frozen, ordered, serialisable values.

A :class:`Plan` is produced by :func:`core.sync.planner.build_plan` and consumed by
:mod:`core.sync.applier`. Its ``fingerprint`` is a SHA-256 over the canonical JSON form,
so an approval can be bound to exactly what a person saw.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from core.sync.models import Attr


class InactivationReason(StrEnum):
    ATLASSIAN_INACTIVE = "Atlassian account inactive"
    ATLASSIAN_GONE = "Atlassian account no longer exists"
    DIRECTORY_DISABLED = "directory account disabled"
    DIRECTORY_GONE = "directory user deleted or not found"


class UnmatchedReason(StrEnum):
    EMAIL_HIDDEN = "email hidden by profile visibility"
    NO_DIRECTORY_USER = "no directory user with this email"
    AMBIGUOUS = "several directory users answer to this email"
    SHARED_EMAIL = "email shared by several Atlassian accounts"
    ALREADY_LINKED = "directory user already linked to another Atlassian account"


class ManagerGap(StrEnum):
    NO_ATLASSIAN_ACCOUNT = "manager has no Atlassian account"
    CONTACT = "manager is an organisational contact"
    NOT_FOUND = "manager not found in the directory"


class WarningCode(StrEnum):
    DUPLICATE_EMAIL = "duplicate_email"
    CASE_VARIANT_EMAIL = "case_variant_email"
    GUEST = "guest"
    DUPLICATE_OWNED_OBJECT = "duplicate_owned_object"
    UNOWNED_OBJECT_CONFLICT = "unowned_object_conflict"
    MANAGER_CYCLE = "manager_cycle"
    NO_MAIL = "no_mail"


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One attribute's before and after. For ``Attr.MANAGER`` both are Entra User IDs."""

    attr: Attr
    before: str | None
    after: str | None


@dataclass(frozen=True, slots=True)
class Create:
    """A new Employee. ``values`` holds every attribute; Manager is an Entra User ID."""

    entra_user_id: str
    label: str
    values: tuple[tuple[Attr, str | None], ...]

    def get(self, attr: Attr) -> str | None:
        return dict(self.values).get(attr)


@dataclass(frozen=True, slots=True)
class Update:
    object_id: str
    object_key: str
    entra_user_id: str
    label: str
    changes: tuple[FieldChange, ...]


@dataclass(frozen=True, slots=True)
class Inactivation:
    """Active becomes false (plus any other field that changed). Never a delete."""

    object_id: str
    object_key: str
    entra_user_id: str
    label: str
    reason: InactivationReason
    changes: tuple[FieldChange, ...]


@dataclass(frozen=True, slots=True)
class Unmatched:
    account_id: str
    display_name: str
    email: str | None
    reason: UnmatchedReason
    detail: str = ""


@dataclass(frozen=True, slots=True)
class MissingManager:
    entra_user_id: str
    label: str
    manager_id: str
    manager_name: str | None
    reason: ManagerGap


@dataclass(frozen=True, slots=True)
class PlanWarning:
    code: WarningCode
    subject: str
    message: str


@dataclass(frozen=True, slots=True)
class PlanStats:
    """Sizes of what was read; the scheduler's guard rails compare these across runs."""

    atlassian_accounts: int = 0
    directory_users: int = 0
    owned_employees: int = 0


@dataclass(frozen=True, slots=True)
class Plan:
    creates: tuple[Create, ...] = ()
    updates: tuple[Update, ...] = ()
    inactivations: tuple[Inactivation, ...] = ()
    unmatched: tuple[Unmatched, ...] = ()
    missing_managers: tuple[MissingManager, ...] = ()
    warnings: tuple[PlanWarning, ...] = ()
    stats: PlanStats = field(default_factory=PlanStats)
    manager_names: tuple[tuple[str, str], ...] = ()
    """(Entra User ID, display name) of every manager a change refers to, for display."""

    @property
    def is_empty(self) -> bool:
        """True when applying would write nothing."""
        return not (self.creates or self.updates or self.inactivations)

    @property
    def write_count(self) -> int:
        return len(self.creates) + len(self.updates) + len(self.inactivations)

    def counts(self) -> dict[str, int]:
        return {
            "creates": len(self.creates),
            "updates": len(self.updates),
            "inactivations": len(self.inactivations),
            "unmatched": len(self.unmatched),
            "missing_managers": len(self.missing_managers),
            "warnings": len(self.warnings),
        }

    def manager_name(self, entra_user_id: str | None) -> str | None:
        if entra_user_id is None:
            return None
        return dict(self.manager_names).get(entra_user_id, entra_user_id)

    def to_dict(self) -> dict[str, Any]:
        """The canonical, JSON-ready form: stored, fingerprinted and printed by ``--json``."""
        return {
            "creates": [_create_dict(c) for c in self.creates],
            "updates": [_update_dict(u) for u in self.updates],
            "inactivations": [_inactivation_dict(i) for i in self.inactivations],
            "unmatched": [
                {
                    "account_id": u.account_id,
                    "display_name": u.display_name,
                    "email": u.email,
                    "reason": u.reason.value,
                    "detail": u.detail,
                }
                for u in self.unmatched
            ],
            "missing_managers": [
                {
                    "entra_user_id": m.entra_user_id,
                    "label": m.label,
                    "manager_id": m.manager_id,
                    "manager_name": m.manager_name,
                    "reason": m.reason.value,
                }
                for m in self.missing_managers
            ],
            "warnings": [
                {"code": w.code.value, "subject": w.subject, "message": w.message}
                for w in self.warnings
            ],
            "stats": {
                "atlassian_accounts": self.stats.atlassian_accounts,
                "directory_users": self.stats.directory_users,
                "owned_employees": self.stats.owned_employees,
            },
            "manager_names": [list(pair) for pair in self.manager_names],
        }

    @property
    def fingerprint(self) -> str:
        """SHA-256 over the canonical JSON of the writes: creates, updates, inactivations.

        An approval binds to what will be written. Findings (unmatched accounts, missing
        manager links, warnings) and read sizes are for display: a hidden email or a new
        directory user with no Atlassian account must not make an approved plan stale.
        """
        data = self.to_dict()
        writes = {key: data[key] for key in ("creates", "updates", "inactivations")}
        canonical = json.dumps(writes, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        """Rebuild a plan stored with :meth:`to_dict`; the fingerprint round-trips."""
        return cls(
            creates=tuple(
                Create(c["entra_user_id"], c["label"], _values_from(c["values"]))
                for c in data["creates"]
            ),
            updates=tuple(
                Update(
                    u["object_id"],
                    u["object_key"],
                    u["entra_user_id"],
                    u["label"],
                    _changes_from(u["changes"]),
                )
                for u in data["updates"]
            ),
            inactivations=tuple(
                Inactivation(
                    i["object_id"],
                    i["object_key"],
                    i["entra_user_id"],
                    i["label"],
                    InactivationReason(i["reason"]),
                    _changes_from(i["changes"]),
                )
                for i in data["inactivations"]
            ),
            unmatched=tuple(
                Unmatched(
                    u["account_id"],
                    u["display_name"],
                    u["email"],
                    UnmatchedReason(u["reason"]),
                    u.get("detail", ""),
                )
                for u in data["unmatched"]
            ),
            missing_managers=tuple(
                MissingManager(
                    m["entra_user_id"],
                    m["label"],
                    m["manager_id"],
                    m["manager_name"],
                    ManagerGap(m["reason"]),
                )
                for m in data["missing_managers"]
            ),
            warnings=tuple(
                PlanWarning(WarningCode(w["code"]), w["subject"], w["message"])
                for w in data["warnings"]
            ),
            stats=PlanStats(**data.get("stats", {})),
            manager_names=tuple((a, b) for a, b in data.get("manager_names", [])),
        )


def _changes_dicts(changes: tuple[FieldChange, ...]) -> list[dict[str, Any]]:
    return [{"attr": c.attr.value, "before": c.before, "after": c.after} for c in changes]


def _changes_from(items: list[dict[str, Any]]) -> tuple[FieldChange, ...]:
    return tuple(FieldChange(Attr(c["attr"]), c["before"], c["after"]) for c in items)


def _values_from(items: list[list[Any]]) -> tuple[tuple[Attr, str | None], ...]:
    return tuple((Attr(name), value) for name, value in items)


def _create_dict(c: Create) -> dict[str, Any]:
    return {
        "entra_user_id": c.entra_user_id,
        "label": c.label,
        "values": [[attr.value, value] for attr, value in c.values],
    }


def _update_dict(u: Update) -> dict[str, Any]:
    return {
        "object_id": u.object_id,
        "object_key": u.object_key,
        "entra_user_id": u.entra_user_id,
        "label": u.label,
        "changes": _changes_dicts(u.changes),
    }


def _inactivation_dict(i: Inactivation) -> dict[str, Any]:
    return {
        "object_id": i.object_id,
        "object_key": i.object_key,
        "entra_user_id": i.entra_user_id,
        "label": i.label,
        "reason": i.reason.value,
        "changes": _changes_dicts(i.changes),
    }
