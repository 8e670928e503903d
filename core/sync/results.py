"""What happened when a plan was applied, one outcome per change."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


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
    """The result of one write. ``detail`` is a failure reason a person can act on."""

    kind: ChangeKind
    entra_user_id: str
    label: str
    status: OutcomeStatus
    object_key: str | None = None
    detail: str = ""
