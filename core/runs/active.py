"""Small pieces every run uses: its meter, its Assets writer and its bookkeeping.

Kept out of :mod:`core.runs.service` so the service reads as the story of a run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.clients import AssetsClient, EmployeeType
from core.runs.wiring import Clients
from core.store import HeldLease, PreviewStatus, RunStatus, RunView, Store
from core.sync import ApplyResult, AttributeValues


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
    lease: HeldLease
    meter: RunMeter
    store: Store
    finished: bool = False

    def finish(self, status: RunStatus, **details: Any) -> dict[str, int]:
        """Store the outcome once (requests included); returns the requests recorded."""
        requests = self.meter.requests()
        self.store.finish_run(self.id, status, requests=requests, **details)
        self.finished = True
        return requests

    def stopped(self) -> bool:
        """True once the lease is lost or past the expiry we last stored: stop writing."""
        return self.lease.expired()


class AssetsWriter:
    """The applier's two writes, bound to the Employee type of this run."""

    def __init__(self, assets: AssetsClient, employee_type: EmployeeType) -> None:
        self._assets = assets
        self._type = employee_type

    def create(self, values: AttributeValues) -> tuple[str, str]:
        return self._assets.create_employee(self._type, values)

    def update(self, object_id: str, values: AttributeValues) -> None:
        self._assets.update_employee(self._type, object_id, values)


def interrupt_dead(store: Store, runs: list[RunView]) -> None:
    """Close the rows of runs whose process died, so status stops showing them running."""
    for run in runs:
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
