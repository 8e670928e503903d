"""Quarantine: one alert when scheduled syncs keep failing for the same outside reason.

An expired client secret fails every nightly check the same way. Posting that every
night teaches people to ignore the channel, so after ``quarantine_after`` scheduled
failures in a row with one systemic cause we alert once, and stay quiet for the rest
of that streak. The streak is read back from the scheduled runs themselves (each
failed run stores its cause); the alert is remembered as an audit event, so a
restart neither forgets it nor repeats it. Any scheduled run that did not fail (a
success, a partial apply, a held plan) ends the streak; a later streak alerts anew.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.runs.causes import SYSTEMIC_CAUSES, FailureCause
from core.store import RunKind, RunStatus, RunView, Store

AUDIT_ACTION = "quarantine"
SCHEDULER = "scheduler"


@dataclass(frozen=True)
class Streak:
    """Consecutive scheduled failures with one systemic cause, newest run first."""

    cause: FailureCause
    runs: tuple[RunView, ...]

    @property
    def failures(self) -> int:
        return len(self.runs)

    @property
    def since(self) -> datetime:
        return self.runs[-1].started_at

    @property
    def last_error(self) -> str:
        return self.runs[0].error or ""


def failure_streak(store: Store, limit: int) -> Streak | None:
    """The current streak (reading at most ``limit`` runs), or None when the newest
    finished scheduled run did not fail for a systemic cause."""
    runs = [
        run
        for run in store.runs(kind=RunKind.SCHEDULED, limit=limit + 1)
        if run.status is not RunStatus.RUNNING
    ]
    if not runs or runs[0].status is not RunStatus.FAILED:
        return None
    cause = _cause(runs[0])
    if cause not in SYSTEMIC_CAUSES:
        return None
    streak: list[RunView] = []
    for run in runs[:limit]:
        if run.status is not RunStatus.FAILED or _cause(run) is not cause:
            break
        streak.append(run)
    return Streak(cause, tuple(streak))


def quarantined(store: Store, after: int) -> Streak | None:
    """The streak when it is long enough to count as quarantined, else None."""
    streak = failure_streak(store, after)
    return streak if streak is not None and streak.failures >= after else None


def claim_alert(store: Store, after: int) -> Streak | None:
    """The streak to alert about now, recorded so it is alerted only once; else None."""
    streak = quarantined(store, after)
    if streak is None:
        return None
    sent = store.last_audit(AUDIT_ACTION)
    if sent is not None and sent.at >= streak.since:
        return None
    detail = f"{streak.failures} scheduled syncs failed in a row: {streak.last_error}"
    store.audit(SCHEDULER, AUDIT_ACTION, streak.cause.value, detail)
    return streak


def _cause(run: RunView) -> FailureCause | None:
    try:
        return FailureCause(run.cause) if run.cause else None
    except ValueError:
        return None
