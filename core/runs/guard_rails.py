"""Guard rails for every run that writes: the one place that decides whether a plan waits.

:func:`core.sync.guard.hold_reasons` is the pure rule; this module feeds it what the
store knows (the source sizes of the last completed sync) and what the run read. The
service asks it before every apply, whoever started the run: a manual sync from the
command line or from Slack, or a scheduled one. The only ways past a hold are an
approval of the reviewed plan by someone other than its requester, or an operator's
explicit override, which the run's audit records (:meth:`core.runs.SyncService.sync`).

Unattended (scheduled) runs have two more rules, because nobody is watching them:
the first sync of an installation is applied by a person, never by the scheduler;
and a scheduled run applies only where it can report, so without a report channel
it holds its plan as a preview instead.
"""

from __future__ import annotations

from core.config import Settings
from core.runs.values import Snapshot
from core.store import RunKind, RunStatus, Store
from core.sync import Plan, SourceCounts, hold_reasons, incomplete_read_reason

BASELINE_RUNS = 20
"""How far back to look for a completed sync that stored its source counts."""

FIRST_SYNC = (
    "No sync has been applied by a person yet: the first sync of an installation is "
    "applied by an approver, never by the scheduler alone."
)
NO_REPORT_CHANNEL = (
    "No report channel is set, so nobody would see what a scheduled sync wrote: it is "
    "held for approval until an admin sets one with /entra setup."
)


class GuardRails:
    """Why a plan must wait for a person, judged against the last completed sync."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self._store = store
        self._policy = settings.guard

    def reasons(self, snapshot: Snapshot, plan: Plan, kind: RunKind) -> tuple[str, ...]:
        """Empty when ``plan`` may apply without a second person's look."""
        current = source_counts(snapshot, plan)
        reasons = hold_reasons(plan, current, self.baseline(), self._policy)
        directory = snapshot.directory
        if directory.complete:
            cut = incomplete_read_reason(
                len(directory.users), directory.directory_size, self._policy
            )
            reasons = (*reasons, cut) if cut else reasons
        if kind is RunKind.SCHEDULED and not plan.is_empty:
            reasons = (*self.unattended_reasons(), *reasons)
        return reasons

    def unattended_reasons(self) -> tuple[str, ...]:
        """Why a scheduled run may not apply on its own right now, whatever it would write."""
        reasons = []
        if not self._store.runs(
            kind=RunKind.MANUAL, statuses=(RunStatus.SUCCEEDED, RunStatus.PARTIAL), limit=1
        ):
            reasons.append(FIRST_SYNC)
        if not self._store.team_settings().report_channel:
            reasons.append(NO_REPORT_CHANNEL)
        return tuple(reasons)

    def baseline(self) -> SourceCounts | None:
        """Source sizes of the newest completed sync (not a preview) that stored them.

        Previews are left out: anyone may start one, and a preview that read a
        truncated source must not become the yardstick that hides the next one.
        """
        runs = self._store.runs(
            statuses=(RunStatus.SUCCEEDED, RunStatus.PARTIAL), limit=BASELINE_RUNS
        )
        for run in (r for r in runs if r.kind is not RunKind.PREVIEW):
            counts = SourceCounts.from_counts(run.counts)
            if counts is not None:
                return counts
        return None


def source_counts(snapshot: Snapshot, plan: Plan) -> SourceCounts:
    """What the guard compares across runs: active accounts, and directory users.

    A full or delta read counts the users actually held, so a read cut short shows as
    a drop; a lookup read only asked for some users, so the tenant's size stands in.
    """
    directory = snapshot.directory
    read = len(directory.users) if directory.complete else directory.directory_size
    return SourceCounts(plan.stats.atlassian_accounts, read)
