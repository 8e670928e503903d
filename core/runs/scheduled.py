"""The daily scheduled check: sync when due, hold what looks dangerous, alert once.

The bot (or cron, through ``entra-sync check``) calls :meth:`ScheduledSync.run_check`
once a day at the check time. Everything is decided here and returned as a
:class:`ScheduledOutcome`; the shells only render it:

* not configured, or not due (:mod:`core.runs.cadence`): nothing runs, no run row.
  On a day that is not due, one delta round keeps the directory copy and its link
  fresh (:meth:`SyncService.refresh_directory`), so a weekly cadence never finds its
  link older than Graph keeps it and never pays for a full read;
* another run holds the lease: BUSY, with the holder sentence;
* otherwise one SCHEDULED run through :meth:`SyncService.sync`, the same code path
  and the same guard rails as a manual sync. A held plan becomes a pending preview
  from "scheduler" that approvers decide on like any other;
* a failure stores its cause on the run; the run that completes a streak of
  systemic failures carries the one :class:`QuarantineAlert` (:mod:`core.runs.quarantine`).

Only successful scheduled runs move the cadence: a failed or held check is retried
at the next daily check.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from core.runs.cadence import days_ago, due_date, is_due, next_check, previous_check
from core.runs.causes import FailureCause, cause_fix, failure_cause
from core.runs.directory import DirectoryRefresh
from core.runs.quarantine import SCHEDULER, Streak, claim_alert, quarantined
from core.runs.service import SyncService
from core.runs.values import RunInProgress, SyncResult
from core.store import PreviewView, RunKind, RunStatus, RunView
from core.sync import Plan

log = logging.getLogger(__name__)

__all__ = [
    "SCHEDULER",
    "FailureCause",
    "QuarantineAlert",
    "ScheduleStatus",
    "ScheduledKind",
    "ScheduledOutcome",
    "ScheduledSync",
    "cause_fix",
    "failure_cause",
]


class ScheduledKind(StrEnum):
    NOT_DUE = "not_due"
    NOT_CONFIGURED = "not_configured"
    BUSY = "busy"
    NO_CHANGES = "no_changes"
    APPLIED = "applied"
    PARTIAL = "partial"
    HELD = "held"
    FAILED = "failed"


@dataclass(frozen=True)
class QuarantineAlert:
    cause: FailureCause
    failures: int  # consecutive scheduled failures of this cause
    since: datetime  # start of the first of them
    last_error: str
    fix: str


@dataclass(frozen=True)
class ScheduledOutcome:
    kind: ScheduledKind
    run_id: int | None = None
    plan: Plan | None = None
    result: SyncResult | None = None  # NO_CHANGES / APPLIED / PARTIAL
    preview: PreviewView | None = None  # HELD: the stored pending preview awaiting approval
    hold_reasons: tuple[str, ...] = ()  # HELD
    error: str | None = None  # FAILED (and BUSY: the holder sentence)
    cause: FailureCause | None = None  # FAILED
    alert: QuarantineAlert | None = None  # FAILED: set only on the run that must alert
    requests: Mapping[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    refresh: DirectoryRefresh | None = None  # NOT_DUE: the directory copy's delta round


@dataclass(frozen=True)
class ScheduleStatus:
    next_check: datetime
    due: bool
    cadence_days: int | None
    last_success: datetime | None
    quarantined: FailureCause | None
    summary: str  # one line, for status pages and the CLI
    holds: tuple[str, ...] = ()  # why a due sync will be held for approval, not applied


class ScheduledSync:
    """Runs the daily check for ``service``; ``clock`` defaults to the store's."""

    def __init__(
        self, service: SyncService, *, clock: Callable[[], datetime] | None = None
    ) -> None:
        self._service = service
        self._store = service.store
        self._settings = service.settings
        self._clock = clock or service.store.now

    def status(self) -> ScheduleStatus:
        """When the next check is, whether it will sync, and any quarantine."""
        now = self._clock()
        tz = self._settings.timezone
        upcoming = next_check(now, self._settings.check_time, tz)
        connection = self._store.connection()
        cadence = connection.cadence_days if connection is not None else None
        last = self._last_success()
        due = cadence is not None and is_due(upcoming, last, cadence, tz)
        streak = quarantined(self._store, self._settings.quarantine_after)
        holds = self._service.guard_rails.unattended_reasons() if due else ()
        line = f"Next check {upcoming:%Y-%m-%d %H:%M} {tz.key}: "
        if cadence is None:
            line += "nothing to sync until the Entra connection is configured."
        elif due and last is None:
            line += "will sync (no scheduled sync has succeeded yet)."
        elif due and last is not None:
            line += f"will sync (last scheduled sync {_ago(days_ago(now, last, tz))})."
        else:
            line += f"no sync due until {due_date(last, cadence, tz)}."
        if holds:
            line += " Any changes it finds will wait for approval: " + " ".join(holds)
        if streak is not None:
            line += (
                f" Quarantined: {streak.failures} scheduled syncs in a row failed "
                f"({streak.cause.value})."
            )
        cause = streak.cause if streak else None
        return ScheduleStatus(upcoming, due, cadence, last, cause, line, holds)

    def run_check(self, *, once_per_check: bool = False) -> ScheduledOutcome:
        """One daily check: maybe a scheduled run; never raises for a failed run.

        ``once_per_check`` (the bot's scheduler): the first process to claim this
        check's time runs it, any other replica is BUSY for it, even after that run
        ended held or failed. ``entra-sync check`` leaves it off, so a person can
        retry by hand.
        """
        connection = self._store.connection()
        if connection is None or not self._atlassian_configured():
            return ScheduledOutcome(ScheduledKind.NOT_CONFIGURED)
        tz = self._settings.timezone
        now = self._clock()
        if not is_due(now, self._last_success(), connection.cadence_days, tz):
            return ScheduledOutcome(ScheduledKind.NOT_DUE, refresh=self._refresh())
        if once_per_check:
            slot = previous_check(now, self._settings.check_time, tz)
            claimed_by = self._store.claim_check(slot, process_name())
            if claimed_by is not None:
                error = f"the check of {slot:%Y-%m-%d %H:%M} {tz.key} was taken by {claimed_by}"
                return ScheduledOutcome(ScheduledKind.BUSY, error=error)
        started: list[int] = []
        try:
            result = self._service.sync(SCHEDULER, kind=RunKind.SCHEDULED, started=started.append)
        except RunInProgress as exc:
            return ScheduledOutcome(ScheduledKind.BUSY, error=str(exc))
        except Exception as exc:  # a scheduler reports every failure, it never crashes on one
            return self._failed(started[0] if started else None, exc)
        return self._outcome(result)

    # -- steps ----------------------------------------------------------------------------

    def _refresh(self) -> DirectoryRefresh | None:
        """Keep the directory copy fresh; a failure is logged and retried the next day."""
        try:
            refresh = self._service.refresh_directory()
        except Exception:  # the check itself must not fail on a cache refresh
            log.warning("The daily refresh of the directory copy failed", exc_info=True)
            return None
        if refresh is not None:
            log.info(
                "Directory copy refreshed: %d changed, %d removed%s",
                refresh.changed,
                refresh.removed,
                " (read afresh)" if refresh.fresh else "",
            )
        return refresh

    def _last_success(self) -> datetime | None:
        """When the newest successful scheduled run started: the cadence counts from it."""
        run = self._store.last_run(RunKind.SCHEDULED, RunStatus.SUCCEEDED)
        return run.started_at if run is not None else None

    def _atlassian_configured(self) -> bool:
        settings = self._settings
        return bool(
            settings.atlassian_site and settings.atlassian_email and settings.atlassian_api_token
        )

    def _outcome(self, result: SyncResult) -> ScheduledOutcome:
        base = ScheduledOutcome(
            ScheduledKind.APPLIED,
            run_id=result.run_id,
            plan=result.plan,
            result=result,
            requests=dict(result.requests),
            seconds=result.seconds,
        )
        if result.held:
            preview = self._store.preview(result.preview_id) if result.preview_id else None
            return replace(
                base,
                kind=ScheduledKind.HELD,
                result=None,
                preview=preview,
                hold_reasons=result.hold_reasons,
            )
        if result.status is RunStatus.FAILED:  # every write failed
            error = _writes_failed(result)
            return replace(base, kind=ScheduledKind.FAILED, error=error, cause=FailureCause.OTHER)
        if result.status is RunStatus.PARTIAL:
            return replace(base, kind=ScheduledKind.PARTIAL)
        if result.plan.is_empty:
            return replace(base, kind=ScheduledKind.NO_CHANGES)
        return base

    def _failed(self, run_id: int | None, exc: Exception) -> ScheduledOutcome:
        run = self._store.run(run_id) if run_id is not None else None
        streak = claim_alert(self._store, self._settings.quarantine_after)
        return ScheduledOutcome(
            ScheduledKind.FAILED,
            run_id=run_id,
            error=str(exc) or type(exc).__name__,
            cause=failure_cause(exc),
            alert=_alert(streak) if streak is not None else None,
            requests=dict(run.requests) if run is not None else {},
            seconds=_seconds(run),
        )


def process_name() -> str:
    """This process as other replicas see it in a claim: host and process id."""
    return f"{socket.gethostname()} pid {os.getpid()}"


def _alert(streak: Streak) -> QuarantineAlert:
    return QuarantineAlert(
        cause=streak.cause,
        failures=streak.failures,
        since=streak.since,
        last_error=streak.last_error,
        fix=cause_fix(streak.cause),
    )


def _writes_failed(result: SyncResult) -> str:
    outcomes = result.applied.outcomes if result.applied is not None else ()
    failed = [o for o in outcomes if o.detail]
    first = f" First error: {failed[0].detail}" if failed else ""
    return f"Every write failed (run #{result.run_id}).{first}"


def _seconds(run: RunView | None) -> float:
    if run is None or run.finished_at is None:
        return 0.0
    return round((run.finished_at - run.started_at).total_seconds(), 3)


def _ago(days: int) -> str:
    if days <= 0:
        return "today"
    return "1 day ago" if days == 1 else f"{days} days ago"
