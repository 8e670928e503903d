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

from core.sync.codec import Serialisable
from core.sync.models import Attr
from core.sync.sections import SECTIONS, WRITE_SECTIONS


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
    UNKNOWN_STATE = "unknown_state"
    UNUSABLE_ENTRA_USER_ID = "unusable_entra_user_id"


@dataclass(frozen=True, slots=True)
class FieldChange(Serialisable):
    """One attribute's before and after. For ``Attr.MANAGER`` both are Entra User IDs."""

    attr: Attr
    before: str | None
    after: str | None


@dataclass(frozen=True, slots=True)
class Create(Serialisable):
    """A new Employee. ``values`` holds every attribute; Manager is an Entra User ID."""

    entra_user_id: str
    label: str
    values: tuple[tuple[Attr, str | None], ...]

    def get(self, attr: Attr) -> str | None:
        return dict(self.values).get(attr)


@dataclass(frozen=True, slots=True)
class Update(Serialisable):
    object_id: str
    object_key: str
    entra_user_id: str
    label: str
    changes: tuple[FieldChange, ...]


@dataclass(frozen=True, slots=True)
class Inactivation(Serialisable):
    """Active becomes false (plus any other field that changed). Never a delete."""

    object_id: str
    object_key: str
    entra_user_id: str
    label: str
    reason: InactivationReason
    changes: tuple[FieldChange, ...]


@dataclass(frozen=True, slots=True)
class Unmatched(Serialisable):
    account_id: str
    display_name: str
    email: str | None
    reason: UnmatchedReason
    detail: str = ""


@dataclass(frozen=True, slots=True)
class MissingManager(Serialisable):
    entra_user_id: str
    label: str
    manager_id: str
    manager_name: str | None
    reason: ManagerGap


@dataclass(frozen=True, slots=True)
class PlanWarning(Serialisable):
    code: WarningCode
    subject: str
    message: str


@dataclass(frozen=True, slots=True)
class PlanStats(Serialisable):
    """Sizes of what was read; the scheduler's guard rails compare these across runs."""

    atlassian_accounts: int = 0
    directory_users: int = 0
    owned_employees: int = 0


@dataclass(frozen=True, slots=True)
class Plan(Serialisable):
    """What a sync would change. ``to_dict`` is the canonical JSON form: stored with a
    preview, fingerprinted, and printed by ``--json``; ``from_dict`` reads it back."""

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
        return self.write_count == 0

    @property
    def write_count(self) -> int:
        return sum(len(s.items(self)) for s in WRITE_SECTIONS)

    def counts(self) -> dict[str, int]:
        """Items per section, keyed and ordered as :data:`~core.sync.sections.SECTIONS`."""
        return {s.key: len(s.items(self)) for s in SECTIONS}

    def manager_name(self, entra_user_id: str | None) -> str | None:
        if entra_user_id is None:
            return None
        return dict(self.manager_names).get(entra_user_id, entra_user_id)

    @property
    def fingerprint(self) -> str:
        """SHA-256 over the canonical JSON of the writes: creates, updates, inactivations.

        An approval binds to what will be written. Findings (unmatched accounts, missing
        manager links, warnings) and read sizes are for display: a hidden email or a new
        directory user with no Atlassian account must not make an approved plan stale.
        """
        data = self.to_dict()
        writes = {s.key: data[s.key] for s in WRITE_SECTIONS}
        canonical = json.dumps(writes, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()
