"""What happened when a plan was applied, one outcome per change."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.sync.plan import FieldChange


class OutcomeStatus(StrEnum):
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"


class ChangeKind(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    INACTIVATE = "inactivate"
    MANAGER = "manager"


@dataclass(frozen=True, slots=True)
class ChangeOutcome:
    """The result of one write. ``detail`` is a failure reason a person can act on.

    ``changes`` is the before/after the write carried, kept so a person's history can
    show it (filled by the run's recorder from the plan; empty when not known).
    """

    kind: ChangeKind
    entra_user_id: str
    label: str
    status: OutcomeStatus
    object_key: str | None = None
    detail: str = ""
    changes: tuple[FieldChange, ...] = ()
