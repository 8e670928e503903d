"""The fault matrix: each service x each bad answer x read and write; nothing wrong applied.

The cases, the world they start from and the judge live in tests/reliability_faults.py,
which prints the same cases as a table (``python -m tests.reliability_faults``). Each
case asserts that no Employee was lost, duplicated, wrongly inactivated, reactivated or
cleared; that the faulty run ended the way its case says (applied, held, failed before
any write with a typed error, or partial with only correct writes); and that a clean
rerun converged on the state the same week reaches with no fault.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.reliability_faults import (
    CASES,
    KINDS,
    LOST,
    TARGETS,
    TRUNCATED,
    Case,
    Damage,
    Employees,
    FaultKind,
    Outcome,
    close_bench,
    correct_end_state,
    employees,
    judge,
    run_case,
    seeded,
    unsynced_sqlite,
)


def _marks(case: Case) -> list[pytest.MarkDecorator]:
    """Cases known to fail until other work lands fail strictly: a pass means remove it."""
    return [pytest.mark.xfail(strict=True, reason=case.pending)] if case.pending else []


@pytest.fixture(scope="module", autouse=True)
def quick_commits() -> Iterator[None]:
    with unsynced_sqlite():
        yield
    close_bench()


# Not traced: 110 end-to-end runs take twice as long under the tracer, and the code
# they reach is covered by the unit tests of the clients and the sandbox.
@pytest.mark.no_cover
@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=_marks(c)) for c in CASES])
def test_a_bad_answer_never_applies_a_wrong_write(case: Case) -> None:
    result = run_case(case)
    assert not result.damage, f"{result.damage.describe()}: {result.damage}"
    assert result.typed, f"failed with {result.status}, not a typed error: {result.detail}"
    assert result.outcome is case.expected, (
        f"{result.outcome} ({result.status}: {result.detail}); expected {case.expected}: {case.why}"
    )
    assert result.converged, result.rerun


def test_every_service_meets_every_fault() -> None:
    """Four services, each with every fault it can meet, reads and writes: none fell out."""
    kinds: dict[str, set[FaultKind]] = {}
    for case in CASES:
        kinds.setdefault(case.target.service, set()).add(case.kind)
    assert set(kinds) == {"sign-in", "Graph", "Jira + org admin", "Assets"}
    for service, met in kinds.items():
        assert met >= set(KINDS) - {TRUNCATED, *LOST}, service
    assert kinds["Assets"] == set(KINDS)
    assert {c.kind for c in CASES if c.target.is_write} == set(KINDS) - {TRUNCATED}
    assert {c.target for c in CASES} == set(TARGETS)
    assert {c.expected for c in CASES} == set(Outcome)


def test_the_week_changes_what_an_ordinary_week_does() -> None:
    """Three titles, two leavers and a hire: every case has something to get wrong."""
    before = {person: rows[0] for person, rows in employees(seeded().sandbox).items()}
    after = {person: rows[0] for person, rows in correct_end_state().items()}
    assert len(before) == 38, "seed 7, 60 people, 45 accounts: see tests/e2e/test_cli_flow.py"
    (hire,) = set(after) - set(before)
    assert after[hire]["Name"] == "Nora Quist"
    assert after[hire]["Manager"] in before
    changed = sorted(
        sorted(k for k in after[p] if after[p].get(k) != before[p].get(k))
        for p in before
        if after[p] != before[p]
    )
    assert changed == [["Active"], ["Active"], ["Job Title"], ["Job Title"], ["Job Title"]]


def test_the_judge_names_every_harm() -> None:
    before: Employees = {
        "a": [{"Active": "true", "Job Title": "Lead"}],
        "b": [{"Active": "true"}],
        "c": [{"Active": "false"}],
        "d": [{"Active": "true", "Department": "Sales"}],
        "e": [{"Active": "true"}],
    }
    correct: Employees = {**before, "a": [{"Active": "true", "Job Title": "Head"}]}
    after: Employees = {
        "a": [{"Active": "true", "Job Title": "Lead"}],  # not yet changed: no harm
        "b": [{"Active": "false"}],
        "c": [{"Active": "true"}],
        "d": [{"Active": "true"}, {"Active": "true", "Department": "Sales"}],
        "x": [{"Active": "true"}],
    }
    damage = judge(before, after, correct)
    assert damage == Damage(
        lost=("e",),
        duplicated=("d",),
        inactivated=("b Active",),
        reactivated=("c Active",),
        cleared=("d Department",),
        unexpected=("x",),
    )
    assert judge(before, correct, correct) == Damage()
    assert not judge(before, before, correct)
