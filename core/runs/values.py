"""The vocabulary of a run: what it reads, what it returns, and why it may refuse.

Callers outside :mod:`core.runs` import them from the package's face.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from core.clients import DirectoryRead, EmployeeType
from core.errors import SyncError
from core.store import ConnectionView, LeaseInfo, RunKind, RunStatus, RunView
from core.sync import ApplyResult, AtlassianAccount, EmployeeRecord, Person, Plan, person_plan
from core.version import version


class StalePlan(SyncError):
    """The plan changed since it was previewed; nothing was applied."""


class LeaseLost(SyncError):
    """Another process took the lease mid-run; this run stopped writing and is interrupted."""


class RunInProgress(SyncError):
    """Another preview or sync is running; two runs at once would race on Assets."""

    def __init__(
        self,
        requested_by: str,
        started_at: datetime,
        kind: RunKind,
        *,
        host: str | None = None,
        expires_at: datetime | None = None,
    ) -> None:
        self.requested_by = requested_by
        self.started_at = started_at
        self.kind = kind
        self.host = host
        self.expires_at = expires_at
        where = f" on host {host}" if host else ""
        until = (
            f" If that process has died, its lease expires at {expires_at:%H:%M:%S} UTC."
            if expires_at is not None
            else ""
        )
        super().__init__(
            f"A sync is already running, started by {requested_by} "
            f"at {started_at:%Y-%m-%d %H:%M} UTC{where}.{until}"
        )

    @classmethod
    def leased(cls, lease: LeaseInfo) -> RunInProgress:
        return cls(
            lease.holder,
            lease.acquired_at,
            lease.kind,
            host=lease.host,
            expires_at=lease.expires_at,
        )


@dataclass(frozen=True)
class Snapshot:
    """Everything read for one run, before anything is written."""

    employee_type: EmployeeType
    accounts: tuple[AtlassianAccount, ...]
    directory: DirectoryRead
    employees: tuple[EmployeeRecord, ...]


@dataclass(frozen=True)
class Review:
    """The stored preview an approval applies: only a plan with this fingerprint may run.

    The guard rails stand aside for it only when the approver is not the person who
    asked for the preview: a mass change always has two people behind it.
    """

    preview_id: int
    fingerprint: str
    requested_by: str
    person: Person | None = None  # a one-person preview: the plan is cut down to them

    def restrict(self, plan: Plan) -> Plan:
        """The plan this review covers: the whole plan, or one person's share of it."""
        return plan if self.person is None else person_plan(plan, self.person)


@dataclass(frozen=True)
class PreviewResult:
    run_id: int
    preview_id: int | None
    plan: Plan
    requests: dict[str, int]
    seconds: float
    strategy: str


@dataclass(frozen=True)
class SyncResult:
    """``status`` HELD: the guard stopped the apply; the plan is pending as ``preview_id``."""

    run_id: int
    plan: Plan
    status: RunStatus
    applied: ApplyResult | None
    requests: dict[str, int]
    seconds: float
    hold_reasons: tuple[str, ...] = ()
    preview_id: int | None = None
    overridden: tuple[str, ...] = ()  # hold reasons an operator chose to override

    @property
    def held(self) -> bool:
        return self.status is RunStatus.HELD


@dataclass(frozen=True)
class StatusReport:
    connection: ConnectionView | None
    last_manual: RunView | None
    last_scheduled: RunView | None
    running: tuple[RunView, ...]
    recent: tuple[RunView, ...]
    version: str = field(default_factory=version)  # the release answering, for upgrades
