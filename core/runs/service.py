"""The service layer: the one door every shell goes through.

The command line, the Slack listeners and the scheduler job call these methods and
render what they return; none of them touches the store or decides a sync rule.
Each run reads everything first (schema, Atlassian accounts, directory, Employees);
any read error ends the run before the first write. Every run, preview or sync,
manual or scheduled, bot or CLI, first takes the database lease of
:mod:`core.store.lease`, so only one runs at a time across every process, and every
run that would write asks :class:`core.runs.guard_rails.GuardRails` first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

import httpx

from core.clients import DELTA_SELECT, RetryPolicy, SchemaReport, ensure_schema
from core.config import (
    ENV_SECRET_KEY,
    Settings,
    TeamSettings,
    normalise_team_settings,
    validate_entra_input,
)
from core.errors import ConfigError, FieldProblem, InvalidInput
from core.runs.active import (
    ActiveRun,
    AssetsWriter,
    OutcomeRecorder,
    RunMeter,
    fail_dead_previews,
    interrupt_dead,
    status_of,
)
from core.runs.assets_ids import EmployeeIds, with_fresh_workspace
from core.runs.causes import failure_cause
from core.runs.directory import DirectoryReader, DirectoryRefresh
from core.runs.guard_rails import GuardRails, source_counts
from core.runs.hidden_emails import HiddenEmails, for_email_values, for_matching
from core.runs.values import (
    LeaseLost,
    PreviewResult,
    Review,
    RunInProgress,
    Snapshot,
    StalePlan,
    StatusReport,
    SyncResult,
)
from core.runs.wiring import Clients
from core.store import (
    ConnectionView,
    HeldLease,
    LeaseBusy,
    PreviewStatus,
    PreviewView,
    RunKind,
    RunLease,
    RunStatus,
    RunView,
    Store,
    load_cipher,
)
from core.sync import (
    ApplyResult,
    AtlassianAccount,
    Plan,
    SyncPolicy,
    apply_plan,
    build_plan,
    owned_keys,
)

Say = Callable[[str], None]
ApplyProgress = Callable[[int, int], None]

RULE_ROTATE_KEYS = (
    "must list the new key first and the current key after it (NEW,OLD) for rotate-key"
)
LOW_PRIORITY = "Low"  # x-ms-throttle-priority as Graph spells it, for unattended reads
LOST_LEASE = (
    "Stopped: the run lost its lease to another process, so it wrote no further changes "
    "({written} were written). Run a new preview."
)


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
        lease_ttl: timedelta | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.policy = policy or SyncPolicy()
        self.clients = Clients(settings, store, transport=transport, retry=retry)
        ttl = lease_ttl or timedelta(seconds=settings.lease_ttl_seconds)
        self.lease = RunLease(store, ttl=ttl)
        self.guard_rails = GuardRails(store, settings)

    @classmethod
    def open(
        cls, settings: Settings, *, transport: httpx.BaseTransport | None = None
    ) -> SyncService:
        """The service on the database and key the settings name: what every shell starts."""
        return cls(
            settings, Store(settings.database_url, load_cipher(settings)), transport=transport
        )

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
        *,
        reset_secret: bool = False,
    ) -> ConnectionView:
        """Validate and store the Entra connection; a blank secret keeps the stored one.

        ``reset_secret`` discards a stored secret whose key was lost (see
        :meth:`core.store.Store.save_connection`); the audit records it.
        """
        current = self.store.connection()
        entra = validate_entra_input(
            tenant_id,
            client_id,
            client_secret or None,
            cadence_days,
            secret_required=current is None or not current.has_secret or reset_secret,
        )
        self.store.save_connection(entra, actor, reset_secret=reset_secret)
        detail = f"tenant {entra.tenant_id}" + ("; secret reset" if reset_secret else "")
        self.store.audit(actor, "configure", "entra connection", detail)
        view = self.store.connection()
        assert view is not None
        return view

    def save_setup(
        self,
        *,
        tenant_id: str,
        client_id: str,
        client_secret: str | None,
        cadence_days: str | int,
        team: TeamSettings,
        actor: str,
    ) -> ConnectionView:
        """The setup form: validate the connection and the team settings, store both or neither.

        Raises :class:`InvalidInput` naming every bad field of both halves at once.
        """
        problems: list[FieldProblem] = []
        current = self.store.connection()
        try:
            validate_entra_input(
                tenant_id,
                client_id,
                client_secret or None,
                cadence_days,
                secret_required=current is None or not current.has_secret,
            )
        except InvalidInput as exc:
            problems.extend(exc.problems)
        try:
            normalise_team_settings(team)
        except InvalidInput as exc:
            problems.extend(exc.problems)
        if problems:
            raise InvalidInput(problems)
        view = self.configure(tenant_id, client_id, client_secret, cadence_days, actor)
        self.save_team_settings(team, actor)
        return view

    def connection(self) -> ConnectionView | None:
        """The stored Entra connection (never its secret), or None before setup."""
        return self.store.connection()

    def team_settings(self) -> TeamSettings:
        return self.store.team_settings()

    def is_approver(self, actor: str) -> bool:
        """Approvers decide previews and may sync at once; everyone else asks them."""
        return actor in self.store.team_settings().approvers

    def save_team_settings(self, settings: TeamSettings, actor: str) -> TeamSettings:
        """Validate and store who approves and where reports go; returns what was stored.

        Problems are keyed ``report_channel`` and ``approvers`` (the setup form's
        fields). Approvers are de-duplicated, order kept.
        """
        normalised = normalise_team_settings(settings)
        self.store.save_team_settings(normalised, actor)
        return normalised

    def rotate_key(self, actor: str) -> bool:
        """Re-encrypt the stored client secret with the first key of ``NEW,OLD``.

        Needs at least two keys in ``ENTRA_SYNC_SECRET_KEY``: the new one first, then
        the one the secret is encrypted with now. Returns False when no secret is stored.
        """
        keys = [k for k in (self.settings.secret_key or "").split(",") if k.strip()]
        if len(keys) < 2:
            raise ConfigError([FieldProblem(ENV_SECRET_KEY, RULE_ROTATE_KEYS)])
        return self.store.rotate_secret(actor)

    def create_schema(self, actor: str, say: Say = lambda _: None) -> SchemaReport:
        report = with_fresh_workspace(self.clients, lambda assets: ensure_schema(assets, say))
        self.store.audit(actor, "schema", "ENTRA", ", ".join(report.created_attributes))
        return report

    # -- runs ----------------------------------------------------------------------

    def read_snapshot(self, say: Say = lambda _: None, *, priority: str | None = None) -> Snapshot:
        """Read everything a plan needs. Raises on any read error; writes nothing."""
        kept_ids = EmployeeIds(self.clients, say)
        say("Reading the Assets schema")
        employee_type = kept_ids.employee_type()
        say("Reading Atlassian accounts")
        atlassian = self.clients.atlassian()
        accounts: tuple[AtlassianAccount, ...] = tuple(atlassian.search_accounts())
        say("Reading Employee objects")
        employee_type, read = kept_ids.employees(employee_type)
        employees = tuple(read)
        hidden = HiddenEmails(atlassian, self.store, say)
        accounts = hidden.fill(accounts, for_matching(accounts, employees))
        ids = {e.entra_user_id for e in employees if e.entra_user_id}
        # A linked account is matched by its Entra User ID; only newcomers need email.
        linked = {e.atlassian_account_id for e in employees if e.entra_user_id}
        emails = {
            a.email.lower() for a in accounts if a.active and a.email and a.account_id not in linked
        }
        directory = self.directory_reader(say, priority=priority).read(sorted(emails), sorted(ids))
        wanted = for_email_values(accounts, employees, directory.users)
        accounts = hidden.fill(accounts, wanted)
        return Snapshot(employee_type, accounts, directory, employees)

    def directory_reader(
        self, say: Say = lambda _: None, *, priority: str | None = None
    ) -> DirectoryReader:
        """The directory reader over the connected tenant's copy (core/runs/directory.py)."""
        graph = self.clients.directory(priority=priority)  # raises when no connection is set
        connection = self.store.connection()
        assert connection is not None
        # A copy read with another $select lacks a field: the next run reads afresh.
        owner = f"{connection.tenant_id} {self.settings.graph_url} {DELTA_SELECT}"
        return DirectoryReader(graph, self.store, owner, self.settings.guard, say)

    def refresh_directory(self) -> DirectoryRefresh | None:
        """One delta round onto the directory copy, so its link never ages past Graph's keep.

        The daily check calls it on days without a sync. None when there is no copy
        (no run has read the directory by delta yet). Takes no run lease: the copy is
        saved compare-and-set, so a run reading at the same time loses nothing.
        """
        return self.directory_reader(priority=LOW_PRIORITY).refresh()

    def plan(self, snapshot: Snapshot) -> Plan:
        return build_plan(
            snapshot.accounts, snapshot.directory.users, snapshot.employees, self.policy
        )

    def preview(self, actor: str, say: Say = lambda _: None, *, keep: bool = True) -> PreviewResult:
        """Plan without writing; kept, the plan is stored so it can be approved later.

        Not kept (the terminal's look before "apply?"), it supersedes no pending preview.
        """
        with self._claimed(RunKind.PREVIEW, actor) as run:
            snapshot = self.read_snapshot(say)
            plan = self.plan(snapshot)
            ttl = timedelta(hours=self.settings.preview_ttl_hours)
            preview_id = self.store.save_preview(run.id, plan, actor, ttl=ttl) if keep else None
            counts = {**plan.counts(), **source_counts(snapshot, plan).as_counts()}
            requests = run.finish(RunStatus.SUCCEEDED, counts=counts, fingerprint=plan.fingerprint)
        return PreviewResult(
            run.id, preview_id, plan, requests, run.meter.seconds(), snapshot.directory.strategy
        )

    def sync(
        self,
        actor: str,
        *,
        kind: RunKind = RunKind.MANUAL,
        review: Review | None = None,
        expected_fingerprint: str | None = None,
        allow_mass_change: bool = False,
        started: Callable[[int], None] = lambda run_id: None,
        say: Say = lambda _: None,
        progress: ApplyProgress = lambda done, total: None,
    ) -> SyncResult:
        """Read, plan, check the guard rails and apply.

        ``review`` pins the run to an approved preview: only that exact plan applies,
        and the guard rails stand aside when someone other than its requester approved
        it. ``expected_fingerprint`` pins it to a plan a person was shown (the
        terminal's "apply these changes?"). Otherwise a plan the guard rails hold is
        stored as a pending preview and the run ends ``held``, unless
        ``allow_mass_change`` (an operator at the terminal) overrides them, which the
        audit records. ``started`` learns the run
        id before anything is read.
        """
        with self._claimed(kind, actor) as run:
            started(run.id)
            priority = LOW_PRIORITY if kind is RunKind.SCHEDULED else None
            snapshot = self.read_snapshot(say, priority=priority)
            plan = review.restrict(self.plan(snapshot)) if review else self.plan(snapshot)
            counts = {**plan.counts(), **source_counts(snapshot, plan).as_counts()}
            expected = review.fingerprint if review is not None else expected_fingerprint
            if expected is not None and plan.fingerprint != expected:
                raise StalePlan(
                    "The directory or Assets changed since the preview; nothing was applied. "
                    "Generate a fresh preview."
                )
            reasons = self._hold_reasons(snapshot, plan, actor, kind, review)
            if reasons and not allow_mass_change:
                return self._hold(run, plan, counts, reasons=reasons, actor=actor, review=review)
            if reasons:
                self.store.audit(actor, "override", f"run #{run.id}", " ".join(reasons))
            result = self._apply(run, snapshot, plan, say, progress)
            counts = {**counts, "applied": result.succeeded, "failed": result.failed}
            if run.stopped():
                error = LOST_LEASE.format(written=result.succeeded)
                run.finish(RunStatus.INTERRUPTED, counts=counts, error=error)
                raise LeaseLost(error)
            return self._ended(run, plan, status_of(result), counts, result, overridden=reasons)

    def _hold_reasons(
        self, snapshot: Snapshot, plan: Plan, actor: str, kind: RunKind, review: Review | None
    ) -> tuple[str, ...]:
        """The guard rails' reasons, unless a second person approved this very plan."""
        if review is not None and review.requested_by != actor:
            return ()
        return self.guard_rails.reasons(snapshot, plan, kind)

    def busy(self) -> RunInProgress | None:
        """Who holds the run lease right now, as the refusal a second caller would get."""
        lease = self.lease.current()
        return RunInProgress.leased(lease) if lease is not None else None

    def current_run(self) -> RunView | None:
        """The run holding the lease, if any."""
        lease = self.lease.current()
        if lease is None or lease.run_id is None:
            return None
        return self.store.run(lease.run_id)

    @contextmanager
    def _claimed(self, kind: RunKind, actor: str) -> Iterator[ActiveRun]:
        """Hold the lease for one run row; an error ends the run failed, with its cause."""
        held = self._acquire(kind, actor)
        with held:
            run = ActiveRun(
                self.store.start_run(kind, actor),
                kind,
                actor,
                held,
                RunMeter(self.clients),
                self.store,
            )
            held.attach_run(run.id)
            try:
                yield run
            except BaseException as exc:
                if not run.finished:
                    _finish_failed(run, exc)
                raise

    def _acquire(self, kind: RunKind, actor: str) -> HeldLease:
        """The lease, or :class:`RunInProgress` (built from the holder) before any read."""
        try:
            held = self.lease.acquire(actor, kind)
        except LeaseBusy as busy:
            raise RunInProgress.leased(busy.info) from None
        try:
            # We hold the lease and have no run yet: any run still marked running
            # belongs to a process that died without finishing it, and so does any
            # preview still being applied (or approved over a ttl ago, never started).
            interrupt_dead(self.store, self.store.running())
            fail_dead_previews(self.store, self.store.now() - self.lease.ttl, actor)
        except BaseException:
            held.release()
            raise
        return held

    def _hold(
        self,
        run: ActiveRun,
        plan: Plan,
        counts: dict[str, int],
        *,
        reasons: tuple[str, ...],
        actor: str,
        review: Review | None = None,
    ) -> SyncResult:
        """Keep the plan for a person: a pending preview, and the run ends ``held``.

        A reviewed plan is already a stored preview; it waits as that one.
        """
        if review is not None:
            preview_id = review.preview_id
        else:
            ttl = timedelta(hours=self.settings.preview_ttl_hours)
            preview_id = self.store.save_preview(run.id, plan, actor, ttl=ttl, hold_reasons=reasons)
        requests = run.finish(
            RunStatus.HELD, counts=counts, fingerprint=plan.fingerprint, error=" ".join(reasons)
        )
        return SyncResult(
            run.id, plan, RunStatus.HELD, None, requests, run.meter.seconds(), reasons, preview_id
        )

    def _ended(
        self,
        run: ActiveRun,
        plan: Plan,
        status: RunStatus,
        counts: dict[str, int],
        result: ApplyResult | None = None,
        *,
        overridden: tuple[str, ...] = (),
    ) -> SyncResult:
        requests = run.finish(status, counts=counts, fingerprint=plan.fingerprint)
        seconds = run.meter.seconds()
        return SyncResult(run.id, plan, status, result, requests, seconds, overridden=overridden)

    def _apply(
        self, run: ActiveRun, snapshot: Snapshot, plan: Plan, say: Say, progress: ApplyProgress
    ) -> ApplyResult:
        if plan.is_empty:
            return ApplyResult(())
        say(f"Applying {plan.write_count} changes")
        writer = AssetsWriter(self.clients.assets(), snapshot.employee_type)
        with OutcomeRecorder(self.store, run.id, plan=plan) as record:  # stored as they happen
            return apply_plan(
                plan,
                writer,
                owned_keys(snapshot.employees),
                concurrency=self.settings.write_concurrency,
                progress=progress,
                record=record,
                stop=run.stopped,
            )

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

    # -- the Slack messages that show previews ---------------------------------------

    def preview_posted(self, preview_id: int, channel: str, ts: str) -> None:
        """The message now showing a preview, so later changes can be shown on it."""
        self.store.set_preview_message(preview_id, channel, ts)

    def preview_shown(self, preview_id: int, status: PreviewStatus) -> None:
        """The preview's message now shows ``status``."""
        self.store.mark_message_shown(preview_id, status)

    def previews_to_refresh(self) -> list[PreviewView]:
        """Closed previews (expired, superseded, failed, ...) whose message looks live.

        Expires the pending previews past their TTL first, so they are among them.
        """
        self.store.expire_due_previews()
        return self.store.previews_to_refresh()

    def held_previews_to_post(self) -> list[PreviewView]:
        """Plans the guard rails held where no Slack client was at hand (CLI, cron)."""
        return self.store.held_previews_to_post()

    # -- Slack deliveries ------------------------------------------------------------

    def first_delivery(self, key: str) -> bool:
        """True the first time a Slack request key (its ``trigger_id``) is seen.

        False for a retry or replay of a request already handled in the last quarter
        hour, across every process on this database (``core/store/deliveries.py``).
        """
        return self.store.first_delivery(key)


def _finish_failed(run: ActiveRun, exc: BaseException) -> None:
    """``interrupted`` for Ctrl-C and the like; otherwise ``failed`` with the cause class."""
    if not isinstance(exc, Exception):
        run.finish(RunStatus.INTERRUPTED, error="interrupted")
        return
    cause = failure_cause(exc).value
    run.finish(RunStatus.FAILED, error=str(exc) or type(exc).__name__, cause=cause)
