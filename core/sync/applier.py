"""The only code that writes: applies a Plan to Assets in two passes.

Pass one creates Employees and writes field changes (without Manager); pass two sets
Manager references, whose value is the manager's object key, which a brand-new
manager only has after pass one. Each change gets its own outcome and one failure
does not stop the run. Objects are matched by Entra User ID on the next run, so a run
killed half-way converges on the rerun without duplicates.

``stop`` is asked before every write: once it answers True (the run lost its lease to
another process) the remaining changes are skipped, never written by two runs at once.

``record`` is given each outcome as soon as its change is done, from the worker thread
that did it, so the caller can store a run's history while it is still writing: a run
killed half-way has its writes on record. It and ``progress`` must be thread-safe.

Any error while writing one change (an API error, an unreadable response, a bug in a
parser) becomes that change's ``failed`` outcome, and an error in the caller's progress
or record callback is logged and ignored: either way every other change is still
written. Only a BaseException such as KeyboardInterrupt stops the apply; the change it
interrupted gets no outcome, the ones already done have theirs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from core.errors import ApiError
from core.sync.models import Attr, AttributeValues
from core.sync.plan import Create, FieldChange, Inactivation, Plan, Update
from core.sync.results import ChangeKind, ChangeOutcome, OutcomeStatus


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
    object_id: str | None  # None: the object is a create; look its id up after pass one
    manager_entra_id: str | None


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
    total = plan.write_count + len(_manager_links(plan))
    counter = _Counter(total, progress, record, stop)
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        first = list(pool.map(lambda c: _apply_first_pass(c, writer, counter), _changes(plan)))
        for outcome, created in first:
            if created is not None:
                known[outcome.entra_user_id] = created
        links = _manager_links(plan)
        second = list(pool.map(lambda link: _link_manager(link, writer, known, counter), links))
    return ApplyResult(tuple(o for o, _ in first) + tuple(second))


class _Counter:
    """Counts finished changes across worker threads; hands on outcomes and progress."""

    def __init__(self, total: int, progress: Progress, record: Record, stop: Stop) -> None:
        self._done = 0
        self._total = total
        self._progress = progress
        self._record = record
        self.stop = stop
        self._lock = threading.Lock()

    def finished(self, outcome: ChangeOutcome) -> ChangeOutcome:
        """Record one finished change; a failing callback never stops the apply."""
        try:
            self._record(outcome)
        except Exception:
            log.warning("recording an outcome failed", exc_info=True)
        with self._lock:
            self._done += 1
            done = self._done
        try:
            self._progress(done, self._total)
        except Exception:
            log.warning("progress callback failed at %d/%d", done, self._total, exc_info=True)
        return outcome


def _changes(plan: Plan) -> list[Create | Update | Inactivation]:
    # Inactivations first: an interrupted run then never leaves extra access behind.
    return [*plan.inactivations, *plan.updates, *plan.creates]


def _apply_first_pass(
    change: Create | Update | Inactivation, writer: EmployeeWriter, counter: _Counter
) -> tuple[ChangeOutcome, tuple[str, str] | None]:
    try:
        outcome, created = _write_first_pass(change, writer, counter.stop)
    except Exception as exc:  # one change's failure, whatever it is, is only that change's
        outcome, created = _failed(change, _error_detail(exc)), None
    return counter.finished(outcome), created


def _write_first_pass(
    change: Create | Update | Inactivation, writer: EmployeeWriter, stop: Stop
) -> tuple[ChangeOutcome, tuple[str, str] | None]:
    if stop():
        return _skipped(change), None
    if isinstance(change, Create):
        values: dict[Attr, str | None] = {a: v for a, v in change.values if a is not Attr.MANAGER}
        object_id, key = writer.create(values)
        outcome = _ok(ChangeKind.CREATE, change.entra_user_id, change.label, key)
        return outcome, (object_id, key)
    kind = ChangeKind.INACTIVATE if isinstance(change, Inactivation) else ChangeKind.UPDATE
    changed = _field_values(change.changes)
    if changed:
        writer.update(change.object_id, changed)
    return _ok(kind, change.entra_user_id, change.label, change.object_key), None


def _error_detail(exc: Exception) -> str:
    """The outcome detail: an API error's own sentence, anything else named by its type."""
    if isinstance(exc, ApiError):
        return str(exc)
    message = str(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _field_values(changes: Iterable[FieldChange]) -> dict[Attr, str | None]:
    return {c.attr: c.after for c in changes if c.attr is not Attr.MANAGER}


def _manager_links(plan: Plan) -> list[_ManagerLink]:
    links = [
        _ManagerLink(c.entra_user_id, c.label, None, c.get(Attr.MANAGER))
        for c in plan.creates
        if c.get(Attr.MANAGER) is not None
    ]
    existing: list[Update | Inactivation] = [*plan.updates, *plan.inactivations]
    for change in existing:
        for field_change in change.changes:
            if field_change.attr is Attr.MANAGER:
                links.append(
                    _ManagerLink(
                        change.entra_user_id, change.label, change.object_id, field_change.after
                    )
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
    target = known.get(link.entra_user_id)
    if target is None:
        return _outcome(link, OutcomeStatus.SKIPPED, "the Employee was not created")
    manager_key: str | None = None
    if link.manager_entra_id is not None:
        manager = known.get(link.manager_entra_id)
        if manager is None:
            return _outcome(link, OutcomeStatus.FAILED, "the manager's Employee does not exist")
        manager_key = manager[1]
    writer.update(link.object_id or target[0], {Attr.MANAGER: manager_key})
    return _outcome(link, OutcomeStatus.OK, "", target[1])


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
