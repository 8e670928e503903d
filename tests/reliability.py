"""``python -m tests.reliability`` (``make reliability``): the reliability suites as tables.

The bad-input suite: every case of :mod:`tests.test_bad_input`, run as the test runs
it (in-process, each in a directory of its own), one row each (case, expected exit,
got, one line?, stored?), then the totals by area. ``docs/reliability.md`` keeps the
latest figures. Exits 1 when any case fails.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from tests.test_bad_input import CASES, Outcome, run_case


def run_bad_input() -> list[Outcome]:
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="entra-reliability-") as root:
        for number, case in enumerate(CASES, start=1):
            work = Path(root) / f"case-{number}"
            work.mkdir()
            outcomes.append(run_case(case, work))
    return outcomes


def _got(outcome: Outcome) -> str:
    return f"raised {outcome.escaped}" if outcome.code is None else str(outcome.code)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def case_table(outcomes: Sequence[Outcome]) -> str:
    lines = [
        "| case | expected exit | got | one line? | stored? | passed |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for outcome in outcomes:
        stored = ", ".join(outcome.changed) or "no"
        lines.append(
            f"| {_cell(outcome.case.name)} | {outcome.case.exit} | {_got(outcome)} "
            f"| {'yes' if outcome.one_line else 'no'} | {_cell(stored)} "
            f"| {'yes' if not outcome.problems() else 'NO'} |"
        )
    return "\n".join(lines)


def totals_table(outcomes: Sequence[Outcome]) -> str:
    areas: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        areas.setdefault(outcome.case.area, []).append(outcome)
    lines = [
        "| area | cases | passed | one line | stored anything | traceback |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for area, group in [*areas.items(), ("all", list(outcomes))]:
        passed = sum(1 for o in group if not o.problems())
        one_line = sum(1 for o in group if o.one_line)
        stored = sum(1 for o in group if o.changed)
        tracebacks = sum(1 for o in group if o.escaped is not None or "Traceback" in o.err)
        lines.append(f"| {area} | {len(group)} | {passed} | {one_line} | {stored} | {tracebacks} |")
    return "\n".join(lines)


def main() -> int:
    started = time.monotonic()
    outcomes = run_bad_input()
    seconds = time.monotonic() - started
    print("Bad input: each case exits as documented, with one line and nothing stored\n")
    print(case_table(outcomes))
    print()
    print(totals_table(outcomes))
    failed = [o for o in outcomes if o.problems()]
    print(f"\n{len(outcomes)} cases, {len(outcomes) - len(failed)} passed in {seconds:.1f}s")
    for outcome in failed:
        print(f"FAILED {outcome.case.name}: {'; '.join(outcome.problems())}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
