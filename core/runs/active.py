"""Small pieces every run uses: its meter, its Assets writer and its bookkeeping.

Kept out of :mod:`core.runs.service` so the service reads as the story of a run.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import TracebackType
from typing import Any

from core.clients import AssetsClient, EmployeeType
from core.runs.wiring import Clients
from core.store import HeldLease, PreviewStatus, RunKind, RunStatus, RunView, Store
from core.sync import (
    ApplyResult,
    AttributeValues,
    ChangeOutcome,
    Plan,
    outcome_changes,
    plan_changes,
)

log = logging.getLogger(__name__)


@dataclass
class RunMeter:
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


@dataclass
class ActiveRun:
    """One run between its start and its finish, holding the lease that lets it write."""

    id: int
    kind: RunKind
    actor: str
    lease: HeldLease
    meter: RunMeter
    store: Store
    finished: bool = False

    def __post_init__(self) -> None:
        log.info(
            "run #%d %s by %s started",
            self.id,
            self.kind.value,
            self.actor,
            extra={"run_id": self.id, "run_kind": self.kind.value, "actor": self.actor},
        )

    def finish(self, status: RunStatus, **details: Any) -> dict[str, int]:
        """Store the outcome once (requests included), log it; returns the requests recorded."""
        requests = self.meter.requests()
        self.store.finish_run(self.id, status, requests=requests, **details)
        self.finished = True
        log_finished(self, status, requests, details)
        return requests

    def stopped(self) -> bool:
        """True once the lease is lost or past the expiry we last stored: stop writing."""
        return self.lease.expired()


def log_finished(
    run: ActiveRun, status: RunStatus, requests: dict[str, int], details: dict[str, Any]
) -> None:
    """One line a run: who ran what, how it ended, what it counted and how long it took.

    The counts and the error are what the run stored (the error names a field, a
    service or a rule, never a secret); no plan rows, no request bodies.
    """
    counts = {name: value for name, value in (details.get("counts") or {}).items() if value}
    error = details.get("error")
    seconds = run.meter.seconds()
    counted = ", ".join(f"{name} {value}" for name, value in counts.items()) or "nothing counted"
    sent = ", ".join(f"{service} {n}" for service, n in sorted(requests.items())) or "none"
    level = logging.INFO if status in QUIET_ENDINGS else logging.WARNING
    log.log(
        level,
        "run #%d %s by %s %s in %.2f s: %s; requests: %s%s",
        run.id,
        run.kind.value,
        run.actor,
        status.value,
        seconds,
        counted,
        sent,
        f"; error: {error}" if error else "",
        extra={
            "run_id": run.id,
            "run_kind": run.kind.value,
            "actor": run.actor,
            "status": status.value,
            "seconds": seconds,
            "counts": counts,
            "requests": requests,
            "error": error,
            "cause": details.get("cause"),
        },
    )


QUIET_ENDINGS = frozenset({RunStatus.SUCCEEDED, RunStatus.HELD, RunStatus.CANCELLED})


class AssetsWriter:
    """The applier's two writes, bound to the Employee type of this run."""

    def __init__(self, assets: AssetsClient, employee_type: EmployeeType) -> None:
        self._assets = assets
        self._type = employee_type

    def create(self, values: AttributeValues) -> tuple[str, str]:
        return self._assets.create_employee(self._type, values)

    def update(self, object_id: str, values: AttributeValues) -> None:
        self._assets.update_employee(self._type, object_id, values)


# About half a second of writes at Assets' 1,000 requests a minute.
OUTCOME_BATCH = 10
OUTCOME_MAX_DELAY = 1.0


class OutcomeRecorder:
    """Stores the outcomes of one run while the apply is still writing; thread-safe.

    The applier hands each outcome over as its change finishes, from its worker
    threads. Writing each one to the database at once would be a round trip per
    write; waiting for the end would lose the history of a run killed half-way. So a
    few wait in memory and are stored together: when :data:`OUTCOME_BATCH` are
    waiting, or when one arrives and the oldest has waited :data:`OUTCOME_MAX_DELAY`
    seconds, and always when the apply ends, however it ends. A run stopped by an
    exception (lost lease, Ctrl-C) loses nothing; a process killed outright loses at
    most that last small batch, which the next run's read of Assets still sees.

    Use it as a context manager around the apply, and pass the instance as the
    applier's ``record`` callback. A failed store keeps the outcomes waiting for the
    next attempt; the last one, on leaving the block, raises unless the block is
    already raising (then it is logged, and the first error goes on).
    """

    def __init__(
        self,
        store: Store,
        run_id: int,
        *,
        batch: int = OUTCOME_BATCH,
        max_delay: float = OUTCOME_MAX_DELAY,
        clock: Callable[[], float] = time.monotonic,
        plan: Plan | None = None,
    ) -> None:
        self._store = store
        # each outcome's before/after, looked up by Entra User ID
        self._changes = plan_changes(plan) if plan is not None else {}
        self._run_id = run_id
        self._batch = max(1, batch)
        self._max_delay = max_delay
        self._clock = clock
        self._pending: list[ChangeOutcome] = []
        self._oldest = 0.0
        self._lock = threading.Lock()

    def __call__(self, outcome: ChangeOutcome) -> None:
        if self._changes and not outcome.changes:
            outcome = replace(outcome, changes=outcome_changes(self._changes, outcome))
        with self._lock:
            now = self._clock()
            if not self._pending:
                self._oldest = now
            self._pending.append(outcome)
            if len(self._pending) >= self._batch or now - self._oldest >= self._max_delay:
                self._flush()

    def flush(self) -> None:
        """Store every outcome still waiting."""
        with self._lock:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._store.record_outcomes(self._run_id, self._pending)
            self._pending = []

    def __enter__(self) -> OutcomeRecorder:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if kind is None:
            self.flush()
            return
        try:
            self.flush()
        except Exception:
            log.exception("could not store the outcomes of run #%d", self._run_id)


def interrupt_dead(store: Store, runs: list[RunView]) -> None:
    """Close the rows of runs whose process died, so status stops showing them running."""
    for run in runs:
        log.warning(
            "run #%d %s by %s was left running by a process that stopped; marked interrupted",
            run.id,
            run.kind.value,
            run.requested_by,
            extra={"run_id": run.id, "run_kind": run.kind.value, "actor": run.requested_by},
        )
        store.finish_run(
            run.id,
            RunStatus.INTERRUPTED,
            counts=run.counts,
            requests=run.requests,
            error="interrupted: the process running it stopped",
            fingerprint=run.fingerprint,
        )


DEAD_APPLY = (
    "failed: interrupted: the run applying it stopped before it finished (its process died "
    "or lost the run lease); some changes may have been written. Run a new preview to "
    "apply the rest."
)
DEAD_APPROVAL = (
    "failed: interrupted: it was approved but its run never started (the process handling "
    "the approval stopped); nothing was applied. Run a new preview to apply it."
)


def fail_dead_previews(store: Store, approved_before: datetime, actor: str) -> list[int]:
    """Fail previews left mid-approval by a dead process; audit each; return their ids.

    Call only while holding the run lease: an ``applying`` preview's run held the lease
    we now hold, so it is gone; an ``approved`` one decided at or before
    ``approved_before`` (a lease ttl ago) never got as far as taking the lease. Neither
    is put back to pending: a person must preview again and look at the plan afresh.
    """
    moved = store.fail_abandoned_previews(approved_before)
    for was, preview in moved:
        detail = DEAD_APPLY if was is PreviewStatus.APPLYING else DEAD_APPROVAL
        store.audit(actor, "interrupt", f"preview #{preview.id}", detail)
    return [preview.id for _, preview in moved]


def status_of(result: ApplyResult) -> RunStatus:
    if result.failed == 0:
        return RunStatus.SUCCEEDED
    return RunStatus.PARTIAL if result.succeeded else RunStatus.FAILED
