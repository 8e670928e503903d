"""``entra-sync``'s commands: each calls the service and prints what it returns.

The entry point (arguments, logging, failures) is :mod:`core.cli.main`.

Exit codes: 0 success, 1 a run failed or partly failed (or the person answered no, or
a step of ``check-connection`` failed),
2 bad input or configuration (``sync`` without ``--yes`` and without a terminal),
3 held: the guard rails kept the plan for an approver and nothing was written.
Every failure is one line on stderr, chosen by :mod:`core.cli.failures`; ``--debug``
prints the traceback before it.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from core.cli.failures import one_line
from core.cli.person import cmd_explain, cmd_person_history, cmd_person_sync
from core.config import Settings
from core.errors import FieldProblem, InvalidInput
from core.runs import (
    SKIPPED,
    CheckStep,
    ScheduledKind,
    ScheduledOutcome,
    ScheduledSync,
    SyncResult,
    SyncService,
    check_connection,
    history_json,
    monitoring,
    requests_text,
    run_line,
    schema_line,
    schema_of,
    status_json,
    status_text,
    upgrade_schema_of,
)
from core.store import RunStatus
from core.sync import failures_text, plan_csv, plan_text

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_HELD = 0, 1, 2, 3


def _say(message: str) -> None:
    print(f"... {message}", file=sys.stderr, flush=True)


def _progress(done: int, total: int) -> None:
    step = max(1, total // 10)
    if done == total or done % step == 0:
        print(f"... applied {done}/{total}", file=sys.stderr, flush=True)


def cmd_configure(service: SyncService, args: argparse.Namespace, out: TextIO) -> int:
    secret = None if args.keep_secret else _read_secret()
    view = service.configure(
        args.tenant_id,
        args.client_id,
        secret,
        args.cadence_days,
        _actor(),
        reset_secret=args.reset_secret,
    )
    print(
        f"Saved: tenant {view.tenant_id}, client {view.client_id}, "
        f"sync every {view.cadence_days} days.",
        file=out,
    )
    return EXIT_OK


RULE_STDIN_CLOSED = "standard input is closed: type the secret at the prompt, or pipe it in"
RULE_STDIN_TEXT = "standard input is not UTF-8 text"


def _read_secret() -> str:
    """From a hidden prompt on a terminal, else the first line of stdin; never argv."""
    stdin = sys.stdin
    if stdin is None or stdin.closed:
        raise InvalidInput([FieldProblem("client_secret", RULE_STDIN_CLOSED)])
    if stdin.isatty():
        return getpass.getpass("Client secret (input hidden): ")
    try:
        return stdin.readline().rstrip("\r\n")
    except UnicodeDecodeError:  # chain nothing: the error holds the bytes read
        raise InvalidInput([FieldProblem("client_secret", RULE_STDIN_TEXT)]) from None


def _stdin_is_terminal() -> bool:
    stdin = sys.stdin
    return stdin is not None and not stdin.closed and stdin.isatty()


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def cmd_rotate_key(service: SyncService, args: argparse.Namespace, out: TextIO) -> int:
    """Re-encrypt the stored secret with the first key of ``ENTRA_SYNC_SECRET_KEY``."""
    if not service.rotate_key(_actor()):
        print("No client secret is stored yet; nothing to re-encrypt.", file=out)
        return EXIT_OK
    print(
        "Re-encrypted the stored client secret with the new key (the first of "
        "ENTRA_SYNC_SECRET_KEY). Now set ENTRA_SYNC_SECRET_KEY to the new key alone on every "
        "process; keep the old key with the backups taken before now.",
        file=out,
    )
    return EXIT_OK


def cmd_schema(service: SyncService, args: argparse.Namespace, out: TextIO) -> int:
    report = service.create_schema(_actor(), _say)
    if not report.changed:
        print("Schema Entra Directory (ENTRA) is complete; nothing to add.", file=out)
    else:
        print("Created: " + ", ".join(report.created()), file=out)
    for note in report.mismatched_attributes:
        print(f"note: {note}", file=out)
    return EXIT_OK


def cmd_preview(service: SyncService, args: argparse.Namespace, out: TextIO) -> int:
    if args.csv:
        _check_writable(args.csv)  # before the preview: a failure must not store one
    result = service.preview(_actor(), _say)
    if args.csv:
        args.csv.write_text(plan_csv(result.plan), encoding="utf-8")
    if args.json:
        body = {
            "fingerprint": result.plan.fingerprint,
            "counts": result.plan.counts(),
            "requests": result.requests,
            "seconds": result.seconds,
            "plan": result.plan.to_dict(),
        }
        print(json.dumps(body, indent=2, sort_keys=True), file=out)
        return EXIT_OK
    print(plan_text(result.plan), file=out)
    print(f"Read with {requests_text(result.requests)} in {result.seconds:.2f}s", file=out)
    if args.csv:
        print(f"Wrote every row to {args.csv}", file=out)
    return EXIT_OK


def _check_writable(path: Path) -> None:
    """Raise the ``OSError`` that writing ``path`` would, without changing what is there."""
    existed = path.exists()
    with path.open("a", encoding="utf-8"):
        pass
    if not existed:
        path.unlink()


def cmd_sync(service: SyncService, args: argparse.Namespace, out: TextIO) -> int:
    """Apply now. Without ``--yes``: show the plan, ask, then apply exactly that plan."""
    if args.person is not None:
        return cmd_person_sync(service, args, out, _actor(), terminal=_stdin_is_terminal())
    expected = None
    if not args.yes:
        shown = _ask_first(service, out)
        if isinstance(shown, int):
            return shown
        expected = shown
    result = service.sync(
        _actor(),
        expected_fingerprint=expected,
        allow_mass_change=args.allow_mass_change,
        say=_say,
        progress=_progress,
    )
    if result.held:
        print(held_text(result), file=out)
        return EXIT_HELD
    if args.yes:
        print(plan_text(result.plan), file=out)
    for reason in result.overridden:
        print(f"Guard rail overridden (recorded in the audit): {reason}", file=out)
    print(
        f"Sync {result.status.value}: {requests_text(result.requests)} in {result.seconds:.2f}s",
        file=out,
    )
    if result.applied is not None:
        print(f"  applied {result.applied.succeeded}, failed {result.applied.failed}", file=out)
        text = failures_text(result.applied.outcomes)
        if text:
            print(text, file=out)
    return EXIT_OK if result.status is RunStatus.SUCCEEDED else EXIT_FAILED


def _ask_first(service: SyncService, out: TextIO) -> str | int:
    """The fingerprint of the plan the person said yes to, or the exit code to stop with.

    The run lease is not held while the person reads: the preview run ends first,
    and the sync that follows applies only that plan (a changed plan is refused).
    """
    if not _stdin_is_terminal():
        print(
            "error: refusing to apply without --yes when stdin is not a terminal; "
            "nothing was read or written.",
            file=sys.stderr,
        )
        return EXIT_INVALID
    shown = service.preview(_actor(), _say, keep=False).plan
    print(plan_text(shown), file=out)
    if shown.is_empty:
        return EXIT_OK
    if input(f"Apply {shown.write_count} changes? [y/N] ").strip().lower() != "y":
        print("Not applied.", file=out)
        return EXIT_FAILED
    return shown.fingerprint


def held_text(result: SyncResult) -> str:
    """The plan, every rule that held it, and the two ways past the hold."""
    lines = [plan_text(result.plan), "", f"Held for approval (run #{result.run_id}):"]
    lines += [f"  {reason}" for reason in result.hold_reasons]
    lines += [
        f"Nothing was written. Preview #{result.preview_id} waits for an approver in Slack;",
        "or, having checked the plan, rerun with --yes --allow-mass-change (audited).",
    ]
    return "\n".join(lines)


def cmd_status(service: SyncService, args: argparse.Namespace, out: TextIO) -> int:
    """The status page, or JSON; with ``--check``, exit 1 when the schedule needs a person."""
    state = monitoring(service)
    if args.json:
        print(json.dumps(status_json(state), indent=2, sort_keys=True), file=out)
    else:
        print(status_text(state.report), file=out)
        print(f"Schedule: {state.schedule.summary}", file=out)
    if not args.check:
        return EXIT_OK
    for problem in state.problems:
        print(f"problem: {problem}", file=sys.stderr)
    return EXIT_OK if state.ok else EXIT_FAILED


CHECK_EXIT = {
    ScheduledKind.NOT_DUE: EXIT_OK,
    ScheduledKind.NOT_CONFIGURED: EXIT_INVALID,
    ScheduledKind.NO_CHANGES: EXIT_OK,
    ScheduledKind.APPLIED: EXIT_OK,
    ScheduledKind.HELD: EXIT_HELD,
    ScheduledKind.PARTIAL: EXIT_FAILED,
    ScheduledKind.FAILED: EXIT_FAILED,
    ScheduledKind.BUSY: EXIT_FAILED,
}


def cmd_check(service: SyncService, args: argparse.Namespace, out: TextIO) -> int:
    """One scheduled check now; a held plan exits 3, like a held ``sync``."""
    outcome = ScheduledSync(service).run_check()
    print(check_text(outcome), file=out)
    return CHECK_EXIT[outcome.kind]


def check_text(outcome: ScheduledOutcome) -> str:
    run = f" (run #{outcome.run_id})" if outcome.run_id is not None else ""
    lines = {
        ScheduledKind.NOT_DUE: "Not due: no scheduled sync today.",
        ScheduledKind.NOT_CONFIGURED: "Not configured: set up the Entra and Atlassian connections.",
        ScheduledKind.BUSY: f"Busy: {outcome.error}",
        ScheduledKind.NO_CHANGES: f"No changes{run}: Assets already matches the directory.",
        ScheduledKind.APPLIED: f"Applied{run}.",
        ScheduledKind.PARTIAL: f"Applied with failures{run}.",
        ScheduledKind.HELD: f"Held for approval{run}:",
        ScheduledKind.FAILED: f"Failed{run} ({outcome.cause or 'other'}): {outcome.error}",
    }
    text = [lines[outcome.kind]]
    text += [f"  {reason}" for reason in outcome.hold_reasons]
    if outcome.preview is not None:
        text.append(f"  Preview #{outcome.preview.id} waits for an approver.")
    result = outcome.result
    if result is not None and result.applied is not None:
        text.append(f"  applied {result.applied.succeeded}, failed {result.applied.failed}")
        failures = failures_text(result.applied.outcomes)
        text += [failures] if failures else []
    if outcome.requests:
        text.append(f"  {requests_text(dict(outcome.requests))} in {outcome.seconds:.2f}s")
    if outcome.alert is not None:
        alert = outcome.alert
        text.append(
            f"Quarantined: {alert.failures} scheduled syncs in a row failed "
            f"({alert.cause.value}) since {alert.since:%Y-%m-%d %H:%M} UTC. {alert.fix}"
        )
    return "\n".join(text)


def cmd_check_connection(service: SyncService, args: argparse.Namespace, out: TextIO) -> int:
    """Try every credential a sync uses, one line a step; 1 when any step fails."""
    check = check_connection(service)
    for step in check.steps:
        print(connection_line(step), file=out)
    return EXIT_OK if check.ok else EXIT_FAILED


def connection_line(step: CheckStep) -> str:
    """``ok      <step>: <what works>``, ``FAILED  <step>: <the fix>`` or ``skipped <step>``."""
    if step.ok:
        return one_line(f"ok      {step.name}: {step.message}")
    if step.message == SKIPPED:
        return f"skipped {step.name} (an earlier step failed)"
    return one_line(f"FAILED  {step.name}: {step.message}")


def cmd_history(service: SyncService, args: argparse.Namespace, out: TextIO) -> int:
    if args.person is not None:
        return cmd_person_history(service, args, out)
    if args.json:
        body = history_json(service.history(args.limit))
        print(json.dumps(body, indent=2, sort_keys=True), file=out)
        return EXIT_OK
    for run in service.history(args.limit):
        print(run_line(run), file=out)
        if run.requests:
            print(f"    {requests_text(dict(run.requests))}", file=out)
    return EXIT_OK


COMMANDS: dict[str, Callable[[SyncService, argparse.Namespace, TextIO], int]] = {
    "configure": cmd_configure,
    "rotate-key": cmd_rotate_key,
    "schema": cmd_schema,
    "preview": cmd_preview,
    "sync": cmd_sync,
    "status": cmd_status,
    "check": cmd_check,
    "check-connection": cmd_check_connection,
    "history": cmd_history,
    "explain": cmd_explain,
}


def run_db(settings: Settings, action: str, out: TextIO) -> int:
    """``db current`` and ``db upgrade``: on the database alone, no key or service needed."""
    if action == "upgrade":
        upgrade = upgrade_schema_of(settings)
        if upgrade.changed:
            print(f"Upgraded the database schema to revision {upgrade.after}.", file=out)
        else:
            print(f"The database schema is at revision {upgrade.after}: nothing to do.", file=out)
        return EXIT_OK
    print(f"Database: {schema_line(schema_of(settings))}", file=out)
    return EXIT_OK
