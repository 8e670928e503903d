"""A database with a real installation's data in it, and every row of it, for schema tests.

The data comes from the engine itself on the sandbox (a configured connection, team
settings, a kept preview, an applied sync, a Slack delivery), so it has the shape the
released code writes. :func:`age` turns the database back into what the release before
Alembic left behind: no revision table, and optionally without what it did not have yet.
"""

from __future__ import annotations

import threading
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from cryptography.fernet import Fernet
from sqlalchemy import MetaData, inspect, select, text
from sqlmodel import SQLModel

from core.cli.demo import configure_sandbox, sandbox_environ, sandbox_service
from core.config import TeamSettings, load_settings
from core.runs import SyncService
from core.sandbox import Sandbox
from core.store.database import make_engine
from core.store.revisions.versions.r0001_baseline import baseline
from core.store.schema import upgrade_schema

KEY = Fernet.generate_key().decode()
ADDED_SINCE_FIRST_RELEASE = {
    "preview": ("channel", "message_ts", "shown_status", "hold_reasons"),
    "sync_run": ("cause",),
}
"""Columns releases before Alembic added to existing tables with ``ALTER TABLE``."""
TABLES_SINCE_FIRST_RELEASE = ("team_settings", "slack_delivery")


def service_on(database_url: str, *, latency: float = 0.0) -> tuple[SyncService, Sandbox]:
    """The engine on ``database_url`` and its own sandbox, with one shared secret key."""
    sandbox = Sandbox(seed=7, people=60, atlassian=45, latency=latency)
    environ = {**sandbox_environ(database_url), "ENTRA_SYNC_SECRET_KEY": KEY}
    return sandbox_service(sandbox, load_settings(environ, env_file=None)), sandbox


def fill(database_url: str) -> None:
    """Everything a working installation stores, written by the engine."""
    service, _ = service_on(database_url)
    try:
        configure_sandbox(service)
        service.save_team_settings(TeamSettings("C0REPORTS", ("UAPPROVER",)), "UADMIN")
        service.create_schema("UADMIN")
        service.preview("UAPPROVER")
        assert service.sync("UAPPROVER").applied is not None
        assert service.first_delivery("trigger-1")
    finally:
        service.close()
        service.store.close()


def age(database_url: str, *, first_release: bool) -> None:
    """Make the database look as the release before Alembic left it: the baseline's tables.

    ``first_release`` also takes away the columns and tables later releases added.
    """
    engine = make_engine(database_url)
    later = set(inspect(engine).get_table_names()) - set(baseline.tables)
    with engine.begin() as connection:
        for table in sorted(later):  # alembic_version, and what revisions after it made
            connection.execute(text(f"DROP TABLE {table}"))
        if first_release:
            for table in TABLES_SINCE_FIRST_RELEASE:
                connection.execute(text(f"DROP TABLE {table}"))
            for table, columns in ADDED_SINCE_FIRST_RELEASE.items():
                for column in columns:
                    connection.execute(text(f"ALTER TABLE {table} DROP COLUMN {column}"))
    engine.dispose()


def rows(database_url: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table but the revision table, in key order."""
    engine = make_engine(database_url)
    metadata = MetaData()
    metadata.reflect(engine)
    found: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            if table.name == "alembic_version":
                continue
            keys = list(table.primary_key.columns)
            result = connection.execute(select(table).order_by(*keys))
            found[table.name] = [dict(row._mapping) for row in result]
    engine.dispose()
    return found


def tables(database_url: str) -> set[str]:
    engine = make_engine(database_url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def differences(database_url: str) -> list[object]:
    """What the live models have that the upgraded database lacks, or the other way round.

    Not empty when a table or column was added to core/store/tables.py without a revision.
    """
    engine = make_engine(database_url)
    with engine.connect() as connection:
        found = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    engine.dispose()
    return list(found)


def race_upgrades(url: str, upgraders: int = 4) -> list[bool]:
    """``upgraders`` threads upgrade ``url`` at the same moment; whether each changed it.

    Any exception in a thread fails the caller's test (it is raised here, after all have
    ended), so a collision between upgraders cannot pass unseen.
    """
    barrier = threading.Barrier(upgraders)
    results: list[bool] = []
    errors: list[BaseException] = []

    def upgrade() -> None:
        engine = make_engine(url)
        barrier.wait()
        try:
            results.append(upgrade_schema(engine).changed)
        except BaseException as exc:
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=upgrade) for _ in range(upgraders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    if errors:
        raise errors[0]
    return sorted(results)
