"""A throwaway PostgreSQL server for the test session: initdb into a temporary folder,
start on a free loopback port, stop and delete at the end.

The server binaries are looked for on ``PATH``, then where ``pg_config --bindir`` says,
then in the usual package folders. Tests skip, naming what is missing, when there is
no server or no psycopg; with ``REQUIRE_POSTGRES_TESTS=1`` (set by ``.ci/run``) they
fail instead, so CI can never pass by skipping them. PostgreSQL refuses to run as
root, so as root the server runs as the ``postgres`` user (or ``nobody``).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REQUIRE_ENV = "REQUIRE_POSTGRES_TESTS"
PACKAGE_BINDIRS = (
    "/usr/lib/postgresql/*/bin",  # Debian, Ubuntu
    "/usr/pgsql-*/bin",  # RHEL and Fedora (PGDG)
    "/opt/homebrew/opt/postgresql@*/bin",  # macOS Homebrew
    "/usr/local/opt/postgresql@*/bin",
)
START_TIMEOUT_SECONDS = 30


class Unavailable(Exception):
    """Why the PostgreSQL tests cannot run here: the sentence a skip shows."""


def find_bindir() -> Path:
    """The folder holding ``initdb`` and ``postgres``, or :class:`Unavailable` saying so."""
    candidates: list[Path] = []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            answer = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            )
            candidates.append(Path(answer.stdout.strip()))
    for pattern in PACKAGE_BINDIRS:
        found = sorted(glob.glob(pattern), key=_version_key, reverse=True)
        candidates.extend(Path(p) for p in found)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "postgres").is_file():
            return folder
    raise Unavailable(
        "PostgreSQL tests skipped: no PostgreSQL server binaries (initdb, postgres) on PATH, "
        f"from pg_config --bindir or in {', '.join(PACKAGE_BINDIRS)}; install the server "
        "(apt-get install postgresql, dnf install postgresql-server, brew install postgresql)"
    )


def require_psycopg() -> None:
    try:
        import psycopg  # noqa: F401, PLC0415
    except ImportError:
        raise Unavailable(
            "PostgreSQL tests skipped: the psycopg package is not installed "
            "(pip install -e '.[dev]', which includes the postgres extra)"
        ) from None


def _version_key(path: str) -> tuple[int, ...]:
    digits = "".join(ch if ch.isdigit() else " " for ch in path).split()
    return tuple(int(d) for d in digits)


@dataclass
class PostgresServer:
    """One running server; :meth:`create_database` gives each test its own database."""

    bindir: Path
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="entra-sync-pg-")))
    port: int = 0
    _process: subprocess.Popen[bytes] | None = None
    _databases: int = 0

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> PostgresServer:
        run_as = _unprivileged_user()
        data, sockets = self.root / "data", self.root / "sockets"
        sockets.mkdir()
        if run_as is not None:
            for path in (self.root, sockets):
                os.chown(path, run_as.pw_uid, run_as.pw_gid)
        initdb = [str(self.bindir / "initdb"), "-D", str(data), "-U", "postgres"]
        self._run([*initdb, "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"], run_as)
        self.port = _free_port()
        options = {
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": str(sockets),
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "60",
        }
        argv = [str(self.bindir / "postgres"), "-D", str(data), "-p", str(self.port)]
        for name, value in options.items():
            argv += ["-c", f"{name}={value}"]
        log = (self.root / "server.log").open("wb")
        self._process = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, **_as_user(run_as)
        )
        self._wait_until_ready()
        return self

    def create_database(self) -> str:
        """A new, empty database; its URL."""
        import psycopg  # noqa: PLC0415

        self._databases += 1
        name = f"test_{os.getpid()}_{self._databases}"
        with psycopg.connect(self._dsn("postgres"), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if self._process is not None:
            self._process.send_signal(2)  # SIGINT: fast shutdown, no waiting for clients
            try:
                self._process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        shutil.rmtree(self.root, ignore_errors=True)

    def _dsn(self, database: str) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={database}"

    def _wait_until_ready(self) -> None:
        import psycopg  # noqa: PLC0415

        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"PostgreSQL did not start: {self._log_tail()}")
            try:
                psycopg.connect(self._dsn("postgres"), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"PostgreSQL did not answer: {self._log_tail()}") from None
                time.sleep(0.1)

    def _run(self, argv: list[str], run_as: pwd.struct_passwd | None) -> None:
        done = subprocess.run(
            argv, capture_output=True, timeout=120, check=False, **_as_user(run_as)
        )
        if done.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed: {done.stderr.decode(errors='replace')[-2000:]}")

    def _log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return (self.root / "server.log").read_text(errors="replace")[-2000:]
        return "(no log)"


def _unprivileged_user() -> pwd.struct_passwd | None:
    """None when we are not root; else the account the server runs as."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise Unavailable("PostgreSQL tests skipped: running as root, and no postgres or nobody user")


def _as_user(run_as: pwd.struct_passwd | None) -> dict[str, Any]:
    if run_as is None:
        return {}
    return {"user": run_as.pw_uid, "group": run_as.pw_gid, "extra_groups": []}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
