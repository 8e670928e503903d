"""``entra-sync explain``, ``history --person`` and ``sync --person``: one person at a time.

Thin: parse, call :class:`core.runs.People` or :class:`core.runs.PersonSync`, print
what it returns (the words come from :mod:`core.runs.person_text` and the plan report).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from core.runs import (
    People,
    PersonSync,
    SyncService,
    explanation_text,
    history_lines,
    person_write_json,
    report_json,
    requests_text,
)
from core.store import RunStatus
from core.sync import failures_text, plan_text

EXIT_OK, EXIT_NOT_FOUND, EXIT_FAILED, EXIT_INVALID = 0, 1, 1, 2
PERSON_HELP = "an email, a name or an Atlassian account id"


def add_person_commands(sub: Any) -> None:
    """The ``explain`` subcommand, for :func:`core.cli.main.build_parser`."""
    explain = sub.add_parser(
        "explain", help="one person: their accounts, match, Employee and the next sync's changes"
    )
    explain.add_argument("person", help=PERSON_HELP)
    explain.add_argument("--json", action="store_true", help="print the answer as JSON")


def _say(message: str) -> None:
    print(f"... {message}", file=sys.stderr, flush=True)


def cmd_explain(service: SyncService, args: argparse.Namespace, out: TextIO) -> int:
    """Exit 0 with the explanation; 1 when nobody (or several people) match."""
    report = People(service).explain(args.person, _say)
    if args.json:
        print(json.dumps(report_json(report), indent=2, sort_keys=True), file=out)
    else:
        print(explanation_text(report), file=out)
    return EXIT_OK if report_json(report)["answer"]["found"] else EXIT_NOT_FOUND


def cmd_person_history(service: SyncService, args: argparse.Namespace, out: TextIO) -> int:
    """The stored writes for one person, newest first; reads only the database."""
    writes = People(service).history(args.person)[: args.limit]
    if getattr(args, "json", False):
        print(json.dumps([person_write_json(w) for w in writes], indent=2), file=out)
        return EXIT_OK
    lines = history_lines(writes)
    print("\n".join(lines) if lines else f"No stored writes for {args.person!r}.", file=out)
    return EXIT_OK


def cmd_person_sync(
    service: SyncService, args: argparse.Namespace, out: TextIO, actor: str, *, terminal: bool
) -> int:
    """``sync --person``: one person's share of the plan; without ``--yes`` show it and ask."""
    people = PersonSync(service)
    expected = None
    if not args.yes:
        if not terminal:
            print(
                "error: refusing to apply without --yes when stdin is not a terminal; "
                "nothing was read or written.",
                file=sys.stderr,
            )
            return EXIT_INVALID
        shown = people.preview(args.person, actor, _say, keep=False)
        print(plan_text(shown.plan), file=out)
        print(f"Read with {requests_text(shown.requests)}", file=out)
        if shown.plan.is_empty:
            return EXIT_OK
        if input(f"Apply {shown.plan.write_count} changes? [y/N] ").strip().lower() != "y":
            print("Not applied.", file=out)
            return EXIT_FAILED
        expected = shown.plan.fingerprint
    result = people.sync(args.person, actor, _say, expected_fingerprint=expected)
    if args.yes:
        print(plan_text(result.plan), file=out)
    print(
        f"Sync of one person {result.status.value}: {requests_text(result.requests)} "
        f"in {result.seconds:.2f}s",
        file=out,
    )
    if result.applied is not None and result.applied.outcomes:
        print(f"  applied {result.applied.succeeded}, failed {result.applied.failed}", file=out)
        text = failures_text(result.applied.outcomes)
        if text:
            print(text, file=out)
    return EXIT_OK if result.status is RunStatus.SUCCEEDED else EXIT_FAILED
