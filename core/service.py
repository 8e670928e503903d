"""The service layer: every operation the CLI and the Slack bot offer, in one place.

Shells call these methods and render what they return; none of them holds sync logic.
Each run reads everything first (schema, Atlassian accounts, directory, Employees);
any read error ends the run before the first write.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from core.applier import ApplyResult, apply_plan
from core.clients.assets import AssetsClient, AttributeValues, EmployeeType
from core.clients.graph import DirectoryRead
from core.errors import SyncError
from core.http import RetryPolicy
from core.models import AtlassianAccount, EmployeeRecord
from core.plan import Plan
from core.planner import SyncPolicy, build_plan
from core.schema import SchemaReport, ensure_schema, load_employee_type
from core.settings import Settings
from core.store import ConnectionView, RunKind, RunStatus, RunView, Store
from core.validation import validate_entra_input
from core.wiring import Clients

Say = Callable[[str], None]
ApplyProgress = Callable[[int, int], None]


class StalePlan(SyncError):
    """The plan changed since it was previewed; nothing was applied."""


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
        meter = _RunMeter(self.clients)
        run_id = self.store.start_run(RunKind.PREVIEW, actor)
        try:
            snapshot = self.read_snapshot(say)
            plan = self.plan(snapshot)
            preview_id = self.store.save_preview(run_id, plan, actor)
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
        meter = _RunMeter(self.clients)
        run_id = self.store.start_run(kind, actor)
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


def _status_of(result: ApplyResult) -> RunStatus:
    if result.failed == 0:
        return RunStatus.SUCCEEDED
    return RunStatus.PARTIAL if result.succeeded else RunStatus.FAILED


def _key_order(object_key: str) -> tuple[str, int]:
    prefix, _, number = object_key.rpartition("-")
    return (prefix, int(number)) if number.isdigit() else (object_key, 0)
