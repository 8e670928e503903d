"""Bad input never ends in a traceback: one line, the documented exit code, nothing stored.

A table of bad inputs across ``configure`` arguments and standard input, the
environment (every ``ENTRA_SYNC_*`` setting), the key and database states, output
paths and server answers. Each case runs ``entra-sync`` in-process
(:func:`core.cli.main`) against the sandbox, in a directory of its own, and checks:

* the exit code: ``2`` for input and configuration, ``1`` for a failed run;
* stderr: exactly one line besides the ``...`` progress lines, starting ``error:``,
  naming the field or thing, and no traceback;
* nothing stored: the connection, previews, outcomes, audit and runs are as before
  (the record of a failed run aside), no file appeared (no key file, no CSV) or
  changed, and Assets received no write;
* no secret in anything printed.

``python -m tests.reliability`` prints the same cases as a table.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
import logging
import os
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Mapping
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, TextIO, cast

import httpx
import pytest
from cryptography.fernet import Fernet

import core.store.database
from core.cli import main
from core.cli.demo import sandbox_environ
from core.config import settings as settings_module
from core.sandbox import (
    SANDBOX_ATLASSIAN_API_TOKEN,
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_ORG_API_KEY,
    SANDBOX_TENANT_ID,
    Sandbox,
)

EXIT_FAILED, EXIT_INVALID = 1, 2
DB = "sync.db"
KEY = "secret.key"
TYPED_SECRET = "typed-secret-value-7Q"  # what the bad configure cases type for the secret
DB_PASSWORD = "hunter2-db-password"
OTHER_KEY = Fernet.generate_key().decode()
SECRETS = (
    SANDBOX_CLIENT_SECRET,
    SANDBOX_ATLASSIAN_API_TOKEN,
    SANDBOX_ORG_API_KEY,
    TYPED_SECRET,
    DB_PASSWORD,
    OTHER_KEY,
)
TENANT, CLIENT = SANDBOX_TENANT_ID, SANDBOX_CLIENT_ID
STORED_TABLES = (
    "entra_connection",
    "team_settings",
    "preview",
    "outcome",
    "audit_event",
    "sync_run",
)


class World(Enum):
    FRESH = "fresh"  # nothing configured, no database yet
    CONFIGURED = "configured"  # connection, schema in Assets, one pending preview


class Stdin(Enum):
    CLOSED = "closed"  # started with stdin closed: Python's sys.stdin is None
    CLOSED_FILE = "closed file"


Release = Callable[[], None]
Prepare = Callable[[Path], Release | None]


@dataclass(frozen=True)
class Answer:
    """What the server answers instead, to requests whose path ends with ``path``."""

    path: str
    body: bytes
    content_type: str | None = "application/json"
    status: int = 200

    def response(self) -> httpx.Response:
        headers = {"Content-Type": self.content_type} if self.content_type else {}
        return httpx.Response(self.status, content=self.body, headers=headers)


@dataclass(frozen=True)
class Case:
    """One bad input. ``{dir}`` in ``argv`` and ``env`` is the case's own directory."""

    name: str
    argv: tuple[str, ...]
    exit: int
    names: tuple[str, ...]  # the error line must contain each (case-insensitive)
    world: World = World.CONFIGURED
    env: Mapping[str, str | None] = field(default_factory=dict)  # None: unset it
    stdin: str | bytes | Stdin = ""
    prepare: Prepare | None = None
    answer: Answer | None = None

    @property
    def area(self) -> str:
        return self.name.split(":", 1)[0]


@dataclass(frozen=True)
class Outcome:
    case: Case
    code: int | None  # None: an exception escaped main
    out: str
    err: str
    escaped: str | None
    changed: tuple[str, ...]  # what was stored, created or written that should not be

    @property
    def lines(self) -> list[str]:
        """stderr without the progress lines ("... Reading Atlassian accounts")."""
        return [line for line in self.err.splitlines() if line and not line.startswith("... ")]

    @property
    def one_line(self) -> bool:
        lines = self.lines
        return (
            self.escaped is None
            and "Traceback" not in self.err
            and len(lines) == 1
            and lines[0].startswith("error: ")
        )

    @property
    def named(self) -> bool:
        line = " ".join(self.lines).lower()
        return all(name.lower() in line for name in self.case.names)

    @property
    def echoed(self) -> list[str]:
        return [secret for secret in SECRETS if secret in self.out + self.err]

    def problems(self) -> list[str]:
        found = []
        if self.escaped is not None:
            found.append(f"{self.escaped} escaped main")
        if self.code != self.case.exit:
            found.append(f"exit {self.code}, expected {self.case.exit}")
        if not self.one_line:
            found.append(f"stderr is not one error line: {self.err!r}")
        elif not self.named:
            found.append(f"the line does not name {self.case.names}: {self.lines[0]!r}")
        if self.changed:
            found.append(f"stored: {', '.join(self.changed)}")
        if self.echoed:
            found.append("a secret was printed")
        return found


# -- the cases ------------------------------------------------------------------------


def configure(
    *extra: str, tenant: str = TENANT, client: str = CLIENT, days: str = "7"
) -> tuple[str, ...]:
    return (
        "configure",
        "--tenant-id",
        tenant,
        "--client-id",
        client,
        "--cadence-days",
        days,
        *extra,
    )


def write(name: str, content: bytes) -> Prepare:
    def prepare(work: Path) -> None:
        (work / name).write_bytes(content)

    return prepare


def forget_kept_ids(work: Path) -> None:
    """A database that keeps no Assets ids, so the run asks Jira for the workspace."""
    with sqlite3.connect(work / DB) as connection:
        connection.execute("DELETE FROM assets_ids")
    connection.close()


def forget_sign_in(work: Path) -> None:
    """A database that keeps no sign-in answers, so the run signs in afresh."""
    with sqlite3.connect(work / DB) as connection:
        connection.execute("DELETE FROM sign_in_cache")
    connection.close()


def without_module(name: str) -> Prepare:
    """As if the package ``name`` were not installed (an extra left out), until released."""

    def prepare(work: Path) -> Release:
        saved = sys.modules.get(name)
        sys.modules[name] = None  # type: ignore[assignment]  # import raises ModuleNotFoundError

        def release() -> None:
            if saved is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = saved

        return release

    return prepare


def remove(name: str) -> Prepare:
    def prepare(work: Path) -> None:
        (work / name).unlink()

    return prepare


def folder(name: str) -> Prepare:
    def prepare(work: Path) -> None:
        target = work / name
        if target.is_file():
            target.unlink()
        target.mkdir()

    return prepare


def truncate(name: str, size: int | None = None) -> Prepare:
    """Cut the file to ``size`` bytes (default: half)."""

    def prepare(work: Path) -> None:
        data = (work / name).read_bytes()
        (work / name).write_bytes(data[: len(data) // 2 if size is None else size])

    return prepare


def locked(work: Path) -> Release:
    """Another process holds the database's write lock (readers may still read)."""
    holder = sqlite3.connect(work / DB, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    original = core.store.database.SQLITE_BUSY_TIMEOUT_SECONDS
    core.store.database.SQLITE_BUSY_TIMEOUT_SECONDS = 0  # give up at once, not after 30 s

    def release() -> None:
        core.store.database.SQLITE_BUSY_TIMEOUT_SECONDS = original
        holder.execute("ROLLBACK")
        holder.close()

    return release


def bad_env(name: str, value: str | None, command: str = "preview", *, area: str = "env") -> Case:
    """A bad value for one setting: exit 2, the line names the variable."""
    variable = f"ENTRA_SYNC_{name}"
    label = value if value is None or len(value) < 24 else f"{value[:12]}...({len(value)})"
    return Case(
        f"{area}:{name}={label!r}", (command,), EXIT_INVALID, (variable,), env={variable: value}
    )


def server(name: str, path: str, body: bytes, service: str, **answer: Any) -> Case:
    """A server answer that is not what was asked for: the run fails (1), naming the service."""
    return Case(
        f"answer:{name}",
        ("preview",),
        EXIT_FAILED,
        (service, "not JSON"),
        answer=Answer(path, body, **answer),
    )


HTML = b"<html><head><title>Sign in to the proxy</title></head>\n<body>Blocked</body></html>"
TRUNCATED = b'{"value": [{"id": "a", "displayName": "Ann'
NAMED_NOT_JSON = b'{"value": []}'  # fine JSON, served as a web page

CONFIGURE_CASES = (
    Case("configure:tenant not a GUID", configure(tenant="contoso"), 2, ("tenant_id",)),
    Case("configure:tenant 5,000 chars", configure(tenant="a" * 5000), 2, ("tenant_id",)),
    Case("configure:tenant control chars", configure(tenant=TENANT + "\x1b[2J"), 2, ("tenant_id",)),
    Case("configure:client not a GUID", configure(client="1234"), 2, ("client_id",)),
    Case("configure:client empty", configure(client=""), 2, ("client_id",)),
    Case("configure:cadence 0", configure(days="0"), 2, ("cadence_days",)),
    Case("configure:cadence 101", configure(days="101"), 2, ("cadence_days",)),
    Case("configure:cadence -3", configure(days="-3"), 2, ("cadence_days",)),
    Case("configure:cadence 7.5", configure(days="7.5"), 2, ("cadence_days",)),
    Case("configure:cadence a word", configure(days="weekly"), 2, ("cadence_days",)),
    Case("configure:cadence 5,000 digits", configure(days="9" * 5000), 2, ("cadence_days",)),
    Case("configure:cadence full-width 7", configure(days="\uff17"), 2, ("cadence_days",)),
    Case(
        "configure:secret empty line", configure(), 2, ("client_secret",), World.FRESH, stdin="\n"
    ),
    Case(
        "configure:secret blanks", configure(), 2, ("client_secret",), World.FRESH, stdin="  \t\n"
    ),
    Case("configure:secret no input", configure(), 2, ("client_secret",), World.FRESH, stdin=""),
    Case(
        "configure:secret invalid UTF-8",
        configure(),
        2,
        ("client_secret", "UTF-8"),
        World.FRESH,
        stdin=b"\xff\xfe" + TYPED_SECRET.encode() + b"\n",
    ),
    Case(
        "configure:stdin closed",
        configure(),
        2,
        ("client_secret", "closed"),
        World.FRESH,
        stdin=Stdin.CLOSED,
    ),
    Case(
        "configure:stdin closed file",
        configure(),
        2,
        ("client_secret", "closed"),
        World.FRESH,
        stdin=Stdin.CLOSED_FILE,
    ),
    Case(
        "configure:--keep-secret with none stored",
        configure("--keep-secret"),
        2,
        ("client_secret",),
        World.FRESH,
    ),
    Case(
        "configure:every field bad at once",
        configure(tenant="x", client="y", days="0"),
        2,
        ("tenant_id", "client_id", "cadence_days", "client_secret"),
        World.FRESH,
        stdin="\n",
    ),
    Case(
        "configure:required option missing",
        ("configure", "--client-id", CLIENT, "--cadence-days", "7"),
        2,
        ("--tenant-id",),
    ),
    Case(
        "configure:secret passed as an argument",
        (*configure(), "--client-secret", TYPED_SECRET),
        2,
        ("--client-secret",),
    ),
    Case(
        "configure:--keep-secret with --reset-secret",
        configure("--keep-secret", "--reset-secret"),
        2,
        ("--reset-secret",),
    ),
    Case(
        "configure:--keep-secret, key file deleted",
        configure("--keep-secret"),
        2,
        (KEY, "--reset-secret"),
        prepare=remove(KEY),
    ),
    Case(
        "configure:new secret, key file deleted",
        configure(),
        2,
        (KEY, "--reset-secret"),
        stdin=TYPED_SECRET + "\n",
        prepare=remove(KEY),
    ),
    Case(
        "configure:--keep-secret, another key set",
        configure("--keep-secret"),
        2,
        ("ENTRA_SYNC_SECRET_KEY",),
        env={"ENTRA_SYNC_SECRET_KEY": OTHER_KEY},
    ),
)

ARGUMENT_CASES = (
    Case("arguments:unknown command", ("frobnicate",), 2, ("frobnicate",)),
    Case(
        "arguments:unknown command, escapes and a newline",
        ("fro\x1b[2J\nb",),
        2,
        ("fro\\x1b[2J\\nb",),
    ),
    Case("arguments:unknown command, 5,000 chars", ("x" * 5000,), 2, ("invalid choice",)),
    Case(
        "arguments:history --limit 5,000 digits",
        ("history", "--limit", "9" * 5000),
        2,
        ("--limit",),
    ),
    Case("arguments:history --limit 0", ("history", "--limit", "0"), 2, ("--limit",)),
    Case("arguments:history --limit -5", ("history", "--limit", "-5"), 2, ("--limit",)),
    Case("arguments:history --limit ten", ("history", "--limit", "ten"), 2, ("--limit",)),
    Case(
        "arguments:demo --people 5,000 digits", ("demo", "--people", "9" * 5000), 2, ("--people",)
    ),
    Case("arguments:demo --people 0", ("demo", "--people", "0"), 2, ("--people",)),
    Case("arguments:demo --people 5", ("demo", "--people", "5"), 2, ("--people",)),
    Case("arguments:sandbox --port 70000", ("sandbox", "--port", "70000"), 2, ("--port",)),
    Case(
        "arguments:--env-file missing", ("--env-file", "{dir}/nope.env", "status"), 2, ("nope.env",)
    ),
    Case(
        "arguments:sync without --yes, stdin closed",
        ("sync",),
        2,
        ("--yes",),
        stdin=Stdin.CLOSED,
    ),
)

ENV_CASES = (
    bad_env("DATABASE_URL", "not a url"),
    bad_env("DATABASE_URL", "postgresql://db.example:port/sync"),
    bad_env("SECRET_KEY", "not-a-fernet-key"),
    bad_env("SECRET_KEY", f"{OTHER_KEY},short"),
    bad_env("SECRET_KEY", "\udcff" + OTHER_KEY),
    bad_env("ATLASSIAN_SITE", "http://contoso.atlassian.net"),
    bad_env("ATLASSIAN_SITE", "https://user:pw@contoso.atlassian.net"),
    bad_env("ATLASSIAN_SITE", "https://\udcffcontoso.atlassian.net"),
    bad_env("ATLASSIAN_EMAIL", "not-an-email"),
    bad_env("ATLASSIAN_API_TOKEN", None),
    bad_env("ATLASSIAN_ORG_ID", None),
    bad_env("ATLASSIAN_ORG_API_KEY", None),
    bad_env("ATLASSIAN_API_URL", "ftp://api.atlassian.com"),
    bad_env("CLOUD", "mars"),
    bad_env("LOGIN_URL", "login.microsoftonline.com"),
    bad_env("GRAPH_URL", "https://graph.microsoft.com:99999"),
    bad_env("ASSETS_RATE", "-1"),
    bad_env("ASSETS_RATE", "9" * 5000),
    bad_env("WRITE_CONCURRENCY", "0"),
    bad_env("WRITE_CONCURRENCY", "33"),
    bad_env("HTTP_TIMEOUT", "0"),
    bad_env("HTTP_TIMEOUT", "nan"),
    bad_env("HTTP_TIMEOUT", "1e9"),
    bad_env("PREVIEW_TTL_HOURS", "0"),
    bad_env("PREVIEW_TTL_HOURS", "8760"),
    bad_env("ALLOW_SELF_APPROVAL", "maybe"),
    bad_env("CHECK_TIME", "25:00"),
    bad_env("CHECK_TIME", "2pm"),
    bad_env("CHECK_TIMEZONE", "Mars/Olympus"),
    bad_env("CHECK_TIMEZONE", "../../etc/passwd"),
    bad_env("GUARD_MAX_INACTIVATIONS", "-1"),
    bad_env("GUARD_MAX_INACTIVATION_PERCENT", "150"),
    bad_env("GUARD_MIN_SOURCE_PERCENT", "most"),
    bad_env("GUARD_MAX_UPDATES", "fifty"),
    bad_env("GUARD_MAX_UPDATE_PERCENT", "-5"),
    bad_env("GUARD_MAX_CLEARS", "1e3"),
    bad_env("GUARD_MAX_CLEAR_PERCENT", "101"),
    bad_env("PREVIEW_REQUESTERS", "anyone"),
    bad_env("ATLASSIAN_TOKEN_KIND", "oauth"),
    bad_env("QUARANTINE_AFTER", "0"),
    bad_env("LEASE_TTL_SECONDS", "1"),
    bad_env("IN_CONTAINER", "docker"),
    bad_env("LOG_LEVEL", "verbose"),
    bad_env("LOG_FORMAT", "xml"),
    Case(
        "env:many bad at once",
        ("status",),
        2,
        ("ENTRA_SYNC_CLOUD", "ENTRA_SYNC_HTTP_TIMEOUT", "ENTRA_SYNC_CHECK_TIME"),
        env={
            "ENTRA_SYNC_CLOUD": "mars",
            "ENTRA_SYNC_HTTP_TIMEOUT": "-1",
            "ENTRA_SYNC_CHECK_TIME": "noon",
        },
    ),
    Case(
        "env:.env file not UTF-8",
        ("status",),
        2,
        (".env", "UTF-8"),
        prepare=write(".env", b"ENTRA_SYNC_CLOUD=\xff\xfe\n"),
    ),
)

DATABASE_CASES = (
    Case(
        "database:unknown dialect",
        ("status",),
        2,
        ("ENTRA_SYNC_DATABASE_URL", "foo://"),
        env={
            "ENTRA_SYNC_DATABASE_URL": "foo://db.example/sync",
            "ENTRA_SYNC_SECRET_KEY": OTHER_KEY,
        },
    ),
    Case(
        "database:postgresql without its driver",
        ("status",),
        2,
        ("ENTRA_SYNC_DATABASE_URL", "psycopg", "entra-assets-sync[postgres]"),
        env={
            "ENTRA_SYNC_DATABASE_URL": f"postgresql://sync:{DB_PASSWORD}@db.example/sync",
            "ENTRA_SYNC_SECRET_KEY": OTHER_KEY,
        },
        prepare=without_module("psycopg"),
    ),
    Case(
        "database:mysql without its driver",
        ("status",),
        2,
        ("ENTRA_SYNC_DATABASE_URL",),
        env={
            "ENTRA_SYNC_DATABASE_URL": f"mysql://sync:{DB_PASSWORD}@db.example/sync",
            "ENTRA_SYNC_SECRET_KEY": OTHER_KEY,
        },
    ),
    Case(
        "database:postgresql without a secret key",
        ("status",),
        2,
        ("ENTRA_SYNC_SECRET_KEY", "not a local SQLite file"),
        env={"ENTRA_SYNC_DATABASE_URL": f"postgresql://sync:{DB_PASSWORD}@db.example/sync"},
    ),
    Case(
        "database:in a container without a secret key",
        ("status",),
        2,
        ("ENTRA_SYNC_SECRET_KEY", "ENTRA_SYNC_IN_CONTAINER"),
        env={"ENTRA_SYNC_IN_CONTAINER": "1"},
    ),
    Case(
        "database:in-memory sqlite://",
        configure(),
        2,
        ("ENTRA_SYNC_DATABASE_URL", "in-memory"),
        World.FRESH,
        env={"ENTRA_SYNC_DATABASE_URL": "sqlite://"},
        stdin=TYPED_SECRET + "\n",
    ),
    Case(
        "database:in-memory :memory:",
        ("status",),
        2,
        ("ENTRA_SYNC_DATABASE_URL", "in-memory"),
        env={"ENTRA_SYNC_DATABASE_URL": "sqlite:///:memory:"},
    ),
    Case(
        "database:in-memory URI",
        ("status",),
        2,
        ("ENTRA_SYNC_DATABASE_URL", "in-memory"),
        env={"ENTRA_SYNC_DATABASE_URL": "sqlite:///file:entra?mode=memory&uri=true"},
    ),
    Case(
        "database:path under a file",
        ("status",),
        2,
        ("notes.txt",),
        env={"ENTRA_SYNC_DATABASE_URL": "sqlite:///{dir}/notes.txt/sync.db"},
        prepare=write("notes.txt", b"not a folder\n"),
    ),
    Case(
        "database:path deeper under a file",
        ("status",),
        2,
        ("notes.txt",),
        env={"ENTRA_SYNC_DATABASE_URL": "sqlite:///{dir}/notes.txt/db/sync.db"},
        prepare=write("notes.txt", b"not a folder\n"),
    ),
    Case(
        "database:path is a folder",
        ("status",),
        2,
        ("database", "cannot be opened"),
        World.FRESH,
        prepare=folder(DB),
    ),
    Case(
        "database:corrupt file",
        ("status",),
        2,
        ("database", DB, "damaged"),
        prepare=write(DB, b"SQLite? no: " + bytes(range(256)) * 64),
    ),
    Case(
        "database:truncated to half",
        ("status",),
        2,
        ("database", DB),
        prepare=truncate(DB),
    ),
    Case(
        "database:only its header left",
        ("preview",),
        2,
        ("database", DB),
        prepare=truncate(DB, 100),
    ),
    Case(
        "database:locked by another process",
        ("preview",),
        1,
        ("database", DB, "locked"),
        prepare=locked,
    ),
    Case(
        "database:read-only",
        ("preview",),
        2,
        ("database", DB, "read-only"),
        env={"ENTRA_SYNC_DATABASE_URL": "sqlite:///file:{dir}/sync.db?mode=ro&uri=true"},
    ),
)

KEY_CASES = (
    Case("key:file deleted", ("preview",), 2, (KEY, "--reset-secret"), prepare=remove(KEY)),
    Case("key:file corrupt", ("preview",), 2, (KEY,), prepare=write(KEY, b"corrupted\n")),
    Case("key:file empty", ("status",), 2, (KEY,), prepare=write(KEY, b"")),
    Case("key:file is a folder", ("status",), 2, (KEY,), prepare=folder(KEY)),
    Case(
        "key:file holds another key",
        ("preview",),
        2,
        (KEY, "--reset-secret"),
        prepare=write(KEY, OTHER_KEY.encode() + b"\n"),
    ),
    Case(
        "key:another key in ENTRA_SYNC_SECRET_KEY",
        ("preview",),
        2,
        ("ENTRA_SYNC_SECRET_KEY",),
        env={"ENTRA_SYNC_SECRET_KEY": OTHER_KEY},
    ),
    Case(
        "key:file deleted, sync",
        ("sync", "--yes"),
        2,
        (KEY,),
        prepare=remove(KEY),
    ),
)

OUTPUT_CASES = (
    Case("output:--csv into a folder", ("preview", "--csv", "{dir}"), 2, ("folder",)),
    Case("output:--csv ''", ("preview", "--csv", ""), 2, ("folder",)),
    Case(
        "output:--csv in a missing folder",
        ("preview", "--csv", "{dir}/nope/plan.csv"),
        2,
        ("nope/plan.csv", "does not exist"),
    ),
    Case(
        "output:--csv path with escapes and a newline",
        ("preview", "--csv", "{dir}/no\x1b[2J\npe/plan.csv"),
        2,
        ("no\\x1b[2J pe/plan.csv", "does not exist"),
    ),
    Case(
        "output:--csv under a file",
        ("preview", "--csv", "{dir}/notes.txt/plan.csv"),
        2,
        ("notes.txt/plan.csv",),
        prepare=write("notes.txt", b"not a folder\n"),
    ),
    Case(
        "output:--csv a read-only file system",
        ("preview", "--csv", "/sys/entra-plan.csv"),
        2,
        ("entra-plan.csv",),
    ),
)

ANSWER_CASES = (
    server(
        "Graph users, an HTML page", "/v1.0/users/delta", HTML, "graph", content_type="text/html"
    ),
    server("Graph users, empty body", "/v1.0/users/delta", b"", "graph"),
    server("Graph users, truncated JSON", "/v1.0/users/delta", TRUNCATED, "graph"),
    server(
        "Graph users, JSON as text/html",
        "/v1.0/users/delta",
        NAMED_NOT_JSON,
        "graph",
        content_type="text/html",
    ),
    server(
        "Graph users, binary", "/v1.0/users/delta", bytes(range(256)), "graph", content_type=None
    ),
    Case(
        "answer:Graph $count, an HTML page",
        ("preview",),
        1,
        ("graph", "count"),
        answer=Answer("/users/$count", HTML, "text/html"),
    ),
    server("Jira search, an HTML page", "/users/search", HTML, "jira", content_type="text/html"),
    server("Jira search, empty body", "/users/search", b"", "jira"),
    server("Jira search, truncated JSON", "/users/search", b'[{"accountId": "5b1', "jira"),
    dataclasses.replace(
        server(
            "Jira workspace, an HTML page",
            "/assets/workspace",
            HTML,
            "jira",
            content_type="text/html",
        ),
        prepare=forget_kept_ids,
    ),
    server(
        "org admin, an HTML page",
        "/orgs/sandbox-org/users",
        HTML,
        "admin",
        content_type="text/html",
    ),
    server(
        "Assets schemas, an HTML page",
        "/objectschema/list",
        HTML,
        "assets",
        content_type="text/html",
    ),
    server("Assets schemas, empty body", "/objectschema/list", b"", "assets"),
    server("Assets AQL, an HTML page", "/object/aql", HTML, "assets", content_type="text/html"),
    server("Assets AQL, truncated JSON", "/object/aql", b'{"values": [{"id": "1"', "assets"),
    server(
        "Assets AQL, text/plain",
        "/object/aql",
        b'{"values": []}',
        "assets",
        content_type="text/plain",
    ),
    Case(
        "answer:Jira search, 400 with a web page",
        ("preview",),
        1,
        ("jira", "400", "Blocked"),
        answer=Answer("/users/search", HTML, "text/html", status=400),
    ),
    Case(
        "answer:a proxy's redirect to its sign-in page",
        ("preview",),
        1,
        ("jira", "302"),
        answer=Answer("/users/search", HTML, "text/html", status=302),
    ),
    Case(
        "answer:sign-in discovery, an HTML page",
        ("preview",),
        1,
        ("login",),
        answer=Answer("/openid-configuration", HTML, "text/html"),
        prepare=forget_sign_in,
    ),
    Case(
        "answer:sign-in token, an HTML page",
        ("preview",),
        1,
        ("login",),
        answer=Answer("/oauth2/v2.0/token", HTML, "text/html"),
        prepare=forget_sign_in,
    ),
)

CASES: tuple[Case, ...] = (
    CONFIGURE_CASES
    + ARGUMENT_CASES
    + ENV_CASES
    + DATABASE_CASES
    + KEY_CASES
    + OUTPUT_CASES
    + ANSWER_CASES
)


# -- running a case -------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    """A configured installation to copy: database and key file, and its sandbox."""

    directory: Path
    sandbox: Sandbox


@functools.cache
def template() -> Template:
    """Built once per process: configure, create the schema, store one pending preview."""
    holder = tempfile.TemporaryDirectory(prefix="entra-bad-input-")
    directory = Path(holder.name)
    _keep.append(holder)
    sandbox = Sandbox(seed=7, people=40, atlassian=30)
    transport = httpx.MockTransport(sandbox.handle)
    environ = _environ(directory, {})
    steps: list[tuple[tuple[str, ...], str]] = [
        (configure(), SANDBOX_CLIENT_SECRET + "\n"),
        (("schema",), ""),
        (("preview",), ""),
    ]
    for argv, stdin in steps:
        code, _, err, escaped = invoke(argv, environ, stdin, directory, transport)
        assert code == 0 and escaped is None, f"{argv}: {err}"
    return Template(directory, sandbox)


_keep: list[tempfile.TemporaryDirectory[str]] = []


def run_case(case: Case, work: Path) -> Outcome:
    """Run ``case`` in the empty directory ``work``; report what happened."""
    base = template()
    if case.world is World.CONFIGURED:
        for name in (DB, KEY):
            shutil.copy2(base.directory / name, work / name)
    release = case.prepare(work) if case.prepare is not None else None
    before = stored_state(work, base.sandbox)
    argv = tuple(arg.replace("{dir}", str(work)) for arg in case.argv)
    answer = case.answer

    def handle(request: httpx.Request) -> httpx.Response:
        if answer is not None and request.url.path.endswith(answer.path):
            return answer.response()
        return base.sandbox.handle(request)

    try:
        code, out, err, escaped = invoke(
            argv, _environ(work, case.env), case.stdin, work, httpx.MockTransport(handle)
        )
    finally:
        if release is not None:
            release()
    after = stored_state(work, base.sandbox)
    changed = tuple(
        key for key in sorted(set(before) | set(after)) if before.get(key) != after.get(key)
    )
    return Outcome(case, code, out, err, escaped, changed)


def _environ(work: Path, overrides: Mapping[str, str | None]) -> dict[str, str | None]:
    environ: dict[str, str | None] = dict(sandbox_environ(f"sqlite:///{work / DB}"))
    for name, value in overrides.items():
        environ[name] = value.replace("{dir}", str(work)) if value is not None else None
    return environ


def invoke(
    argv: tuple[str, ...],
    environ: Mapping[str, str | None],
    stdin: str | bytes | Stdin,
    cwd: Path,
    transport: httpx.BaseTransport,
) -> tuple[int | None, str, str, str | None]:
    """``entra-sync argv`` in this process: (exit code, stdout, stderr, what escaped)."""
    saved_environ, saved_cwd, saved_stdin = dict(os.environ), Path.cwd(), sys.stdin
    # As in a real process, no logging is configured: pytest's capture would hide what
    # a library logs, which Python then prints on stderr.
    root = logging.getLogger()
    saved_handlers, root.handlers = root.handlers, []
    out, err = io.StringIO(), io.StringIO()
    try:
        for name in [name for name in os.environ if name.startswith("ENTRA_SYNC_")]:
            del os.environ[name]
        os.environ.update({name: value for name, value in environ.items() if value is not None})
        os.chdir(cwd)
        sys.stdin = _stdin(stdin)
        with redirect_stdout(out), redirect_stderr(err):
            code = main(list(argv), transport=transport)
    except BaseException as exc:  # what escapes main is the finding
        return None, out.getvalue(), err.getvalue(), type(exc).__name__
    finally:
        root.handlers = saved_handlers
        os.environ.clear()
        os.environ.update(saved_environ)
        os.chdir(saved_cwd)
        sys.stdin = saved_stdin
    return code, out.getvalue(), err.getvalue(), None


def _stdin(stdin: str | bytes | Stdin) -> TextIO:
    if stdin is Stdin.CLOSED:
        return cast(TextIO, None)
    if stdin is Stdin.CLOSED_FILE:
        closed = io.StringIO()
        closed.close()
        return closed
    if isinstance(stdin, bytes):
        return io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    return io.StringIO(stdin)


def stored_state(work: Path, sandbox: Sandbox) -> dict[str, object]:
    """What a failure must leave as it was.

    Every file but the database by content; the database by its rows (a database
    that does not exist counts as empty, runs that failed are left out: they are the
    record of the failure), or by its bytes when it cannot be read; and the number
    of writes Assets received.
    """
    state: dict[str, object] = {}
    for path in sorted(work.rglob("*")):
        name = str(path.relative_to(work))
        if path.is_file() and not name.startswith(DB):
            state[f"file {name}"] = hashlib.sha256(path.read_bytes()).hexdigest()
    state.update(_database_rows(work / DB))
    state["Assets writes"] = sum(
        1
        for service, method, path in sandbox.request_log
        if service == "assets" and method != "GET" and "/object/aql" not in path
    )
    return state


def _database_rows(path: Path) -> dict[str, object]:
    if not path.is_file():
        return {}
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
            rows: dict[str, object] = {}
            for table in STORED_TABLES:
                if table not in tables:
                    continue
                query = f"SELECT * FROM {table}"  # noqa: S608 - names from STORED_TABLES
                if table == "sync_run":
                    query += " WHERE status != 'failed'"
                found = connection.execute(query).fetchall()
                if found:
                    rows[f"table {table}"] = found
        connection.close()
    except sqlite3.DatabaseError:
        return {"database file": hashlib.sha256(path.read_bytes()).hexdigest()}
    return rows


# -- the test -------------------------------------------------------------------------


def test_the_table_has_at_least_sixty_cases_with_unique_names() -> None:
    assert len(CASES) >= 60
    assert len({case.name for case in CASES}) == len(CASES)


def test_every_setting_has_a_bad_value_case() -> None:
    """A new ENTRA_SYNC_* setting needs its bad values here too."""
    variables = {
        value
        for name, value in vars(settings_module).items()
        if name.startswith("ENV_") and isinstance(value, str)
    }
    covered = {name for case in CASES for name in case.env}
    assert variables - covered == set()


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input(case: Case, tmp_path: Path) -> None:
    outcome = run_case(case, tmp_path)
    assert outcome.problems() == [], f"{outcome.out}\n{outcome.err}"
