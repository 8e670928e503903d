"""The schema's revision: read it, and upgrade to the newest under a database-wide lock.

Every process upgrades at start (:class:`core.store.Store`), and ``entra-sync db
upgrade`` does it on demand. Two replicas starting together must not both create
the same table, so the upgrade runs in one transaction that first takes a lock every
other upgrader waits for: a transaction-scoped advisory lock on PostgreSQL, ``BEGIN
IMMEDIATE`` (the database's write lock) on SQLite. The second process then finds the
schema current and does nothing. A revision this release does not know means the
database was upgraded by a newer release: nothing runs, :class:`DatabaseNewer` says so.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

from core.errors import SyncError

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory

log = logging.getLogger(__name__)

REVISIONS = Path(__file__).parent / "revisions"
ADVISORY_LOCK_KEY = 0x656E7472_6173796E  # "entrasyn": one lock id for every replica
"""PostgreSQL advisory locks are one 64-bit number shared by the whole server."""
VERSION_TABLE = "alembic_version"
HEAD = "0003"
"""The newest revision this release ships (tests/test_schema.py holds it to the scripts).

A database already there is recognised with one query and without Alembic, which
costs a process about 11 MiB and 100 ms to import: every start but an upgrade's."""


class DatabaseNewer(SyncError):
    """The database carries a revision this release does not know: a newer one upgraded it."""


@dataclass(frozen=True, slots=True)
class SchemaState:
    """``current`` is None for an empty database, or one an older release made
    (``legacy``: it has our tables but no revision yet)."""

    current: str | None
    head: str
    legacy: bool = False

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


@dataclass(frozen=True, slots=True)
class SchemaUpgrade:
    before: SchemaState
    after: str

    @property
    def changed(self) -> bool:
        return self.before.current != self.after


@functools.cache
def _scripts() -> ScriptDirectory:
    """The revisions shipped with this release, read once per process."""
    from alembic.script import ScriptDirectory  # noqa: PLC0415 - only when not current

    return ScriptDirectory(str(REVISIONS))


def head_revision() -> str:
    head = _scripts().get_current_head()
    if head is None:  # pragma: no cover - the package always ships the baseline
        raise SyncError("no schema revisions are installed")
    return head


def schema_state(engine: Engine) -> SchemaState:
    """Where the database is, without changing it."""
    with engine.connect() as connection:
        if _recorded_revision(connection) == HEAD:
            return SchemaState(HEAD, HEAD)
        return _state(connection)


def _recorded_revision(connection: Connection) -> str | None:
    """The revision the database records, read without Alembic; None if it has none."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    row = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).first()  # noqa: S608
    return None if row is None else str(row[0])


def upgrade_schema(engine: Engine) -> SchemaUpgrade:
    """Bring the database to the newest revision; a no-op when it is there already.

    A current database is read without the lock, so a start never waits on it; anything
    else is read again under the lock, where another process may have finished first.
    """
    current = schema_state(engine)
    if current.up_to_date:
        return SchemaUpgrade(current, current.head)
    with _migration_lock(engine) as connection:
        before = _state(connection)
        if not before.up_to_date:
            from alembic import command  # noqa: PLC0415 - only when there is work
            from alembic.config import Config  # noqa: PLC0415

            config = Config()
            config.set_main_option("script_location", str(REVISIONS).replace("%", "%%"))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            log.info(
                "database schema upgraded from %s to %s",
                before.current or ("an older release" if before.legacy else "empty"),
                before.head,
            )
        return SchemaUpgrade(before, before.head)


def _state(connection: Connection) -> SchemaState:
    from alembic.runtime.migration import MigrationContext  # noqa: PLC0415

    current = MigrationContext.configure(connection).get_current_revision()
    head = head_revision()
    if current is not None and current != head and _unknown(current):
        raise DatabaseNewer(
            f"the database is at schema revision {current}, which this release does not "
            f"know (its newest is {head}): a newer release upgraded it. Run that release "
            "or a later one, or restore the backup taken before the upgrade"
        )
    legacy = current is None and bool(set(inspect(connection).get_table_names()) - {VERSION_TABLE})
    return SchemaState(current, head, legacy)


def _unknown(revision: str) -> bool:
    try:
        return _scripts().get_revision(revision) is None
    except Exception:  # alembic raises its own errors for an unknown id
        return True


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that holds the database's migration lock.

    Committed on success, rolled back on any error; either ends the lock.
    """
    with engine.connect() as connection:
        backend = connection.dialect.name
        if backend == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        elif backend == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
            )
        try:
            yield connection
        except BaseException:
            connection.rollback()
            raise
        connection.commit()
