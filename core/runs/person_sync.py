"""Sync one person now: ``/entra sync <person>`` and ``entra-sync sync --person``.

The read is :func:`core.runs.person_read.read_person` (a handful of requests); the
plan is the planner's, cut down by :func:`core.sync.person_plan` to the person's own
write and the manager links pointing at them, with the usual fingerprint. Like every
run it holds the run lease, stores its outcomes (with before/after) and records its
request count.

Who may apply is the caller's question (``Approvals.may_sync_now``): an approver
applies at once; anyone else gets :meth:`PersonSync.preview`, a one-person preview an
approver decides like any other. Approving it re-reads everything and applies only if
that person's share of the whole plan still has the reviewed fingerprint.

The guard rails are not asked: they weigh mass changes and shrunken whole reads, and
one person, applied by an approver who asked for exactly them, is neither.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from core.runs.active import AssetsWriter, OutcomeRecorder, status_of
from core.runs.person_read import PersonSnapshot, read_person
from core.runs.service import SyncService
from core.runs.values import StalePlan
from core.store import RunKind, RunStatus
from core.sync import ApplyResult, Person, Plan, apply_plan, owned_keys, person_plan

Say = Callable[[str], None]


@dataclass(frozen=True)
class PersonSyncResult:
    """One person's run: their plan, what was applied (or the preview it waits as)."""

    run_id: int
    plan: Plan
    person: Person
    status: RunStatus
    applied: ApplyResult | None
    preview_id: int | None
    requests: dict[str, int]
    seconds: float


class PersonSync:
    """Preview or apply one person's share of the plan, over a :class:`SyncService`."""

    def __init__(self, service: SyncService) -> None:
        self._service = service

    def plan(self, read: PersonSnapshot) -> Plan:
        return person_plan(self._service.plan(read.snapshot), read.person)

    def preview(
        self, query: str, actor: str, say: Say = lambda _: None, *, keep: bool = True
    ) -> PersonSyncResult:
        """The person's plan, stored as a one-person preview (``keep``) for an approver."""
        service = self._service
        with service._claimed(RunKind.PREVIEW, actor) as run:
            read = read_person(service.clients, query, say)
            plan = self.plan(read)
            ttl = timedelta(hours=service.settings.preview_ttl_hours)
            preview_id = (
                service.store.save_preview(run.id, plan, actor, ttl=ttl, person=read.person)
                if keep
                else None
            )
            requests = run.finish(
                RunStatus.SUCCEEDED, counts=plan.counts(), fingerprint=plan.fingerprint
            )
        return PersonSyncResult(
            run.id, plan, read.person, RunStatus.SUCCEEDED, None, preview_id, requests,
            run.meter.seconds(),
        )  # fmt: skip

    def sync(
        self,
        query: str,
        actor: str,
        say: Say = lambda _: None,
        *,
        expected_fingerprint: str | None = None,
    ) -> PersonSyncResult:
        """Read, plan and apply this person's share now; ``expected_fingerprint`` pins it
        to the plan a person was shown (a changed one is refused, nothing written)."""
        service = self._service
        with service._claimed(RunKind.MANUAL, actor) as run:
            read = read_person(service.clients, query, say)
            plan = self.plan(read)
            if expected_fingerprint is not None and plan.fingerprint != expected_fingerprint:
                raise StalePlan(
                    "This person's directory entry or Employee changed since you looked; "
                    "nothing was applied. Run it again."
                )
            result = ApplyResult(())
            if not plan.is_empty:
                say(f"Applying {plan.write_count} changes")
                writer = AssetsWriter(service.clients.assets(), read.snapshot.employee_type)
                with OutcomeRecorder(service.store, run.id, plan=plan) as record:
                    result = apply_plan(
                        plan,
                        writer,
                        owned_keys(read.snapshot.employees),
                        concurrency=service.settings.write_concurrency,
                        record=record,
                        stop=run.stopped,
                    )
            status = status_of(result)
            counts = {**plan.counts(), "applied": result.succeeded, "failed": result.failed}
            requests = run.finish(status, counts=counts, fingerprint=plan.fingerprint)
        return PersonSyncResult(
            run.id, plan, read.person, status, result, None, requests, run.meter.seconds()
        )
