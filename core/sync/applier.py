"""The only code that writes: applies a Plan to Assets, managers before their reports.

Creates go in waves (:mod:`core.sync.waves`): first every create whose manager is
already an Employee (or who has none), together with the inactivations and updates;
then, wave by wave, the creates whose manager was made in the wave before. Each wave
is written in parallel. A create carries its Manager reference whenever the manager's
object exists by the time it is sent, because the reference is that object's key;
so on a first sync almost every Employee is one write. A last pass sets the Manager
references that no create could carry (a cycle of managers; a manager whose create
failed, which is reported there) and the Manager changes of existing Employees. Each
write gets its own outcome and one failure does not stop the run. Objects are matched
by Entra User ID on the next run, so a run killed half-way converges on the rerun
without duplicates.

``stop`` is asked before every write: once it answers True (the run lost its lease to
another process) the remaining changes are skipped, never written by two runs at once.

``record`` is given each outcome as soon as its change is done, from the worker thread
that did it, so the caller can store a run's history while it is still writing: a run
killed half-way has its writes on record. It and ``progress`` must be thread-safe.
``progress`` learns the total at the start; when failures change what the last pass
has to do, its total changes with them.

Any error while writing one change (an API error, an unreadable response, a bug in a
parser) becomes that change's ``failed`` outcome, and an error in the caller's progress
or record callback is logged and ignored: either way every other change is still
written. Only a BaseException such as KeyboardInterrupt stops the apply; the change it
interrupted gets no outcome, the ones already done have theirs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from core.errors import ApiError
from core.sync.models import Attr, AttributeValues
from core.sync.plan import Create, FieldChange, Inactivation, Plan, Update
from core.sync.results import ChangeKind, ChangeOutcome, OutcomeStatus
from core.sync.waves import create_waves


class EmployeeWriter(Protocol):
    """The two writes the applier needs; the Assets client provides them."""

    def create(self, values: AttributeValues) -> tuple[str, str]:
        """Create an Employee and return its (object id, object key)."""
        ...

    def update(self, object_id: str, values: AttributeValues) -> None: ...


Progress = Callable[[int, int], None]
Record = Callable[[ChangeOutcome], None]
Stop = Callable[[], bool]
STOPPED = "not written: the run stopped before this change"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApplyResult:
    outcomes: tuple[ChangeOutcome, ...]

    @property
    def failed(self) -> int:
        return sum(1 for o in self.outcomes if o.status is OutcomeStatus.FAILED)

    @property
    def succeeded(self) -> int:
        return sum(1 for o in self.outcomes if o.status is OutcomeStatus.OK)


@dataclass(frozen=True)
class _ManagerLink:
    entra_user_id: str
    label: str
    target: tuple[str, str] | None  # (object id, key); None for a create, made by now
    manager_entra_id: str | None


@dataclass(frozen=True)
class _Written:
    """One change's outcome; a create's (object id, key), and whether it set Manager."""

    outcome: ChangeOutcome
    created: tuple[str, str] | None = None
    carried: bool = False


def apply_plan(
    plan: Plan,
    writer: EmployeeWriter,
    keys_by_entra_id: Mapping[str, tuple[str, str]],
    *,
    concurrency: int = 4,
    progress: Progress = lambda done, total: None,
    record: Record = lambda outcome: None,
    stop: Stop = lambda: False,
) -> ApplyResult:
    """Apply ``plan``. ``keys_by_entra_id`` maps owned Employees to (object id, key)."""
    known: dict[str, tuple[str, str]] = dict(keys_by_entra_id)
    waves = create_waves(plan.creates, known)
    existing = _existing_links(plan)
    unreachable = _uncarried_creates(waves, known)
    counter = _Counter(plan.write_count + len(existing) + unreachable, progress, record, stop)
    outcomes: list[ChangeOutcome] = []
    uncarried: set[str] = set()  # created without their Manager: the last pass sets it
    # Inactivations first: an interrupted run then never leaves extra access behind.
    rounds: list[Sequence[Create | Update | Inactivation]] = [
        [*plan.inactivations, *plan.updates, *(waves[0] if waves else [])],
        *waves[1:],
    ]
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        for changes in rounds:
            wave = list(pool.map(lambda c: _apply_change(c, writer, known, counter), changes))
            for written in wave:  # ``known`` changes between waves, never during one
                outcomes.append(written.outcome)
                if written.created is not None:
                    known[written.outcome.entra_user_id] = written.created
                    if not written.carried:
                        uncarried.add(written.outcome.entra_user_id)
        last = [link for link in _create_links(plan) if link.entra_user_id in uncarried]
        last += existing
        counter.remaining(len(last))
        outcomes += pool.map(lambda link: _link_manager(link, writer, known, counter), last)
    return ApplyResult(tuple(outcomes))


class _Counter:
    """Counts finished changes across worker threads; hands on outcomes and progress."""

    def __init__(self, total: int, progress: Progress, record: Record, stop: Stop) -> None:
        self._done = 0
        self._total = total
        self._progress = progress
        self._record = record
        self.stop = stop
        self._lock = threading.Lock()

    def remaining(self, count: int) -> None:
        """Between passes: ``count`` changes are left, whatever the first estimate was."""
        with self._lock:
            self._total = self._done + count

    def finished(self, outcome: ChangeOutcome) -> ChangeOutcome:
        """Record one finished change; a failing callback never stops the apply."""
        try:
            self._record(outcome)
        except Exception:
            log.warning("recording an outcome failed", exc_info=True)
        with self._lock:
            self._done += 1
            done, total = self._done, self._total
        try:
            self._progress(done, total)
        except Exception:
            log.warning("progress callback failed at %d/%d", done, total, exc_info=True)
        return outcome


def _uncarried_creates(waves: list[list[Create]], known: Mapping[str, object]) -> int:
    """How many creates cannot carry their manager even if every create succeeds."""
    made: set[str] = set(known)
    count = 0
    for wave in waves:
        for create in wave:
            manager = create.get(Attr.MANAGER)
            count += manager is not None and manager not in made
        made.update(c.entra_user_id for c in wave)
    return count


def _apply_change(
    change: Create | Update | Inactivation,
    writer: EmployeeWriter,
    known: Mapping[str, tuple[str, str]],
    counter: _Counter,
) -> _Written:
    try:
        written = _write_change(change, writer, known, counter.stop)
    except Exception as exc:  # one change's failure, whatever it is, is only that change's
        written = _Written(_failed(change, _error_detail(exc)))
    counter.finished(written.outcome)
    return written


def _write_change(
    change: Create | Update | Inactivation,
    writer: EmployeeWriter,
    known: Mapping[str, tuple[str, str]],
    stop: Stop,
) -> _Written:
    if stop():
        return _Written(_skipped(change))
    if isinstance(change, Create):
        return _create(change, writer, known)
    kind = ChangeKind.INACTIVATE if isinstance(change, Inactivation) else ChangeKind.UPDATE
    changed = _field_values(change.changes)
    if changed:
        writer.update(change.object_id, changed)
    return _Written(_ok(kind, change.entra_user_id, change.label, change.object_key))


def _create(
    change: Create, writer: EmployeeWriter, known: Mapping[str, tuple[str, str]]
) -> _Written:
    """Create with the manager's key when the manager exists; else the last pass sets it.

    A create refused with the reference (its manager deleted from Assets since it was
    read) fails as a whole and is reported; it is not sent again without it, which
    would make a create whose answer was lost more than twice. The next run creates it.
    """
    manager_id = change.get(Attr.MANAGER)
    manager = known.get(manager_id) if manager_id is not None else None
    values: dict[Attr, str | None] = {a: v for a, v in change.values if a is not Attr.MANAGER}
    if manager is not None:  # the key in Manager's own place: the order attributes are sent
        values = {a: manager[1] if a is Attr.MANAGER else v for a, v in change.values}
    made = writer.create(values)
    outcome = _ok(ChangeKind.CREATE, change.entra_user_id, change.label, made[1])
    return _Written(outcome, made, carried=manager is not None)


def _error_detail(exc: Exception) -> str:
    """The outcome detail: an API error's own sentence, anything else named by its type."""
    if isinstance(exc, ApiError):
        return str(exc)
    message = str(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _field_values(changes: Iterable[FieldChange]) -> dict[Attr, str | None]:
    return {c.attr: c.after for c in changes if c.attr is not Attr.MANAGER}


def _create_links(plan: Plan) -> list[_ManagerLink]:
    return [
        _ManagerLink(c.entra_user_id, c.label, None, c.get(Attr.MANAGER))
        for c in plan.creates
        if c.get(Attr.MANAGER) is not None
    ]


def _existing_links(plan: Plan) -> list[_ManagerLink]:
    """Manager changes of existing Employees: written after every create they may need."""
    links = []
    existing: list[Update | Inactivation] = [*plan.updates, *plan.inactivations]
    for change in existing:
        for field_change in change.changes:
            if field_change.attr is Attr.MANAGER:
                target = (change.object_id, change.object_key)
                links.append(
                    _ManagerLink(change.entra_user_id, change.label, target, field_change.after)
                )
    return links


def _link_manager(
    link: _ManagerLink,
    writer: EmployeeWriter,
    known: Mapping[str, tuple[str, str]],
    counter: _Counter,
) -> ChangeOutcome:
    try:
        outcome = _write_manager(link, writer, known, counter.stop)
    except Exception as exc:  # one change's failure, whatever it is, is only that change's
        outcome = _outcome(link, OutcomeStatus.FAILED, _error_detail(exc))
    return counter.finished(outcome)


def _write_manager(
    link: _ManagerLink, writer: EmployeeWriter, known: Mapping[str, tuple[str, str]], stop: Stop
) -> ChangeOutcome:
    if stop():
        return _outcome(link, OutcomeStatus.SKIPPED, STOPPED)
    object_id, key = link.target or known[link.entra_user_id]  # only creates that were made
    manager_key: str | None = None
    if link.manager_entra_id is not None:
        manager = known.get(link.manager_entra_id)
        if manager is None:
            return _outcome(link, OutcomeStatus.FAILED, "the manager's Employee does not exist")
        manager_key = manager[1]
    writer.update(object_id, {Attr.MANAGER: manager_key})
    return _outcome(link, OutcomeStatus.OK, "", key)


def _outcome(
    link: _ManagerLink, status: OutcomeStatus, detail: str, key: str | None = None
) -> ChangeOutcome:
    return ChangeOutcome(ChangeKind.MANAGER, link.entra_user_id, link.label, status, key, detail)


def _ok(kind: ChangeKind, entra_user_id: str, label: str, key: str) -> ChangeOutcome:
    return ChangeOutcome(kind, entra_user_id, label, OutcomeStatus.OK, key)


def _failed(change: Create | Update | Inactivation, detail: str) -> ChangeOutcome:
    return _not_written(change, OutcomeStatus.FAILED, detail)


def _skipped(change: Create | Update | Inactivation) -> ChangeOutcome:
    return _not_written(change, OutcomeStatus.SKIPPED, STOPPED)


def _not_written(
    change: Create | Update | Inactivation, status: OutcomeStatus, detail: str
) -> ChangeOutcome:
    if isinstance(change, Create):
        return ChangeOutcome(
            ChangeKind.CREATE, change.entra_user_id, change.label, status, None, detail
        )
    kind = ChangeKind.INACTIVATE if isinstance(change, Inactivation) else ChangeKind.UPDATE
    return ChangeOutcome(
        kind, change.entra_user_id, change.label, status, change.object_key, detail
    )
