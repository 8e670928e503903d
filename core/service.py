"""The service layer: every operation the CLI and the Slack bot offer, in one place.

Shells call these methods and render what they return; none of them holds sync logic.
Each run reads everything first (schema, Atlassian accounts, directory, Employees);
any read error ends the run before the first write.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx

from core.applier import ApplyResult, apply_plan
from core.clients.assets import AssetsClient, AttributeValues, EmployeeType
from core.clients.graph import DirectoryRead
from core.errors import FieldProblem, InvalidInput, SyncError
from core.http import RetryPolicy
from core.models import AtlassianAccount, EmployeeRecord
from core.plan import Plan
from core.planner import SyncPolicy, build_plan
from core.schema import SchemaReport, ensure_schema, load_employee_type
from core.settings import Settings
from core.store import (
    ConnectionView,
    PreviewView,
    RunKind,
    RunStatus,
    RunView,
    Store,
    TeamSettings,
)
from core.validation import validate_entra_input
from core.wiring import Clients

Say = Callable[[str], None]
ApplyProgress = Callable[[int, int], None]

RUN_STALE_AFTER = timedelta(hours=6)
"""A run still marked running after this long belongs to a process that died."""

RULE_SLACK_CHANNEL = "must be a Slack channel id such as C0123456789"
RULE_SLACK_USERS = "must be Slack user ids such as U0123456789"
_SLACK_ID = re.compile(r"[A-Z][A-Z0-9]{2,}")


class StalePlan(SyncError):
    """The plan changed since it was previewed; nothing was applied."""


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
    run_id: int
    plan: Plan
    status: RunStatus
    applied: ApplyResult | None
    requests: dict[str, int]
    seconds: float


@dataclass(frozen=True)
class StatusReport:
    connection: ConnectionView | None
    last_manual: RunView | None
    last_scheduled: RunView | None
    running: tuple[RunView, ...]
    recent: tuple[RunView, ...]


@dataclass
class _RunMeter:
    """Requests and time spent by one run (the counter is process-wide)."""

    clients: Clients
    started: float = field(default_factory=time.monotonic)
    before: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.before = self.clients.counter.snapshot()

    def requests(self) -> dict[str, int]:
        after = self.clients.counter.snapshot()
        delta = {k: v - self.before.get(k, 0) for k, v in after.items()}
        return {k: v for k, v in delta.items() if v}

    def seconds(self) -> float:
        return round(time.monotonic() - self.started, 3)


class _AssetsWriter:
    def __init__(self, assets: AssetsClient, employee_type: EmployeeType) -> None:
        self._assets = assets
        self._type = employee_type

    def create(self, values: AttributeValues) -> tuple[str, str]:
        return self._assets.create_employee(self._type, values)

    def update(self, object_id: str, values: AttributeValues) -> None:
        self._assets.update_employee(self._type, object_id, values)


class SyncService:
    """Configure, bootstrap the schema, preview, sync and report."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        policy: SyncPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.policy = policy or SyncPolicy()
        self.clients = Clients(settings, store, transport=transport, retry=retry)
        # Check-and-start of a run must be atomic between this process's threads.
        self._run_lock = threading.Lock()

    def close(self) -> None:
        self.clients.close()

    # -- configuration -------------------------------------------------------------

    def configure(
        self,
        tenant_id: str,
        client_id: str,
        client_secret: str | None,
        cadence_days: str | int,
        actor: str,
    ) -> ConnectionView:
        """Validate and store the Entra connection; a blank secret keeps the stored one."""
        current = self.store.connection()
        entra = validate_entra_input(
            tenant_id,
            client_id,
            client_secret or None,
            cadence_days,
            secret_required=current is None or not current.has_secret,
        )
        self.store.save_connection(entra, actor)
        self.store.audit(actor, "configure", "entra connection", f"tenant {entra.tenant_id}")
        view = self.store.connection()
        assert view is not None
        return view

    def team_settings(self) -> TeamSettings:
        return self.store.team_settings()

    def save_team_settings(self, settings: TeamSettings, actor: str) -> TeamSettings:
        """Validate and store who approves and where reports go; returns what was stored.

        Problems are keyed ``report_channel`` and ``approvers`` (the setup form's
        fields). Approvers are de-duplicated, order kept.
        """
        normalised = normalise_team_settings(settings)
        self.store.save_team_settings(normalised, actor)
        return normalised

    def create_schema(self, actor: str, say: Say = lambda _: None) -> SchemaReport:
        report = ensure_schema(self.clients.assets(), say)
        self.store.audit(actor, "schema", "ENTRA", ", ".join(report.created_attributes))
        return report

    # -- runs ----------------------------------------------------------------------

    def read_snapshot(self, say: Say = lambda _: None) -> Snapshot:
        """Read everything a plan needs. Raises on any read error; writes nothing."""
        assets = self.clients.assets()
        say("Reading the Assets schema")
        employee_type = load_employee_type(assets)
        say("Reading Atlassian accounts")
        accounts = tuple(self.clients.atlassian().list_accounts())
        say("Reading Employee objects")
        employees = tuple(assets.employees(employee_type))
        ids = {e.entra_user_id for e in employees if e.entra_user_id}
        # A linked account is matched by its Entra User ID; only newcomers need email.
        linked = {e.atlassian_account_id for e in employees if e.entra_user_id}
        emails = {
            a.email.lower() for a in accounts if a.active and a.email and a.account_id not in linked
        }
        say(f"Reading the directory for {len(emails)} emails and {len(ids)} linked users")
        directory = self.clients.directory().read_for(sorted(emails), sorted(ids))
        return Snapshot(employee_type, accounts, directory, employees)

    def plan(self, snapshot: Snapshot) -> Plan:
        return build_plan(
            snapshot.accounts, snapshot.directory.users, snapshot.employees, self.policy
        )

    def preview(self, actor: str, say: Say = lambda _: None) -> PreviewResult:
        """Plan without writing; the plan is stored so it can be approved later."""
        run_id = self._begin_run(RunKind.PREVIEW, actor)
        meter = _RunMeter(self.clients)
        try:
            snapshot = self.read_snapshot(say)
            plan = self.plan(snapshot)
            ttl = timedelta(hours=self.settings.preview_ttl_hours)
            preview_id = self.store.save_preview(run_id, plan, actor, ttl=ttl)
        except BaseException as exc:
            self._finish_failed(run_id, meter, exc)
            raise
        requests = meter.requests()
        self.store.finish_run(
            run_id,
            RunStatus.SUCCEEDED,
            counts=plan.counts(),
            requests=requests,
            fingerprint=plan.fingerprint,
        )
        return PreviewResult(
            run_id, preview_id, plan, requests, meter.seconds(), snapshot.directory.strategy
        )

    def sync(
        self,
        actor: str,
        *,
        kind: RunKind = RunKind.MANUAL,
        expected_fingerprint: str | None = None,
        confirm: Callable[[Plan], bool] | None = None,
        say: Say = lambda _: None,
        progress: ApplyProgress = lambda done, total: None,
    ) -> SyncResult:
        """Read, plan and apply. With ``expected_fingerprint`` only that exact plan applies."""
        run_id = self._begin_run(kind, actor)
        meter = _RunMeter(self.clients)
        try:
            snapshot = self.read_snapshot(say)
            plan = self.plan(snapshot)
            if expected_fingerprint is not None and plan.fingerprint != expected_fingerprint:
                raise StalePlan(
                    "The directory or Assets changed since the preview; nothing was applied. "
                    "Generate a fresh preview."
                )
            if confirm is not None and not confirm(plan):
                self.store.finish_run(
                    run_id,
                    RunStatus.CANCELLED,
                    counts=plan.counts(),
                    requests=meter.requests(),
                    fingerprint=plan.fingerprint,
                )
                return SyncResult(
                    run_id, plan, RunStatus.CANCELLED, None, meter.requests(), meter.seconds()
                )
            result = self._apply(snapshot, plan, say, progress)
        except BaseException as exc:
            self._finish_failed(run_id, meter, exc)
            raise
        status = _status_of(result)
        self.store.record_outcomes(run_id, result.outcomes)
        counts = {**plan.counts(), "applied": result.succeeded, "failed": result.failed}
        requests = meter.requests()
        self.store.finish_run(
            run_id, status, counts=counts, requests=requests, fingerprint=plan.fingerprint
        )
        return SyncResult(run_id, plan, status, result, requests, meter.seconds())

    def current_run(self) -> RunView | None:
        """The newest run still running, ignoring any older than :data:`RUN_STALE_AFTER`."""
        cutoff = self.store.now() - RUN_STALE_AFTER
        live = [run for run in self.store.running() if run.started_at > cutoff]
        return live[0] if live else None

    def _begin_run(self, kind: RunKind, actor: str) -> int:
        """Start a run row, or raise :class:`RunInProgress` before anything is read."""
        with self._run_lock:
            holder = self.current_run()
            if holder is not None:
                raise RunInProgress.holding(holder)
            return self.store.start_run(kind, actor)

    def _apply(
        self, snapshot: Snapshot, plan: Plan, say: Say, progress: ApplyProgress
    ) -> ApplyResult:
        if plan.is_empty:
            return ApplyResult(())
        say(f"Applying {plan.write_count} changes")
        writer = _AssetsWriter(self.clients.assets(), snapshot.employee_type)
        keys: dict[str, tuple[str, str]] = {}
        for record in sorted(snapshot.employees, key=lambda r: _key_order(r.object_key)):
            if record.entra_user_id and record.entra_user_id not in keys:
                keys[record.entra_user_id] = (record.object_id, record.object_key)
        return apply_plan(
            plan,
            writer,
            keys,
            concurrency=self.settings.write_concurrency,
            progress=progress,
        )

    def _finish_failed(self, run_id: int, meter: _RunMeter, exc: BaseException) -> None:
        interrupted = not isinstance(exc, Exception)
        status = RunStatus.INTERRUPTED if interrupted else RunStatus.FAILED
        reason = "interrupted" if interrupted else str(exc) or type(exc).__name__
        self.store.finish_run(run_id, status, requests=meter.requests(), error=reason)

    # -- reporting -----------------------------------------------------------------

    def status(self) -> StatusReport:
        return StatusReport(
            connection=self.store.connection(),
            last_manual=self.store.last_run(RunKind.MANUAL),
            last_scheduled=self.store.last_run(RunKind.SCHEDULED),
            running=tuple(self.store.running()),
            recent=tuple(self.store.recent_runs(10)),
        )

    def history(self, limit: int = 20) -> list[RunView]:
        return self.store.recent_runs(limit)

    def pending_previews(self) -> list[PreviewView]:
        """Previews still awaiting a decision, newest first."""
        return self.store.pending_previews()

    def preview_view(self, preview_id: int) -> PreviewView | None:
        return self.store.preview(preview_id)


def normalise_team_settings(settings: TeamSettings) -> TeamSettings:
    """Trimmed, de-duplicated Slack ids; raises :class:`InvalidInput` naming each bad field."""
    channel = (settings.report_channel or "").strip() or None
    approvers = _unique(a.strip() for a in settings.approvers if a.strip())
    problems = []
    if channel is not None and not _SLACK_ID.fullmatch(channel):
        problems.append(FieldProblem("report_channel", RULE_SLACK_CHANNEL))
    if not all(_SLACK_ID.fullmatch(a) for a in approvers):
        problems.append(FieldProblem("approvers", RULE_SLACK_USERS))
    if problems:
        raise InvalidInput(problems)
    return TeamSettings(channel, approvers)


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _status_of(result: ApplyResult) -> RunStatus:
    if result.failed == 0:
        return RunStatus.SUCCEEDED
    return RunStatus.PARTIAL if result.succeeded else RunStatus.FAILED


def _key_order(object_key: str) -> tuple[str, int]:
    prefix, _, number = object_key.rpartition("-")
    return (prefix, int(number)) if number.isdigit() else (object_key, 0)
