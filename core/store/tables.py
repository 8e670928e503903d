"""Tables, status vocabularies and frozen views behind :class:`core.store.database.Store`.

Rows never leave :mod:`core.store.database`: callers get frozen views, so a detached or
half-loaded ORM object can never leak into the bot or the CLI. Statuses are stored
as plain strings (no database enum types) so adding a status needs no migration.
Datetimes go through :class:`UtcDateTime`: stored as naive UTC because SQLite keeps no
time zone, handed back aware, on every backend and every SQLModel version alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Dialect, Text, TypeDecorator
from sqlmodel import Field, SQLModel

from core.errors import SyncError
from core.sync import (
    Attr,
    ChangeKind,
    ChangeOutcome,
    FieldChange,
    OutcomeStatus,
    Person,
    Plan,
)

ATTR_VALUES = frozenset(a.value for a in Attr)


class RunKind(StrEnum):
    PREVIEW = "preview"
    MANUAL = "manual"
    SCHEDULED = "scheduled"


class RunStatus(StrEnum):
    """``interrupted``: the process died or lost its lease mid-run; ``cancelled``: a person
    declined to apply; ``held``: the guard rails stopped a scheduled apply, and the plan
    waits as a pending preview for a person to approve.
    """

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    CANCELLED = "cancelled"
    HELD = "held"


class PreviewStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    APPLYING = "applying"
    APPLIED = "applied"
    REJECTED = "rejected"
    STALE = "stale"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"
    FAILED = "failed"  # approved, but the apply could not run (e.g. a read error)


CLOSED_PREVIEW_STATUSES = frozenset(
    {
        PreviewStatus.APPLIED,
        PreviewStatus.REJECTED,
        PreviewStatus.STALE,
        PreviewStatus.EXPIRED,
        PreviewStatus.SUPERSEDED,
        PreviewStatus.FAILED,
    }
)
"""Statuses no click can change any more: a message showing one has no buttons."""


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; naive UTC in the database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else naive_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else aware_utc(value)


CONNECTION_ROW_ID = 1
"""There is one Entra connection per installation; its row always has this id."""


class EntraConnectionRow(SQLModel, table=True):
    __tablename__ = "entra_connection"

    id: int = Field(default=CONNECTION_ROW_ID, primary_key=True)
    tenant_id: str
    client_id: str
    client_secret_encrypted: str = Field(sa_column=Column(Text, nullable=False))
    cadence_days: int
    updated_at: datetime = Field(sa_type=UtcDateTime)
    updated_by: str


class RunRow(SQLModel, table=True):
    __tablename__ = "sync_run"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(index=True)
    requested_by: str
    started_at: datetime = Field(sa_type=UtcDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    status: str = Field(index=True)
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    requests: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    fingerprint: str | None = None
    cause: str | None = None  # a FailureCause value when the run failed


class LeaseRow(SQLModel, table=True):
    """Who may run right now, across processes: one row per lease name.

    ``owner`` is unique per acquisition; a released lease has no owner and an
    ``expires_at`` in the past, so the next conditional update takes it.
    """

    __tablename__ = "run_lease"

    name: str = Field(primary_key=True)
    owner: str | None = None
    holder: str | None = None
    kind: str | None = None
    run_id: int | None = None
    acquired_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime)


class PreviewRow(SQLModel, table=True):
    __tablename__ = "preview"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="sync_run.id", index=True)
    plan: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    fingerprint: str
    status: str = Field(index=True)
    requested_by: str
    created_at: datetime = Field(sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime)
    decided_by: str | None = None
    decided_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    channel: str | None = None  # where the Slack message showing it was posted
    message_ts: str | None = None
    # The status that message shows: set when it is posted, moved by whoever edits it.
    # A closed preview whose message still shows another status needs an edit.
    shown_status: str | None = None
    # Why the guard rails held this plan for a person; None for a plan someone asked for.
    hold_reasons: list[str] | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True), nullable=True)
    )
    # A one-person preview: the ids its plan was cut down to; None for a whole plan.
    person: dict[str, list[str]] | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True), nullable=True)
    )


TEAM_SETTINGS_ROW_ID = 1
"""Approval and notification settings are per installation: one row, this id."""


class TeamSettingsRow(SQLModel, table=True):
    __tablename__ = "team_settings"

    id: int = Field(default=TEAM_SETTINGS_ROW_ID, primary_key=True)
    report_channel: str | None = None
    approvers: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(sa_type=UtcDateTime)
    updated_by: str


class OutcomeRow(SQLModel, table=True):
    __tablename__ = "outcome"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="sync_run.id", index=True)
    kind: str
    entra_user_id: str
    object_key: str | None = None
    label: str
    status: str
    detail: str = Field(default="", sa_column=Column(Text, nullable=False))
    # [attribute, before, after] per field the write carried; None for older rows.
    changes: list[list[str | None]] | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True), nullable=True)
    )


class AuditEventRow(SQLModel, table=True):
    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True, sa_type=UtcDateTime)
    actor: str
    action: str
    subject: str
    detail: str = Field(default="", sa_column=Column(Text, nullable=False))


class SlackDeliveryRow(SQLModel, table=True):
    """A Slack request already handled, by its ``trigger_id``; see core/store/deliveries.py."""

    __tablename__ = "slack_delivery"

    key: str = Field(primary_key=True, max_length=255)
    seen_at: datetime = Field(index=True, sa_type=UtcDateTime)


class ScheduledCheckRow(SQLModel, table=True):
    """A daily check some process has taken on; see core/store/checks.py."""

    __tablename__ = "scheduled_check"

    slot: datetime = Field(primary_key=True, sa_type=UtcDateTime)  # the check's time
    claimed_by: str
    claimed_at: datetime = Field(sa_type=UtcDateTime)


# -- views: what the store hands out instead of rows ----------------------------------


def utc_now() -> datetime:
    """The store's default clock; tests pass their own."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class ConnectionView:
    """The stored connection as people may see it: ``has_secret``, never the secret."""

    tenant_id: str
    client_id: str
    cadence_days: int
    updated_at: datetime
    updated_by: str
    has_secret: bool


@dataclass(frozen=True, slots=True)
class RunView:
    id: int
    kind: RunKind
    requested_by: str
    started_at: datetime
    finished_at: datetime | None
    status: RunStatus
    counts: dict[str, int]
    requests: dict[str, int]
    error: str | None
    fingerprint: str | None
    cause: str | None = None


@dataclass(frozen=True, slots=True)
class PreviewView:
    """A stored preview. ``status`` reads ``expired`` once a pending one outlives its TTL."""

    id: int
    run_id: int
    plan: Plan = field(repr=False)
    fingerprint: str
    status: PreviewStatus
    requested_by: str
    created_at: datetime
    expires_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    channel: str | None = None
    message_ts: str | None = None
    hold_reasons: tuple[str, ...] = ()  # why the guard rails held it; empty when asked for
    person: Person | None = None  # set for a one-person preview: its plan is theirs only

    @property
    def held(self) -> bool:
        return bool(self.hold_reasons)


@dataclass(frozen=True, slots=True)
class AuditEventView:
    id: int
    at: datetime
    actor: str
    action: str
    subject: str
    detail: str


# -- conversions ---------------------------------------------------------------------


def as_utc(moment: datetime) -> datetime:
    """The same instant in UTC; a naive datetime is refused rather than guessed at."""
    if moment.tzinfo is None:
        raise ValueError("the store only takes timezone-aware datetimes")
    return moment.astimezone(UTC)


def naive_utc(moment: datetime) -> datetime:
    """Naive UTC is the one form every backend (SQLite included) stores faithfully."""
    return as_utc(moment).replace(tzinfo=None)


def aware_utc(moment: datetime) -> datetime:
    """Put back the UTC zone the database dropped; callers only ever see aware times."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def row_id(value: int | None) -> int:
    if value is None:  # pragma: no cover - the database assigns ids on insert
        raise SyncError("the database did not assign an id")
    return value


def run_view(row: RunRow) -> RunView:
    return RunView(
        id=row_id(row.id),
        kind=RunKind(row.kind),
        requested_by=row.requested_by,
        started_at=row.started_at,
        finished_at=row.finished_at,
        status=RunStatus(row.status),
        counts={str(k): int(v) for k, v in row.counts.items()},
        requests={str(k): int(v) for k, v in row.requests.items()},
        error=row.error,
        fingerprint=row.fingerprint,
        cause=row.cause,
    )


def outcome_from_row(row: OutcomeRow) -> ChangeOutcome:
    return ChangeOutcome(
        kind=ChangeKind(row.kind),
        entra_user_id=row.entra_user_id,
        label=row.label,
        status=OutcomeStatus(row.status),
        object_key=row.object_key,
        detail=row.detail,
        changes=tuple(
            FieldChange(Attr(attr), before, after)
            for attr, before, after in row.changes or []
            if attr in ATTR_VALUES
        ),
    )


def audit_view(row: AuditEventRow) -> AuditEventView:
    return AuditEventView(
        id=row_id(row.id),
        at=row.at,
        actor=row.actor,
        action=row.action,
        subject=row.subject,
        detail=row.detail,
    )


def person_to_json(person: Person) -> dict[str, list[str]]:
    return {
        "entra_user_ids": sorted(person.entra_user_ids),
        "object_keys": sorted(person.object_keys),
        "account_ids": sorted(person.account_ids),
    }


def person_from_json(data: dict[str, list[str]]) -> Person:
    return Person(
        frozenset(data.get("entra_user_ids") or ()),
        frozenset(data.get("object_keys") or ()),
        frozenset(data.get("account_ids") or ()),
    )
