"""``entra-sync explain`` and ``entra-sync history --person``: one person at a time.

Thin: parse, call :class:`core.runs.People`, print what it returns (the words come
from :mod:`core.runs.person_text`).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from core.runs import (
    People,
    SyncService,
    explanation_text,
    history_json,
    history_lines,
    report_json,
)

EXIT_OK, EXIT_NOT_FOUND = 0, 1
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
        print(json.dumps([history_json(w) for w in writes], indent=2), file=out)
        return EXIT_OK
    lines = history_lines(writes)
    print("\n".join(lines) if lines else f"No stored writes for {args.person!r}.", file=out)
    return EXIT_OK
