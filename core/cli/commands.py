"""``entra-sync``: the terminal shell over :class:`core.runs.service.SyncService`.

Exit codes: 0 success, 1 a run failed or partly failed (or the person answered no),
2 bad input or configuration (``sync`` without ``--yes`` and without a terminal),
3 held: the guard rails kept the plan for an approver and nothing was written.
Every failure is one line on stderr, chosen by :mod:`core.cli.failures`; ``--debug``
prints the traceback before it.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn, TextIO

import httpx

from core.cli.failures import MAX_ECHO, Context, explain, one_line, shown_database
from core.config import ENV_DATABASE_URL, load_settings
from core.errors import ConfigError, FieldProblem, InvalidInput
from core.runs import (
    ScheduledKind,
    ScheduledOutcome,
    ScheduledSync,
    SyncResult,
    SyncService,
    requests_text,
    run_line,
    status_text,
)
from core.store import RunStatus, is_memory_database
from core.sync import failures_text, plan_csv, plan_text

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_HELD = 0, 1, 2, 3
DEFAULT_ENV_FILE = Path(".env")
MAX_LIMIT = 10_000
MAX_PEOPLE = 20_000
MAX_SEED = 2**32 - 1
RULE_MEMORY_DATABASE = (
    "is an in-memory SQLite database, which keeps nothing once the command ends; "
    "use a file such as sqlite:///data/entra-sync.db"
)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and never echoes stray values)."""

    def error(self, message: str) -> NoReturn:
        self.exit(
            EXIT_INVALID,
            one_line(f"error: {_redacted(message)} (see {self.prog} --help)", MAX_ECHO) + "\n",
        )


def _redacted(message: str) -> str:
    """Unrecognised arguments may be a secret typed on the command line: show options only."""
    prefix = "unrecognized arguments: "
    if not message.startswith(prefix):
        return message
    options = [word.split("=", 1)[0] for word in message[len(prefix) :].split() if word[:1] == "-"]
    return prefix + (" ".join(options) if options else "values the command does not take")


def _whole(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high`` (never thousands of digits)."""

    def parse(text: str) -> int:
        digits = text.strip()
        if not digits.isascii() or not digits.isdigit() or len(digits.lstrip("0")) > len(str(high)):
            raise argparse.ArgumentTypeError(f"must be a whole number from {low} to {high}")
        value = int(digits)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be a whole number from {low} to {high}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="entra-sync", description="Sync Microsoft Entra ID users into JSM Assets."
    )
    parser.add_argument("--env-file", type=Path, help="settings file (default: .env if present)")
    parser.add_argument(
        "--debug", action="store_true", help="print the traceback of a failure, not only its line"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    conf = sub.add_parser("configure", help="store the Entra connection (secret from a prompt)")
    conf.add_argument("--tenant-id", required=True)
    conf.add_argument("--client-id", required=True)
    conf.add_argument("--cadence-days", required=True, help="scheduled sync every N days, 1-100")
    secret = conf.add_mutually_exclusive_group()
    secret.add_argument("--keep-secret", action="store_true", help="keep the stored client secret")
    secret.add_argument(
        "--reset-secret",
        action="store_true",
        help="the key of the stored secret is lost: discard that secret and store the one "
        "entered now (with a new key file if none exists)",
    )
    sub.add_parser("schema", help="create or complete the Entra Directory schema")
    prev = sub.add_parser("preview", help="show what a sync would change; writes nothing")
    prev.add_argument("--json", action="store_true", help="print the whole plan as JSON")
    prev.add_argument("--csv", type=Path, metavar="FILE", help="write every row to FILE")
    sync = sub.add_parser("sync", help="preview, then apply now")
    sync.add_argument("--yes", action="store_true", help="apply without asking")
    sync.add_argument(
        "--allow-mass-change",
        action="store_true",
        help="apply even when the guard rails would hold the plan (recorded in the audit)",
    )
    sub.add_parser("status", help="last syncs, current run, next scheduled check and history")
    sub.add_parser("check", help="run the daily scheduled check now (for cron without the bot)")
    hist = sub.add_parser("history", help="recent runs")
    hist.add_argument("--limit", type=_whole(1, MAX_LIMIT), default=20)
    demo = sub.add_parser("demo", help="the whole story on the built-in sandbox")
    demo.add_argument("--people", type=_whole(1, MAX_PEOPLE), default=60)
    demo.add_argument("--atlassian", type=_whole(0, MAX_PEOPLE), default=45)
    demo.add_argument("--seed", type=_whole(0, MAX_SEED), default=7)
    box = sub.add_parser("sandbox", help="serve the sandbox APIs on loopback over HTTPS")
    box.add_argument("--port", type=_whole(1, 65535), default=8443)
    box.add_argument("--people", type=_whole(1, MAX_PEOPLE), default=60)
    box.add_argument("--atlassian", type=_whole(0, MAX_PEOPLE), default=45)
    box.add_argument("--seed", type=_whole(0, MAX_SEED), default=7)
    box.add_argument("--cert-dir", type=Path, default=Path("data/sandbox-tls"))
    sub.add_parser("serve", help="run the Slack bot (Socket Mode if SLACK_APP_TOKEN, else HTTP)")
    return parser


def main(argv: Sequence[str] | None = None, *, transport: httpx.BaseTransport | None = None) -> int:
    """Run one command. ``transport`` replaces the network (the in-process sandbox).

    Every failure ends here as one line on stderr and its exit code
    (:func:`core.cli.failures.explain`); ``--debug`` prints the traceback first.
    """
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as done:  # --help, or a usage error already printed on one line
        return done.code if isinstance(done.code, int) else EXIT_INVALID
    if args.command != "serve":  # the bot sets up its own logging
        _configure_logging(debug=args.debug)
    context = Context()
    try:
        return _dispatch(args, transport, context)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        failure = explain(exc, context)
        if args.debug:
            traceback.print_exc()
        print(failure.line, file=sys.stderr)
        return failure.code


def _configure_logging(*, debug: bool) -> None:
    """Libraries log their own tracebacks (MSAL does, on a token answer it cannot read),
    which Python prints on stderr when nothing is configured: the one line says it
    instead. ``--debug`` shows them. A process that configured logging keeps its own.
    """
    root = logging.getLogger()
    if root.handlers:
        return
    if debug:
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    else:
        root.addHandler(logging.NullHandler())


def _dispatch(
    args: argparse.Namespace, transport: httpx.BaseTransport | None, context: Context
) -> int:
    # The demo, the sandbox server and the Slack bot are imported only when asked
    # for: the sandbox costs every other command about half a second of start-up,
    # Slack over a second.
    if args.command == "demo":
        from core.cli.demo import run_demo  # noqa: PLC0415

        return run_demo(people=args.people, atlassian=args.atlassian, seed=args.seed)
    if args.command == "sandbox":
        from core.cli.sandbox import serve_sandbox  # noqa: PLC0415

        return serve_sandbox(args)
    env_file = _env_file(args.env_file)
    if args.command == "serve":
        from bot.serve import run_serve  # noqa: PLC0415

        return run_serve(env_file)
    settings = load_settings(env_file=env_file)
    context.database = shown_database(settings.database_url)
    if is_memory_database(settings.database_url):
        raise ConfigError([FieldProblem(ENV_DATABASE_URL, RULE_MEMORY_DATABASE)])
    context.opening_database = True
    service = SyncService.open(settings, transport=transport)
    context.opening_database = False
    try:
        return COMMANDS[args.command](service, args, sys.stdout)
    finally:
        service.close()


def open_service(
    env_file: Path | None, transport: httpx.BaseTransport | None = None
) -> SyncService:
    """The service the environment (and ``env_file``) names: for tests and scripts."""
    return SyncService.open(load_settings(env_file=env_file), transport=transport)


def _env_file(given: Path | None) -> Path:
    """``--env-file`` must name a file; without it, ``.env`` is read if there is one."""
    if given is None:
        return DEFAULT_ENV_FILE
    if not given.is_file():
        raise InvalidInput([FieldProblem("--env-file", f"{given} is not a file")])
    return given


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
    print(status_text(service.status()), file=out)
    print(f"Schedule: {ScheduledSync(service).status().summary}", file=out)
    return EXIT_OK


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


def cmd_history(service: SyncService, args: argparse.Namespace, out: TextIO) -> int:
    for run in service.history(args.limit):
        print(run_line(run), file=out)
        if run.requests:
            print(f"    {requests_text(dict(run.requests))}", file=out)
    return EXIT_OK


COMMANDS: dict[str, Callable[[SyncService, argparse.Namespace, TextIO], int]] = {
    "configure": cmd_configure,
    "schema": cmd_schema,
    "preview": cmd_preview,
    "sync": cmd_sync,
    "status": cmd_status,
    "check": cmd_check,
    "history": cmd_history,
}


if __name__ == "__main__":
    sys.exit(main())
