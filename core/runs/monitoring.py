"""What monitoring reads without Slack: the status and history as JSON, and one health verdict.

``entra-sync status --json`` and ``history --json`` print these shapes, and
``status --check`` exits non-zero when :func:`health` finds a problem, so cron or a
monitoring agent can alert on a failing schedule without reading the report channel.
The shapes only add keys over time; a key is never renamed or dropped within a major
release.

A problem is either of:

* the newest *finished* scheduled run did not succeed (``failed``, ``partial`` or
  ``interrupted``); a held run is waiting for a person, which is not a failure, and a
  run still going is not judged until it ends;
* quarantine: scheduled runs keep failing for the same outside cause
  (:mod:`core.runs.quarantine`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.runs.scheduled import ScheduledSync, ScheduleStatus
from core.runs.service import SyncService
from core.runs.values import StatusReport
from core.store import ConnectionView, RunKind, RunStatus, RunView

FAILED_ENDINGS = (RunStatus.FAILED, RunStatus.PARTIAL, RunStatus.INTERRUPTED)
FINISHED = tuple(status for status in RunStatus if status is not RunStatus.RUNNING)


@dataclass(frozen=True)
class Monitoring:
    """Everything ``status`` shows, with the verdict of :func:`health`."""

    report: StatusReport
    schedule: ScheduleStatus
    last_finished_scheduled: RunView | None
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def monitoring(service: SyncService) -> Monitoring:
    """Read the status, the schedule and the newest finished scheduled run, and judge them."""
    report = service.status()
    schedule = ScheduledSync(service).status()
    finished = service.store.runs(kind=RunKind.SCHEDULED, statuses=FINISHED, limit=1)
    last = finished[0] if finished else None
    return Monitoring(report, schedule, last, health(last, schedule))


def health(last_scheduled: RunView | None, schedule: ScheduleStatus) -> tuple[str, ...]:
    """The problems a person should be told about; empty when all is well."""
    problems: list[str] = []
    if last_scheduled is not None and last_scheduled.status in FAILED_ENDINGS:
        cause = f" ({last_scheduled.cause})" if last_scheduled.cause else ""
        problems.append(
            f"the last scheduled sync, run #{last_scheduled.id}, {last_scheduled.status.value}"
            f"{cause}: {last_scheduled.error or 'no error recorded'}"
        )
    if schedule.quarantined is not None:
        problems.append(
            f"quarantined: scheduled syncs keep failing ({schedule.quarantined.value}); "
            "the report channel was alerted once"
        )
    return tuple(problems)


def status_json(state: Monitoring) -> dict[str, Any]:
    """``status --json``: the version, the verdict, the connection, the schedule, the runs."""
    report, schedule = state.report, state.schedule
    return {
        "version": report.version,
        "ok": state.ok,
        "problems": list(state.problems),
        "connection": _connection(report.connection),
        "schedule": {
            "next_check": _time(schedule.next_check),
            "due": schedule.due,
            "cadence_days": schedule.cadence_days,
            "last_success": _time(schedule.last_success),
            "quarantined": schedule.quarantined.value if schedule.quarantined else None,
            "holds": list(schedule.holds),
            "summary": schedule.summary,
        },
        "last_manual": run_json(report.last_manual),
        "last_scheduled": run_json(report.last_scheduled),
        "last_finished_scheduled": run_json(state.last_finished_scheduled),
        "running": [run_json(run) for run in report.running],
        "recent": [run_json(run) for run in report.recent],
    }


def history_json(runs: list[RunView]) -> dict[str, Any]:
    """``history --json``: runs newest first."""
    return {"runs": [run_json(run) for run in runs]}


def run_json(run: RunView | None) -> dict[str, Any] | None:
    if run is None:
        return None
    seconds = None
    if run.finished_at is not None:
        seconds = round((run.finished_at - run.started_at).total_seconds(), 3)
    return {
        "id": run.id,
        "kind": run.kind.value,
        "status": run.status.value,
        "requested_by": run.requested_by,
        "started_at": _time(run.started_at),
        "finished_at": _time(run.finished_at),
        "seconds": seconds,
        "counts": dict(run.counts or {}),
        "requests": dict(run.requests or {}),
        "error": run.error,
        "cause": run.cause,
        "fingerprint": run.fingerprint,
    }


def _connection(connection: ConnectionView | None) -> dict[str, Any] | None:
    """The stored connection without its secret: whether one is stored, nothing more."""
    if connection is None:
        return None
    return {
        "tenant_id": connection.tenant_id,
        "client_id": connection.client_id,
        "cadence_days": connection.cadence_days,
        "has_secret": connection.has_secret,
        "updated_at": _time(connection.updated_at),
        "updated_by": connection.updated_by,
    }


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
