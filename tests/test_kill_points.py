"""A sync killed at 20 random points of its apply: the rerun converges, nothing twice.

The seeded sandbox after an approver's first sync gets a busy week (a dozen new job
titles, five leavers, ten hires, half of them reporting to other hires), twenty-seven
writes. A transport that dies after N of them (it raises a BaseException, as a signal
or a dying process stops the run: nothing in the engine catches it) stops the real
applier mid-apply, four writes in flight at a time. Then, for each N:

* Assets holds exactly the N writes that went through, and so does the killed run's
  stored history, each as an applied change;
* a clean rerun converges on the state the week reaches with no kill: no Employee
  lost or duplicated, no field wrong.
"""

from __future__ import annotations

import dataclasses
import functools
import random
import threading
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from core.sandbox import Sandbox
from core.store import RunStatus
from core.sync import Attr, ChangeKind, OutcomeStatus
from tests.reliability_faults import (
    APPROVER,
    Damage,
    Employees,
    close_bench,
    employees,
    judge,
    seeded,
    unsynced_sqlite,
    world,
)

KILL_POINTS = 20
SEED = 20261129  # fixes which points are drawn
CONCURRENCY = 4  # writes in flight at once, as a real run has them


class Killed(BaseException):
    """Stands in for the process dying: not an Exception, so nothing swallows it."""


def a_busy_week(sandbox: Sandbox) -> None:
    """Twelve new titles, three people disabled in Entra, two Atlassian accounts
    deactivated, and ten hires: five reporting to Employees, five to those hires."""
    rows = sorted(
        (e["attributes"] for e in sandbox.employees()),
        key=lambda values: str(values[Attr.ENTRA_USER_ID.value]),
    )
    active = [row for row in rows if row.get(Attr.ACTIVE.value) == "true"]
    people = [str(row[Attr.ENTRA_USER_ID.value]) for row in active]
    for number, user_id in enumerate(people[:12]):
        sandbox.set_job_title(user_id, f"Analyst grade {number + 2}")
    for user_id in people[12:15]:
        sandbox.disable_user(user_id)
    for row in active[15:17]:
        sandbox.deactivate_account(str(row[Attr.ATLASSIAN_ACCOUNT_ID.value]))
    managers = people[17:22]
    for number, manager_id in enumerate(managers):
        lead = sandbox.hire(f"Lead Hire{number}", "Engineering", "Team Lead", manager_id)
        sandbox.hire(f"New Hire{number}", "Engineering", "Engineer", lead)


class DiesAfter:
    """The sandbox, until ``writes`` creates and updates have gone through; then dead."""

    def __init__(self, sandbox: Sandbox, writes: int) -> None:
        self.sandbox = sandbox
        self.allowed = writes
        self.done: list[tuple[str, str]] = []  # (method, Entra User ID) of each write
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        write = (request.method == "POST" and path.endswith("/object/create")) or (
            request.method == "PUT" and "/object/" in path
        )
        if not write:
            return self.sandbox.handle(request)
        with self._lock:
            if len(self.done) >= self.allowed:
                raise Killed
            response = self.sandbox.handle(request)
            object_id = str(response.json()["id"])
            self.done.append((request.method, self._entra_id(object_id)))
            return response

    def _entra_id(self, object_id: str) -> str:
        (employee,) = [e for e in self.sandbox.employees() if str(e["id"]) == object_id]
        return str(employee["attributes"][Attr.ENTRA_USER_ID.value])


@pytest.fixture(scope="module", autouse=True)
def quick_commits() -> Iterator[None]:
    with unsynced_sqlite():
        yield
    close_bench()


@dataclasses.dataclass(frozen=True)
class Week:
    correct: Employees  # where the week ends with no kill
    writes: int  # creates and updates its sync sends
    counts: dict[str, int]  # its plan's creates, updates and inactivations


@functools.cache
def the_week_without_a_kill() -> Week:
    with world(seeded()) as twin:
        a_busy_week(twin.sandbox)
        counting = DiesAfter(twin.sandbox, writes=1_000)
        with twin.service(httpx.MockTransport(counting), concurrency=CONCURRENCY) as service:
            result = service.sync(APPROVER)
        assert result.status is RunStatus.SUCCEEDED
        counts = {k: result.plan.counts()[k] for k in ("creates", "updates", "inactivations")}
        return Week(employees(twin.sandbox), len(counting.done), counts)


@functools.cache
def kill_points() -> list[int]:
    """20 distinct numbers of writes to let through, drawn with a fixed seed."""
    return sorted(random.Random(SEED).sample(range(the_week_without_a_kill().writes), KILL_POINTS))


def test_the_week_is_busy_enough_for_twenty_distinct_points() -> None:
    week = the_week_without_a_kill()
    assert week.counts == {"creates": 10, "updates": 12, "inactivations": 5}
    assert week.writes == 27  # one each: every hire's create carries its manager
    assert len(set(kill_points())) == KILL_POINTS
    assert kill_points()[0] < week.writes // 4 and kill_points()[-1] > 3 * week.writes // 4


@pytest.mark.parametrize("point", range(KILL_POINTS))
def test_a_sync_killed_mid_apply_is_on_record_and_the_rerun_converges(point: int) -> None:
    written = kill_points()[point]
    correct = the_week_without_a_kill().correct
    with world(seeded()) as copy:
        sandbox = copy.sandbox
        a_busy_week(sandbox)
        before = employees(sandbox)
        dying = DiesAfter(sandbox, written)
        run_ids: list[int] = []
        with (
            copy.service(httpx.MockTransport(dying), concurrency=CONCURRENCY) as service,
            pytest.raises(Killed),
        ):
            service.sync(APPROVER, started=run_ids.append)

        (run_id,) = run_ids
        run = copy.store.run(run_id)
        assert run is not None and run.status is RunStatus.INTERRUPTED
        applied = [o for o in copy.store.outcomes(run_id) if o.status is OutcomeStatus.OK]
        assert len(dying.done) == written
        assert Counter(o.entra_user_id for o in applied) == Counter(e for _, e in dying.done)
        creates = [o for o in applied if o.kind is ChangeKind.CREATE]
        assert len(creates) == sum(1 for method, _ in dying.done if method == "POST")
        assert judge(before, employees(sandbox), correct) == Damage()

        with copy.service(concurrency=CONCURRENCY) as service:
            rerun = service.sync(APPROVER)
        assert rerun.status is RunStatus.SUCCEEDED, rerun.applied
        final = employees(sandbox)
        assert judge(before, final, correct) == Damage()
        assert final == correct
