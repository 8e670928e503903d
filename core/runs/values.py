"""The vocabulary of a run: what it reads, what it returns, and why it may refuse.

Re-exported by :mod:`core.runs.service`, which is where callers import them from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.clients import DirectoryRead, EmployeeType
from core.errors import SyncError
from core.store import ConnectionView, LeaseInfo, RunKind, RunStatus, RunView
from core.sync import ApplyResult, AtlassianAccount, EmployeeRecord, Plan, SourceCounts


class StalePlan(SyncError):
    """The plan changed since it was previewed; nothing was applied."""


class LeaseLost(SyncError):
    """Another process took the lease mid-run; this run stopped writing and is interrupted."""


class RunInProgress(SyncError):
    """Another preview or sync is running; two runs at once would race on Assets."""

    def __init__(self, requested_by: str, started_at: datetime, kind: RunKind) -> None:
        self.requested_by = requested_by
        self.started_at = started_at
        self.kind = kind
        super().__init__(
            f"A sync is already running, started by {requested_by} "
            f"at {started_at:%Y-%m-%d %H:%M} UTC."
        )

    @classmethod
    def holding(cls, run: RunView) -> RunInProgress:
        return cls(run.requested_by, run.started_at, run.kind)

    @classmethod
    def leased(cls, lease: LeaseInfo) -> RunInProgress:
        return cls(lease.holder, lease.acquired_at, lease.kind)


@dataclass(frozen=True)
class Snapshot:
    """Everything read for one run, before anything is written."""

    employee_type: EmployeeType
    accounts: tuple[AtlassianAccount, ...]
    directory: DirectoryRead
    employees: tuple[EmployeeRecord, ...]


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


def source_counts(snapshot: Snapshot, plan: Plan) -> SourceCounts:
    """What the guard compares across runs: active accounts, and directory users.

    A full read counts the users actually received, so a read cut short shows as a
    drop; a lookup read only asked for some users, so the tenant's size stands in.
    """
    directory = snapshot.directory
    read = len(directory.users) if directory.strategy == "full" else directory.directory_size
    return SourceCounts(plan.stats.atlassian_accounts, read)
