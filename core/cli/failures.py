"""One line for every failure: the command line's table from exceptions to exit codes.

Whatever a command raises reaches :func:`explain`, which turns it into the one line
printed on stderr and the exit code: ``2`` when the person must fix an input or the
configuration (an argument, a variable, a path, the database file, the key), ``1``
when a run failed (a service, a database busy with another process). Nothing else in
the command line catches an exception to print it; ``--debug`` adds the traceback.

A line names the thing (a field, a variable, a path, a service) and the fix, and
never a secret: database URLs are shown with the password hidden, and SQLAlchemy's
own messages, which carry SQL statements and their parameters, are never printed.
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from core.config import ENV_DATABASE_URL
from core.errors import InvalidInput, SchemaConflict, SchemaMissing, SyncError
from core.store import DatabaseNewer

EXIT_FAILED, EXIT_INVALID = 1, 2
MAX_ECHO = 400  # a usage error quotes what was typed, which may be anything


@dataclass(frozen=True)
class Failure:
    line: str
    code: int


@dataclass
class Context:
    """What a line may name, filled in by the command line as it gets that far."""

    database: str | None = None  # ENTRA_SYNC_DATABASE_URL with the password hidden
    opening_database: bool = False


def explain(exc: BaseException, context: Context) -> Failure:
    """The line and the exit code for ``exc``: the first rule whose type matches."""
    for types, rule in RULES:
        if isinstance(exc, types):
            failure = rule(exc, context)
            break
    else:
        failure = _unexpected(exc, context)
    return Failure(one_line(failure.line), failure.code)


def one_line(text: str, limit: int | None = None) -> str:
    """``text`` on one line: whitespace runs become one space, control characters escaped.

    ``limit`` cuts a line that echoes what a person typed; the engine's own messages
    are never cut, since they name every bad field at once.
    """
    printable = "".join(
        " " if ch.isspace() else ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text
    )
    line = " ".join(printable.split())
    return line if limit is None or len(line) <= limit else line[: limit - 1] + "…"


def shown_database(database_url: str) -> str:
    """The database URL as a line may show it: never its password."""
    try:
        shown: str = make_url(database_url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return ENV_DATABASE_URL
    return shown


# -- the rules ------------------------------------------------------------------------


def _invalid(exc: BaseException, context: Context) -> Failure:
    return Failure(f"error: {exc}", EXIT_INVALID)


def _failed(exc: BaseException, context: Context) -> Failure:
    return Failure(f"error: {exc}", EXIT_FAILED)


def _unknown_dialect(exc: NoSuchModuleError, context: Context) -> Failure:
    database = context.database or "the database URL"
    return Failure(
        f"error: {ENV_DATABASE_URL}: SQLAlchemy has no dialect for {database}; use "
        "sqlite:///path/to/file.db, or install the dialect's package",
        EXIT_INVALID,
    )


def _missing_module(exc: ModuleNotFoundError, context: Context) -> Failure:
    if context.opening_database and (exc.name or "").startswith("psycopg"):
        return Failure(
            f"error: {ENV_DATABASE_URL}: {context.database} needs the postgres extra (the "
            "psycopg package), which is not installed: pip install 'entra-assets-sync[postgres]'",
            EXIT_INVALID,
        )
    if context.opening_database:
        return Failure(
            f"error: {ENV_DATABASE_URL}: {context.database} needs the Python package "
            f"{exc.name}, which is not installed; install it, or use sqlite:///path/to/file.db",
            EXIT_INVALID,
        )
    return Failure(
        f"error: the Python package {exc.name} is not installed; reinstall "
        "entra-assets-sync with its dependencies",
        EXIT_INVALID,
    )


# What SQLite (and most drivers) say, lower-cased, and what it means for the person.
_DATABASE_PROBLEMS: tuple[tuple[tuple[str, ...], str, str, int], ...] = (
    (
        ("locked", "busy"),
        "is locked by another process",
        "try again when that process has finished",
        EXIT_FAILED,
    ),
    (
        ("readonly", "read-only"),
        "is read-only",
        f"make the file and its folder writable for this user, or point {ENV_DATABASE_URL} "
        "at a writable file",
        EXIT_INVALID,
    ),
    (
        ("unable to open",),
        "cannot be opened",
        f"{ENV_DATABASE_URL} must name a file in a folder this user can write",
        EXIT_INVALID,
    ),
    (
        ("not a database", "malformed", "corrupt"),
        "is damaged or not a SQLite database",
        f"restore it from a backup, or point {ENV_DATABASE_URL} at a new file",
        EXIT_INVALID,
    ),
)


def _database(exc: DBAPIError, context: Context) -> Failure:
    """A driver error: its own first line (never the SQL), classified by what it says."""
    reason = _first_line(exc.orig) if exc.orig is not None else type(exc).__name__
    database = context.database or "the database"
    lowered = reason.lower()
    for words, problem, fix, code in _DATABASE_PROBLEMS:
        if any(word in lowered for word in words):
            return Failure(f"error: database {database} {problem} ({reason}); {fix}", code)
    return Failure(f"error: database {database}: {reason}", EXIT_FAILED)


def _database_other(exc: SQLAlchemyError, context: Context) -> Failure:
    database = context.database or "the database"
    return Failure(
        f"error: database {database}: {type(exc).__name__}; rerun with --debug for details",
        EXIT_FAILED,
    )


def _not_text(exc: UnicodeError, context: Context) -> Failure:
    return Failure(
        "error: some input is not UTF-8 text (an argument, standard input or the .env file); "
        "fix its encoding",
        EXIT_INVALID,
    )


def _end_of_input(exc: EOFError, context: Context) -> Failure:
    return Failure(
        "error: standard input ended before an answer was read; answer on a terminal, or use --yes",
        EXIT_INVALID,
    )


_OS_PROBLEMS: dict[int, tuple[str, str]] = {
    errno.ENOENT: ("does not exist", "create its folder, or choose another path"),
    errno.EACCES: ("permission denied", "fix its permissions, or choose another path"),
    errno.EPERM: ("permission denied", "fix its permissions, or choose another path"),
    errno.EISDIR: ("is a folder", "give the path of a file"),
    errno.ENOTDIR: ("part of the path is a file, not a folder", "choose another path"),
    errno.EEXIST: ("is a file where a folder is needed", "move it, or choose another path"),
    errno.EROFS: ("is on a read-only file system", "choose a writable place"),
    errno.ENOSPC: ("no space is left on the device", "free some space"),
    errno.ENAMETOOLONG: ("the name is too long", "choose a shorter path"),
}


def _os_error(exc: OSError, context: Context) -> Failure:
    """A path the person gave or configured: named, with the fix; exit 2."""
    what, fix = _OS_PROBLEMS.get(exc.errno or 0, (exc.strerror or type(exc).__name__, ""))
    if exc.filename is None:
        return Failure(f"error: {what}" + (f"; {fix}" if fix else ""), EXIT_FAILED)
    where = exc.filename if isinstance(exc.filename, str) else repr(exc.filename)
    return Failure(f"error: {where}: {what}" + (f"; {fix}" if fix else ""), EXIT_INVALID)


def _unexpected(exc: BaseException, context: Context) -> Failure:
    """A failure no rule knows is a bug: its type only (its text might hold anything)."""
    return Failure(
        f"error: unexpected {type(exc).__name__}; rerun with --debug to see where, and report it",
        EXIT_FAILED,
    )


def _first_line(value: object) -> str:
    lines = str(value).strip().splitlines()
    return lines[0] if lines else type(value).__name__


Rule = Callable[[Any, Context], Failure]

RULES: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], Rule], ...] = (
    ((InvalidInput, SchemaConflict, SchemaMissing, DatabaseNewer), _invalid),
    (SyncError, _failed),
    (NoSuchModuleError, _unknown_dialect),
    (DBAPIError, _database),
    (SQLAlchemyError, _database_other),
    (ModuleNotFoundError, _missing_module),
    (UnicodeError, _not_text),
    (EOFError, _end_of_input),
    (OSError, _os_error),
)
"""First match wins, so a subclass comes before its base (ConfigError is InvalidInput)."""
