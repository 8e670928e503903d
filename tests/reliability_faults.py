"""Faults at the wire, end to end: what a sync does when a service answers badly.

Every case starts from the seeded sandbox (seed 7, 60 people, 45 Atlassian accounts)
after an approver's first sync, changes the world the way an ordinary week does (three
new job titles, two leavers, one hire), injects one fault, and runs a manual sync
through :meth:`SyncService.sync`. It is judged against the same week on a twin sandbox
with no fault:

* the faulty run ends one of four ways: **applied** (its end state is the twin's),
  **held** by the guard rails, **failed before write** (with one of the typed errors
  of :mod:`core.errors`, which the shells turn into one line), or **partial** (it
  wrote part of the plan, and every value it wrote is the twin's);
* no Employee is lost, duplicated, wrongly inactivated, reactivated or cleared, and no
  field holds a value that is neither the one before the run nor the twin's;
* once the fault is gone, one more sync converges on the twin's state.

The first sync leaves a copy of the directory with a delta link, so the faulty run
reads Graph's changes since (the "user changes" rows). The "user list" rows first
make Graph refuse that link, so the run reads the whole directory afresh. The Graph
``$batch`` rows use a tenant of 1,400 people instead, where asking Graph for the 45
Atlassian users by ``$batch`` costs fewer requests than a first delta read; the
seeded tenant of 60 is read in one page.

``python -m tests.reliability_faults`` runs every case and prints a Markdown table
(``--details`` adds each faulty run's status and error); ``tests/test_fault_matrix.py``
runs the same cases under pytest.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet
from sqlalchemy import Engine, event

from core.cli.demo import configure_sandbox, sandbox_environ
from core.clients import RetryPolicy
from core.config import Settings, TeamSettings, load_settings
from core.errors import SyncError
from core.runs import SyncResult, SyncService
from core.sandbox import Answer, Fault, Sandbox
from core.store import RunStatus, Store, load_cipher
from core.sync import Attr

SEED, PEOPLE, ATLASSIAN = 7, 60, 45
LOOKUP_PEOPLE = 1_400  # a tenant where the sync asks for its users by $batch
APPROVER = "UAPPROVER"
ADMIN = "UADMIN"
UNTIL_CLEARED = 1_000  # uses of a fault that lasts until the test clears it

# What a person looks like to the judge: attribute name -> value, Manager given as
# the manager's Entra User ID (object keys differ between two sandboxes).
Person = Mapping[str, str]
# Every Employee by Entra User ID; more than one entry is a duplicate.
Employees = Mapping[str, Sequence[Person]]


class Phase(StrEnum):
    READ = "read"
    WRITE = "write"


class Outcome(StrEnum):
    """How the faulty run ended, judged by what it did to Assets."""

    APPLIED = "applied"
    PARTIAL = "partial"
    HELD = "held"
    FAILED = "failed before write"


@dataclass(frozen=True)
class Target:
    """The requests a fault hits: one endpoint of one service, in one phase of a run."""

    service: str  # as the table names it
    endpoint: str
    phase: Phase
    sandbox_service: str  # as core.sandbox.app.classify names it
    method: str
    path: str  # looked for in the decoded path plus query (a $batch item: its URL)
    batch_item: bool = False
    people: int = PEOPLE
    unique_ids: bool = True  # Entra User ID and Atlassian Account ID made unique, as ours are
    fresh: bool = False  # Graph refuses the saved delta link, so the run reads everything

    @property
    def is_write(self) -> bool:
        return self.phase is Phase.WRITE


TOKEN = Target("sign-in", "token", Phase.READ, "login", "POST", "/oauth2/v2.0/token")
DELTA = Target(
    "Graph", "user changes (delta)", Phase.READ, "graph", "GET", "/v1.0/users/delta?$deltatoken"
)
USERS = Target(
    "Graph", "user list", Phase.READ, "graph", "GET", "/v1.0/users/delta?$select", fresh=True
)
BATCH = Target("Graph", "$batch", Phase.READ, "graph", "POST", "/v1.0/$batch", people=LOOKUP_PEOPLE)
ITEM = Target(
    "Graph",
    "$batch item (user by id)",
    Phase.READ,
    "graph",
    "GET",
    "/users/",
    batch_item=True,
    people=LOOKUP_PEOPLE,
)
SEARCH = Target(
    "Jira + org admin", "user search", Phase.READ, "jira", "GET", "/rest/api/3/users/search"
)
ORG = Target("Jira + org admin", "org user list", Phase.READ, "admin", "GET", "/admin/v1/orgs/")
AQL = Target("Assets", "Employee read", Phase.READ, "assets", "POST", "/object/aql?")
AQL_NOT_UNIQUE = Target(  # a schema made before ours, which Assets lets hold duplicates
    "Assets",
    "Employee read, ids not unique",
    Phase.READ,
    "assets",
    "POST",
    "/object/aql?",
    unique_ids=False,
)
CREATE = Target("Assets", "create", Phase.WRITE, "assets", "POST", "/object/create")
UPDATE = Target("Assets", "update", Phase.WRITE, "assets", "PUT", "/object/")
TARGETS = (TOKEN, DELTA, USERS, BATCH, ITEM, SEARCH, ORG, AQL, AQL_NOT_UNIQUE, CREATE, UPDATE)
PAGES = (DELTA, USERS, BATCH, SEARCH, ORG, AQL, AQL_NOT_UNIQUE)


@dataclass(frozen=True)
class FaultKind:
    """One way an answer goes wrong, as the table names it."""

    name: str
    status: int = 503
    retry_after: float | None = None
    timeout: bool = False
    reset: bool = False
    answer: Answer | None = None
    after_processing: bool = False
    times: int = 1

    @property
    def transient(self) -> bool:
        """An error status or a lost connection: it says nothing about the data."""
        return self.answer is None and not self.after_processing

    @property
    def lasting(self) -> bool:
        return self.times >= UNTIL_CLEARED

    def fault(self, target: Target) -> Fault:
        return Fault(
            service=target.sandbox_service,
            method=target.method,
            path_contains=target.path,
            status=self.status,
            retry_after=self.retry_after,
            timeout=self.timeout,
            reset=self.reset,
            answer=self.answer,
            batch_item=target.batch_item,
            after_processing=self.after_processing,
            times=self.times,
        )


RATE_LIMITED = FaultKind("429 Retry-After once", status=429, retry_after=1)
RATE_LIMITED_ON = FaultKind(
    "429 Retry-After until cleared", status=429, retry_after=1, times=UNTIL_CLEARED
)
UNAVAILABLE = FaultKind("503 once")
UNAVAILABLE_ON = FaultKind("503 until cleared", times=UNTIL_CLEARED)
TIMEOUT = FaultKind("timeout once", timeout=True)
TIMEOUT_ON = FaultKind("timeout until cleared", timeout=True, times=UNTIL_CLEARED)
RESET = FaultKind("reset once", reset=True)
RESET_ON = FaultKind("reset until cleared", reset=True, times=UNTIL_CLEARED)
MALFORMED = FaultKind("malformed JSON", answer=Answer.MALFORMED)
EMPTY = FaultKind("empty 200", answer=Answer.EMPTY)
TRUNCATED = FaultKind("truncated 200", answer=Answer.TRUNCATED)
# A withheld field is withheld from every answer (a permission), not from one.
NULLS = FaultKind("null fields", answer=Answer.NULLS, times=UNTIL_CLEARED)
LOST_503 = FaultKind("answer lost after write (503)", after_processing=True)
LOST_TIMEOUT = FaultKind("answer lost after write (timeout)", timeout=True, after_processing=True)
LOST_RESET = FaultKind("answer lost after write (reset)", reset=True, after_processing=True)

TRANSIENT = (
    RATE_LIMITED,
    RATE_LIMITED_ON,
    UNAVAILABLE,
    UNAVAILABLE_ON,
    TIMEOUT,
    TIMEOUT_ON,
    RESET,
    RESET_ON,
)
LYING = (MALFORMED, EMPTY, TRUNCATED, NULLS)
LOST = (LOST_503, LOST_TIMEOUT, LOST_RESET)
KINDS = (*TRANSIENT, *LYING, *LOST)


def applies(target: Target, kind: FaultKind) -> bool:
    """Whether the combination can exist; each exclusion says why."""
    if kind in LOST:
        # A read changes nothing, so an answer lost after it is the plain 503, timeout
        # or reset. Sign-in, Graph, Jira and the org admin API are only ever read.
        return target.is_write
    if kind is TRUNCATED:
        # Only a page can stop early. A token, a user by id, and the answer to a
        # create or an update are single objects: a body cut short is malformed JSON.
        return target in PAGES
    if target.batch_item and (kind.timeout or kind.reset):
        # A sub-request of a $batch has no connection of its own to time out or reset;
        # the $batch request itself does (the "$batch" rows).
        return False
    if not target.unique_ids:
        # Uniqueness only matters when a read could hide which Employees exist: the
        # answers that lie. An error status or a lost connection hides nothing.
        return kind in LYING
    return True


@dataclass(frozen=True)
class Case:
    target: Target
    kind: FaultKind
    expected: Outcome
    why: str
    pending: str = ""  # why it is known to fail until other work lands; "" when it is not

    @property
    def id(self) -> str:
        words = f"{self.target.service} {self.target.endpoint} {self.kind.name} {self.target.phase}"
        slug = "".join(c if c.isalnum() else "-" for c in words.lower())
        return "-".join(part for part in slug.split("-") if part)


def expected_outcome(target: Target, kind: FaultKind) -> tuple[Outcome, str]:
    """What the run must do with this fault, and why that is right."""
    if kind.transient:
        return TRANSIENT_OUTCOMES[kind.lasting, target.is_write]
    if target.is_write:
        return WRITE_OUTCOMES[target]
    if kind is MALFORMED:
        return Outcome.FAILED, "an answer that is not JSON stops the run before a write"
    return LYING_READS[target, kind]


# (lasting, a write) -> outcome: errors and lost connections say nothing about the data.
TRANSIENT_OUTCOMES: dict[tuple[bool, bool], tuple[Outcome, str]] = {
    (False, False): (Outcome.APPLIED, "retried; the next answer is the real one"),
    (False, True): (Outcome.APPLIED, "retried, or a create looked up before it is resent"),
    (True, False): (Outcome.FAILED, "a read that keeps failing stops the run before a write"),
    (True, True): (Outcome.PARTIAL, "every other change is written; the rest on the rerun"),
}
# Answers lost after a write, and writes answered with a lie.
WRITE_OUTCOMES: dict[Target, tuple[Outcome, str]] = {
    CREATE: (Outcome.APPLIED, "a create whose answer is lost or unreadable is looked up"),
    UPDATE: (Outcome.APPLIED, "an update may be sent again; its answer is never read"),
}
HIRE_NEXT_RUN = "the hire whose email it hid is matched on the rerun; the rest is written"
LYING_READS: dict[tuple[Target, FaultKind], tuple[Outcome, str]] = {
    (TOKEN, EMPTY): (Outcome.FAILED, "no access token, no read"),
    (TOKEN, NULLS): (Outcome.FAILED, "no access token, no read"),
    (DELTA, EMPTY): (Outcome.FAILED, "a delta page with no next or delta link ends the read"),
    (DELTA, TRUNCATED): (
        Outcome.PARTIAL,
        "what the cut round carried is applied; the next run reads it again from the older link",
    ),
    (DELTA, NULLS): (
        Outcome.PARTIAL,
        "accountEnabled withheld: that entry's nulls empty nothing; the round is not kept",
    ),
    (USERS, EMPTY): (Outcome.FAILED, "a delta page with no next or delta link ends the read"),
    (USERS, TRUNCATED): (Outcome.HELD, "fewer users than Graph's $count; the read is not kept"),
    (USERS, NULLS): (Outcome.HELD, "unknown Active changes nobody; mass clears wait"),
    (BATCH, EMPTY): (Outcome.FAILED, "a $batch answer without the requests' answers"),
    (BATCH, TRUNCATED): (Outcome.FAILED, "a $batch answer without the requests' answers"),
    (BATCH, NULLS): (Outcome.HELD, "unknown Active changes nobody; mass clears wait"),
    (ITEM, EMPTY): (Outcome.FAILED, "a 200 item without the user is not 'no such user'"),
    (ITEM, NULLS): (Outcome.HELD, "unknown Active changes nobody; mass clears wait"),
    (SEARCH, EMPTY): (Outcome.HELD, "0 accounts, under 90% of the last sync's read"),
    (SEARCH, TRUNCATED): (Outcome.APPLIED, "a short page is followed by the next one"),
    (SEARCH, NULLS): (Outcome.HELD, "every account inactive: 0 active accounts read"),
    (ORG, EMPTY): (Outcome.PARTIAL, HIRE_NEXT_RUN),
    (ORG, TRUNCATED): (Outcome.PARTIAL, HIRE_NEXT_RUN),
    (ORG, NULLS): (Outcome.PARTIAL, HIRE_NEXT_RUN),
    (AQL, EMPTY): (Outcome.FAILED, "fewer Employees than Assets counts"),
    (AQL, TRUNCATED): (Outcome.FAILED, "fewer Employees than Assets counts"),
    (AQL, NULLS): (Outcome.FAILED, "a value listed with nothing in it is refused"),
    (AQL_NOT_UNIQUE, EMPTY): (Outcome.FAILED, "fewer Employees than Assets counts"),
    (AQL_NOT_UNIQUE, TRUNCATED): (Outcome.FAILED, "fewer Employees than Assets counts"),
    (AQL_NOT_UNIQUE, NULLS): (Outcome.FAILED, "a value listed with nothing in it is refused"),
}


def pending(target: Target, kind: FaultKind) -> str:
    """Why a case is known to fail until other work lands; "" for every case today.

    Kept so a case that needs work elsewhere can say so in the table (and be a strict
    xfail in the test) instead of being left out.
    """
    return ""


def all_cases() -> list[Case]:
    return [
        Case(target, kind, *expected_outcome(target, kind), pending(target, kind))
        for target in TARGETS
        for kind in KINDS
        if applies(target, kind)
    ]


CASES = all_cases()


# -- the world ---------------------------------------------------------------------


@dataclass(frozen=True)
class Seeded:
    """The sandbox and database right after an approver's first sync, to copy from."""

    sandbox: Sandbox
    database: bytes


@functools.cache
def secret_key() -> str:
    """One key a process, so every copy of a seeded database decrypts its secret."""
    return Fernet.generate_key().decode()


def settings_for(database: Path) -> Settings:
    environ = {
        **sandbox_environ(f"sqlite:///{database}"),
        "ENTRA_SYNC_SECRET_KEY": secret_key(),
    }
    return load_settings(environ, env_file=None)


@dataclass(frozen=True)
class World:
    """A sandbox and the database its sync keeps, as one case sees them."""

    sandbox: Sandbox
    settings: Settings
    store: Store

    @contextmanager
    def service(
        self, transport: httpx.BaseTransport | None = None, *, concurrency: int = 1
    ) -> Iterator[SyncService]:
        """A service as a new process builds it: its own clients, so its own sign-in.

        ``transport`` defaults to the sandbox's own; ``concurrency`` is how many writes
        run at once (one keeps their order, and so what a fault hits, fixed).
        """
        settings = dataclasses.replace(self.settings, write_concurrency=concurrency)
        service = SyncService(
            settings,
            self.store,
            transport=transport or self.sandbox.transport(),
            retry=RetryPolicy(sleep=lambda _: None),
        )
        try:
            yield service
        finally:
            service.close()

    def sync(self) -> SyncResult:
        with self.service() as service:
            return service.sync(APPROVER)


@functools.cache
def seeded(people: int = PEOPLE) -> Seeded:
    """Built once a process: configured, schema made, first sync applied by an approver."""
    with tempfile.TemporaryDirectory(prefix="fault-seed-") as tmp:
        database = Path(tmp) / "sync.db"
        settings = settings_for(database)
        store = Store(settings.database_url, load_cipher(settings))
        first = World(Sandbox(seed=SEED, people=people, atlassian=ATLASSIAN), settings, store)
        try:
            with first.service() as service:
                configure_sandbox(service)
                service.create_schema(ADMIN)
                service.save_team_settings(TeamSettings("C0REPORTS", (APPROVER,)), ADMIN)
            result = first.sync()
            assert result.status is RunStatus.SUCCEEDED, result.status
            store.forget_sign_in()  # each case's run signs in, so sign-in faults meet it
        finally:
            store.close()
        return Seeded(first.sandbox, database.read_bytes())


class Bench:
    """One database file and one store that every case in a process copies into.

    Opening a store creates its tables and compiles its statements afresh; doing it
    once, and copying each case's starting database over the file while no connection
    is open, saves about a third of the time a case takes.
    """

    def __init__(self) -> None:
        self._directory = tempfile.TemporaryDirectory(prefix="fault-bench-")
        self.database = Path(self._directory.name) / "sync.db"
        self.settings = settings_for(self.database)
        self.store = Store(self.settings.database_url, load_cipher(self.settings))

    @contextmanager
    def world(self, seed: Seeded) -> Iterator[World]:
        """A copy of ``seed``: a cloned sandbox and the seeded database on the file."""
        self.store.close()  # no pooled connection may see the file being replaced
        self.database.with_name(self.database.name + "-journal").unlink(missing_ok=True)
        self.database.write_bytes(seed.database)
        try:
            yield World(seed.sandbox.clone(), self.settings, self.store)
        finally:
            self.store.close()

    def close(self) -> None:
        self.store.close()
        self._directory.cleanup()


_benches: list[Bench] = []


def world(seed: Seeded) -> AbstractContextManager[World]:
    """A copy of ``seed`` on this process's bench."""
    if not _benches:
        _benches.append(Bench())
    return _benches[0].world(seed)


def close_bench() -> None:
    """Remove the bench's database; the next case builds a new one."""
    while _benches:
        _benches.pop().close()


def an_ordinary_week(sandbox: Sandbox) -> None:
    """Three new job titles, two leavers and a hire reporting to an existing Employee.

    The hire's profile hides her email, so the run reads the org admin list. One
    leaver is disabled in Entra, the other's Atlassian account is deactivated.
    The same people are picked on every copy of a seeded world.
    """
    rows = sorted(
        (e["attributes"] for e in sandbox.employees()),
        key=lambda values: str(values[Attr.ENTRA_USER_ID.value]),
    )
    active = [row for row in rows if row.get(Attr.ACTIVE.value) == "true"]
    people = [str(row[Attr.ENTRA_USER_ID.value]) for row in active]
    titles = ("Principal Analyst", "Support Lead", "Head of Onboarding")
    for user_id, title in zip(people, titles, strict=False):
        sandbox.set_job_title(user_id, title)
    sandbox.disable_user(people[3])
    sandbox.deactivate_account(str(active[4][Attr.ATLASSIAN_ACCOUNT_ID.value]))
    manager = sandbox.directory_users[people[5]]
    hired = sandbox.hire("Nora Quist", manager.department, "Analyst", manager.id)
    # Her profile hides her email: only the org admin list can match her.
    mail = sandbox.directory_users[hired].mail
    account = next(a for a in sandbox.atlassian_accounts.values() if a.email == mail)
    sandbox.set_account_email(account.account_id, str(mail), visible=False)


def employees(sandbox: Sandbox) -> Employees:
    """Every Employee by Entra User ID, with Manager as the manager's Entra User ID."""
    raw = sandbox.employees()
    entra_id = Attr.ENTRA_USER_ID.value
    by_key = {str(e["objectKey"]): str(e["attributes"].get(entra_id)) for e in raw}
    found: dict[str, list[Person]] = {}
    for employee in raw:
        values = {name: str(value) for name, value in employee["attributes"].items()}
        manager = values.get(Attr.MANAGER.value)
        if manager is not None:
            values[Attr.MANAGER.value] = by_key.get(manager, f"object {manager}")
        person = values.get(entra_id) or f"object {employee['objectKey']}"
        found.setdefault(person, []).append(values)
    return found


@functools.cache
def correct_end_state(people: int = PEOPLE) -> Employees:
    """The week applied with no fault: where every case on this tenant must end."""
    with world(seeded(people)) as twin:
        an_ordinary_week(twin.sandbox)
        result = twin.sync()
        assert result.status is RunStatus.SUCCEEDED, result.status
        return employees(twin.sandbox)


@contextmanager
def unsynced_sqlite() -> Iterator[None]:
    """SQLite commits without waiting for the disk while the cases run.

    The cases test what a run does, not whether the disk keeps it through a power cut;
    half their time would otherwise go on fsync. A crash of this process still loses
    nothing committed. Every engine connected inside the block is affected.
    """

    def no_fsync(connection: Any, _: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.close()

    event.listen(Engine, "connect", no_fsync)
    try:
        yield
    finally:
        event.remove(Engine, "connect", no_fsync)


# -- judging -----------------------------------------------------------------------


DAMAGE_KINDS = (
    "lost",
    "duplicated",
    "inactivated",
    "reactivated",
    "cleared",
    "changed",
    "unexpected",
)


@dataclass(frozen=True)
class Damage:
    """Employees a run harmed, each entry naming an Entra User ID (and the field)."""

    lost: tuple[str, ...] = ()
    duplicated: tuple[str, ...] = ()
    inactivated: tuple[str, ...] = ()
    reactivated: tuple[str, ...] = ()
    cleared: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()  # a value neither the one before nor the correct one
    unexpected: tuple[str, ...] = ()  # an Employee that should not exist

    def __bool__(self) -> bool:
        return any(getattr(self, name) for name in DAMAGE_KINDS)

    def describe(self) -> str:
        parts = [
            f"{len(getattr(self, name))} {name}" for name in DAMAGE_KINDS if getattr(self, name)
        ]
        return ", ".join(parts) or "none"


def judge(before: Employees, after: Employees, correct: Employees) -> Damage:
    """What ``after`` got wrong: every field must hold its value before or the correct one."""
    found: dict[str, list[str]] = {name: [] for name in DAMAGE_KINDS}
    for person in sorted(set(before) | set(after) | set(correct)):
        now = after.get(person, ())
        if person in before and not now:
            found["lost"].append(person)
        if len(now) > 1:
            found["duplicated"].append(person)
        if now and person not in correct:
            found["unexpected"].append(person)
        if not now or person not in correct:
            continue
        was, right = (before.get(person) or [{}])[0], correct[person][0]
        for values in now:
            for name in sorted(set(values) | set(was) | set(right)):
                value = values.get(name)
                if value not in (was.get(name), right.get(name)):
                    found[_harm(name, value)].append(f"{person} {name}")
    return Damage(**{name: tuple(items) for name, items in found.items()})


def _harm(attribute: str, value: str | None) -> str:
    if attribute == Attr.ACTIVE.value and value == "false":
        return "inactivated"
    if attribute == Attr.ACTIVE.value and value == "true":
        return "reactivated"
    return "cleared" if value is None else "changed"


def writes_sent(sandbox: Sandbox) -> int:
    """Create and update requests that reached the sandbox, answered or not."""
    return sum(
        1
        for service, method, path in sandbox.request_log
        if service == "assets"
        and ((method == "POST" and path.endswith("/object/create")) or method == "PUT")
    )


@dataclass(frozen=True)
class CaseResult:
    case: Case
    outcome: Outcome
    status: str  # the run's status, or the class of the error it raised
    detail: str  # why, in one line: the hold reason, the error, a failed change
    typed: bool  # False when the run failed with an error core.errors does not name
    damage: Damage
    converged: bool
    rerun: str  # the rerun's status, and what still differs when it did not converge
    seconds: float

    @property
    def as_expected(self) -> bool:
        return self.outcome is self.case.expected

    @property
    def passed(self) -> bool:
        return self.as_expected and self.typed and not self.damage and self.converged


def run_case(case: Case) -> CaseResult:
    """One fault, one faulty sync, one clean rerun; judged against the correct state."""
    started = time.perf_counter()
    people = case.target.people
    correct = correct_end_state(people)
    with world(seeded(people)) as copy:
        sandbox = copy.sandbox
        if not case.target.unique_ids:
            sandbox.set_unique(Attr.ENTRA_USER_ID.value, False)
            sandbox.set_unique(Attr.ATLASSIAN_ACCOUNT_ID.value, False)
        an_ordinary_week(sandbox)
        if case.target.fresh:
            sandbox.expire_delta_tokens()
        before = employees(sandbox)
        sandbox.reset_counts()
        sandbox.add_fault(case.kind.fault(case.target))
        status, detail, typed, held = _faulty_run(copy)
        after = employees(sandbox)
        outcome = _outcome(status, held, writes_sent(sandbox), after == correct)
        damage = judge(before, after, correct)
        sandbox.clear_faults()
        rerun = copy.sync()
        final = employees(sandbox)
    converged = rerun.status is RunStatus.SUCCEEDED and final == correct
    left = "" if converged else f"; differs: {judge(before, final, correct).describe()}"
    seconds = time.perf_counter() - started
    return CaseResult(
        case, outcome, status, detail, typed, damage, converged, rerun.status + left, seconds
    )


def _faulty_run(copy: World) -> tuple[str, str, bool, bool]:
    """(status or error class, one line on why, typed error, held)."""
    try:
        result = copy.sync()
    except Exception as exc:  # the run failed; the outcome says whether it wrote first
        return type(exc).__name__, _one_line(str(exc)), isinstance(exc, SyncError), False
    detail = result.hold_reasons[0] if result.hold_reasons else ""
    failed = [o for o in (result.applied.outcomes if result.applied else ()) if o.detail]
    if failed:
        detail = failed[0].detail
    return result.status.value, _one_line(detail), True, result.held


def _outcome(status: str, held: bool, writes: int, correct: bool) -> Outcome:
    if writes == 0 and held:
        return Outcome.HELD
    if status == RunStatus.SUCCEEDED and correct:
        return Outcome.APPLIED
    return Outcome.FAILED if writes == 0 else Outcome.PARTIAL


def _one_line(text: str, limit: int = 160) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


# -- the table ---------------------------------------------------------------------


def table(results: Sequence[CaseResult]) -> str:
    """The results as Markdown: one row a case."""
    lines = [
        "| service | endpoint | fault | phase | outcome | expected | error | "
        "lost, duplicated or wrongly changed | converged on rerun | passed |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        c = r.case
        error = "" if r.status in {s.value for s in RunStatus} else r.status
        lines.append(
            f"| {c.target.service} | {c.target.endpoint} | {c.kind.name} | {c.target.phase} "
            f"| {r.outcome} | {c.expected} | {error} | {r.damage.describe()} "
            f"| {'yes' if r.converged else 'no: ' + r.rerun} | {_verdict(r)} |"
        )
    return "\n".join(lines)


# The nine faults, as the columns of the summary grid.
GRID_COLUMNS: tuple[tuple[str, tuple[FaultKind, ...]], ...] = (
    ("429 Retry-After", (RATE_LIMITED, RATE_LIMITED_ON)),
    ("503", (UNAVAILABLE, UNAVAILABLE_ON)),
    ("timeout", (TIMEOUT, TIMEOUT_ON)),
    ("reset", (RESET, RESET_ON)),
    ("malformed JSON", (MALFORMED,)),
    ("empty 200", (EMPTY,)),
    ("truncated 200", (TRUNCATED,)),
    ("null fields", (NULLS,)),
    ("answer lost after write", LOST),
)
GRID_CODES = {
    Outcome.APPLIED: "A",
    Outcome.PARTIAL: "P",
    Outcome.HELD: "H",
    Outcome.FAILED: "F",
}


def grid(results: Sequence[CaseResult]) -> str:
    """One row an endpoint, one column a fault; "A/F" is once / until cleared.

    A applied, P partial (only correct writes), H held, F failed before write, an
    asterisk a case that did not pass, a dot a combination that cannot exist.
    """
    by_case = {(r.case.target, r.case.kind): r for r in results}
    lines = [
        "| service | endpoint | phase | " + " | ".join(name for name, _ in GRID_COLUMNS) + " |",
        "| --- | --- | --- | " + " | ".join("---" for _ in GRID_COLUMNS) + " |",
    ]
    for target in TARGETS:
        cells = []
        for _, kinds in GRID_COLUMNS:
            codes = [
                GRID_CODES[r.outcome] + ("" if r.passed else "*")
                for kind in kinds
                if (r := by_case.get((target, kind))) is not None
            ]
            cells.append("/".join(codes) or "·")
        lines.append(
            f"| {target.service} | {target.endpoint} | {target.phase} | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines)


def _verdict(result: CaseResult) -> str:
    if result.passed:
        return "yes"
    return "pending (see below)" if result.case.pending else "**no**"


def totals(results: Sequence[CaseResult]) -> str:
    outcomes = Counter(r.outcome for r in results)
    by_outcome = ", ".join(f"{outcomes[o]} {o}" for o in Outcome if outcomes[o])
    waiting = Counter(r.case.pending for r in results if r.case.pending and not r.passed)
    lines = [
        f"- cases: {len(results)} ({by_outcome})",
        f"- ended as expected: {sum(1 for r in results if r.as_expected)}",
        f"- failed with an untyped error: {sum(1 for r in results if not r.typed)}",
        "- with an Employee lost, duplicated or wrongly changed: "
        f"{sum(1 for r in results if r.damage)}",
        f"- converged on the clean rerun: {sum(1 for r in results if r.converged)}",
        f"- passed (as expected, typed, no damage, converged): "
        f"{sum(1 for r in results if r.passed)}",
    ]
    lines += [f"- pending, {count}: {reason}" for reason, count in waiting.items()]
    return "\n".join(lines)


def failures(results: Sequence[CaseResult]) -> list[CaseResult]:
    """Cases that did not pass and are not known to be waiting on other work."""
    return [r for r in results if not r.passed and not r.case.pending]


def main(argv: Sequence[str] = ()) -> int:
    """Print the table and its totals; exit 1 when a case failed that is not pending."""
    started = time.perf_counter()
    # MSAL logs a traceback for the token answer that is not JSON; the table has that case.
    logging.getLogger("msal").setLevel(logging.CRITICAL)
    with unsynced_sqlite():
        try:
            results = [run_case(case) for case in CASES]
        finally:
            close_bench()
    print(grid(results))
    print()
    print(table(results))
    print()
    print(totals(results))
    print(f"- time: {time.perf_counter() - started:.1f} s")
    if "--details" in argv:
        print()
        for r in results:
            print(f"{r.case.id} ({r.seconds:.2f} s): {r.status}: {r.detail}")
    return 1 if failures(results) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
