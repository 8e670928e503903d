"""Print the mutation score per module from mutmut's results, and every survivor.

Run after ``mutmut run`` (``make mutate`` does both). The modules are the
``only_mutate`` list of ``[tool.mutmut]`` in pyproject.toml. Surviving mutants named
in the "Equivalent mutants" table of docs/testing.md are equivalent: no test can
tell them from the original, so they are left out of the score (and listed apart).

The score of a module is killed / (mutants - equivalent). A timeout counts as
killed: the tests noticed. ``--fail-under`` makes the exit status fail when the
overall score is lower.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"
DOC = ROOT / "docs" / "testing.md"
EQUIVALENT_HEADING = "Equivalent mutants"

KILLED, SURVIVED, NO_TESTS, NOT_CHECKED, OTHER = (
    "killed",
    "survived",
    "no tests",
    "not checked",
    "other",
)
_STATUS_BY_EXIT_CODE: dict[int | None, str] = {
    1: KILLED,
    3: KILLED,  # an internal pytest error is a kill too
    36: KILLED,  # timeouts: the tests hung, so they noticed
    24: KILLED,
    -24: KILLED,
    152: KILLED,
    255: KILLED,
    37: KILLED,  # caught by the type checker (not configured here)
    0: SURVIVED,
    5: NO_TESTS,
    33: NO_TESTS,
    None: NOT_CHECKED,
}


@dataclass
class ModuleScore:
    path: str
    counts: Counter[str] = field(default_factory=Counter)
    survivors: list[tuple[str, str]] = field(default_factory=list)  # (name, status)
    equivalent: list[str] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def scored(self) -> int:
        """Mutants a test could kill: all of them but the equivalent ones."""
        return self.total - len(self.equivalent)

    @property
    def score(self) -> float:
        return 100.0 * self.counts[KILLED] / self.scored if self.scored else 100.0


def modules() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return list(config["tool"]["mutmut"]["only_mutate"])


def equivalent_mutants(doc: Path = DOC) -> set[str]:
    """Mutant names in the first column of the equivalent-mutants table of the doc."""
    if not doc.exists():
        return set()
    names: set[str] = set()
    in_section = False
    for line in doc.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            in_section = line.lstrip("#").strip() == EQUIVALENT_HEADING
        elif in_section and line.startswith("|"):
            first = line.split("|")[1]
            names.update(re.findall(r"`([^`]+__mutmut_\d+)`", first))
    return names


def score(path: str, equivalent: set[str]) -> ModuleScore:
    result = ModuleScore(path)
    meta = MUTANTS / f"{path}.meta"
    if not meta.exists():
        return result
    exit_codes: dict[str, int | None] = json.loads(meta.read_text(encoding="utf-8"))[
        "exit_code_by_key"
    ]
    for name, code in sorted(exit_codes.items()):
        status = _STATUS_BY_EXIT_CODE.get(code, OTHER)
        result.counts[status] += 1
        if status == SURVIVED and name in equivalent:
            result.equivalent.append(name)
        elif status in (SURVIVED, NO_TESTS, OTHER):
            result.survivors.append((name, status))
        elif status == NOT_CHECKED:
            result.unchecked.append(name)
    return result


def show(name: str) -> str:
    """mutmut's diff of one mutant against the source."""
    shown = subprocess.run(
        [sys.executable, "-m", "mutmut", "show", name],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return shown.stdout.strip() or shown.stderr.strip()


def report(scores: list[ModuleScore], *, diffs: bool) -> float:
    width = max(len(s.path) for s in scores)
    print(f"{'module':<{width}}  killed / scored  survived  equivalent  score")
    for s in scores:
        print(
            f"{s.path:<{width}}  {s.counts[KILLED]:>6} / {s.scored:<6}  "
            f"{len(s.survivors):>8}  {len(s.equivalent):>10}  {s.score:5.1f} %"
        )
    killed = sum(s.counts[KILLED] for s in scores)
    scored = sum(s.scored for s in scores)
    overall = 100.0 * killed / scored if scored else 100.0
    survivors = sum(len(s.survivors) for s in scores)
    equivalent = sum(len(s.equivalent) for s in scores)
    print(
        f"{'all':<{width}}  {killed:>6} / {scored:<6}  {survivors:>8}  {equivalent:>10}  "
        f"{overall:5.1f} %"
    )
    unchecked = [name for s in scores for name in s.unchecked]
    if unchecked:
        print(f"\n{len(unchecked)} mutants were not checked (an interrupted run?)")
    listed = [survivor for s in scores for survivor in s.survivors]
    if listed:
        print(f"\nSurviving mutants ({len(listed)}):")
        for name, status in listed:
            print(f"\n{name}  [{status}]" if diffs else f"  {name}  [{status}]")
            if diffs:
                print(show(name))
    return overall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--fail-under", type=float, default=None, metavar="PERCENT")
    parser.add_argument("--no-diffs", action="store_true", help="name survivors only")
    args = parser.parse_args(argv)
    equivalent = equivalent_mutants()
    scores = [score(path, equivalent) for path in modules()]
    if not any(s.total for s in scores):
        print("No mutmut results: run `make mutate` (or `mutmut run`) first.")
        return 1
    overall = report(scores, diffs=not args.no_diffs)
    known = {name for s in scores for name in s.equivalent}
    stale = sorted(equivalent - known)
    if stale:
        print("\nListed as equivalent in docs/testing.md but not surviving any more:")
        for name in stale:
            print(f"  {name}")
    if args.fail_under is not None and overall < args.fail_under:
        print(f"\nScore {overall:.1f} % is under {args.fail_under:g} %.")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
