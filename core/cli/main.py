"""``entra-sync``'s entry point: arguments, logging, one line for every failure.

Parses the command line, opens the service the settings name, and hands the
arguments to one command of :mod:`core.cli.commands`. Every failure ends here as
one line on stderr and its exit code, chosen by :mod:`core.cli.failures`;
``--debug`` prints the traceback before it.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import traceback
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, NoReturn

import httpx

from core.cli.commands import COMMANDS, EXIT_INVALID, run_db
from core.cli.failures import MAX_ECHO, Context, explain, one_line, shown_database
from core.cli.person import PERSON_HELP, add_person_commands
from core.config import ENV_DATABASE_URL, Settings, TokenKind, load_settings
from core.errors import ConfigError, FieldProblem, InvalidInput
from core.logs import level_number, process_logging
from core.runs import SyncService
from core.store import is_memory_database
from core.version import DISTRIBUTION, version

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


_TOKEN_KIND: dict[str, Any] = {
    "choices": ("classic", "scoped"),
    "default": "classic",
    "help": "which sandbox API token to use: classic (to the site) or scoped (through the "
    "gateway, as a service account's)",
}


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="entra-sync", description="Sync Microsoft Entra ID users into JSM Assets."
    )
    parser.add_argument("--version", action="version", version=f"{DISTRIBUTION} {version()}")
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
    sub.add_parser(
        "rotate-key",
        help="re-encrypt the stored client secret with the first key of "
        "ENTRA_SYNC_SECRET_KEY=NEW,OLD",
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
    sync.add_argument("--person", help="only this person (an email or an Atlassian account id)")
    stat = sub.add_parser(
        "status", help="last syncs, current run, next scheduled check and history"
    )
    stat.add_argument("--json", action="store_true", help="print the status as JSON")
    stat.add_argument(
        "--check",
        action="store_true",
        help="exit 1 when the last scheduled sync failed or quarantine is active (for monitoring)",
    )
    sub.add_parser("check", help="run the daily scheduled check now (for cron without the bot)")
    sub.add_parser(
        "check-connection",
        help="try every credential a sync uses (Microsoft, Jira, Assets, the org key); "
        "one line a step",
    )
    hist = sub.add_parser("history", help="recent runs")
    hist.add_argument("--limit", type=_whole(1, MAX_LIMIT), default=20)
    hist.add_argument("--json", action="store_true", help="print the runs as JSON")
    hist.add_argument("--person", help="only the writes for this person (" + PERSON_HELP + ")")
    add_person_commands(sub)
    demo = sub.add_parser("demo", help="the whole story on the built-in sandbox")
    demo.add_argument("--people", type=_whole(1, MAX_PEOPLE), default=60)
    demo.add_argument("--atlassian", type=_whole(0, MAX_PEOPLE), default=45)
    demo.add_argument("--seed", type=_whole(0, MAX_SEED), default=7)
    demo.add_argument("--token-kind", **_TOKEN_KIND)
    box = sub.add_parser("sandbox", help="serve the sandbox APIs on loopback over HTTPS")
    box.add_argument("--port", type=_whole(1, 65535), default=8443)
    box.add_argument("--people", type=_whole(1, MAX_PEOPLE), default=60)
    box.add_argument("--atlassian", type=_whole(0, MAX_PEOPLE), default=45)
    box.add_argument("--seed", type=_whole(0, MAX_SEED), default=7)
    box.add_argument("--cert-dir", type=Path, default=Path("data/sandbox-tls"))
    box.add_argument("--token-kind", **_TOKEN_KIND)
    db = sub.add_parser("db", help="the database schema: its revision, or upgrade it now")
    db.add_argument(
        "action",
        choices=["current", "upgrade"],
        help="current: show the revision; upgrade: bring it to this release's schema",
    )
    sub.add_parser("serve", help="run the Slack bot (Socket Mode if SLACK_APP_TOKEN, else HTTP)")
    health = sub.add_parser("healthcheck", help="exit 0 when the local serve answers /healthz")
    health.add_argument("--ready", action="store_true", help="ask /readyz instead")
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

        return run_demo(
            people=args.people,
            atlassian=args.atlassian,
            seed=args.seed,
            token_kind=TokenKind(args.token_kind),
        )
    if args.command == "sandbox":
        from core.cli.sandbox import serve_sandbox  # noqa: PLC0415

        return serve_sandbox(args)
    env_file = _env_file(args.env_file)
    if args.command == "healthcheck":
        from core.cli.healthcheck import run_healthcheck  # noqa: PLC0415

        return run_healthcheck(ready=args.ready, env_file=env_file)
    if args.command == "serve":
        from bot.serve import run_serve  # noqa: PLC0415

        return run_serve(env_file)
    settings = load_settings(env_file=env_file)
    context.database = shown_database(settings.database_url)
    if is_memory_database(settings.database_url):
        raise ConfigError([FieldProblem(ENV_DATABASE_URL, RULE_MEMORY_DATABASE)])
    context.opening_database = True
    if args.command == "db":
        return run_db(settings, args.action, sys.stdout)
    with _logging(settings):
        service = SyncService.open(settings, transport=transport)
        context.opening_database = False
        try:
            return COMMANDS[args.command](service, args, sys.stdout)
        finally:
            service.close()


def _logging(settings: Settings) -> AbstractContextManager[Any]:
    """Log on stderr when ``ENTRA_SYNC_LOG_LEVEL`` asks for it (cron jobs); else stay quiet.

    The command's own output is its report; logs are for a collector watching runs.
    """
    if settings.log_level is None:
        return contextlib.nullcontext()
    return process_logging(level_number(settings.log_level, logging.WARNING), settings.log_format)


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
