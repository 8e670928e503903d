"""Schema revisions on a real PostgreSQL server: fresh, older releases' databases, newer."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from core.store.database import make_engine
from core.store.schema import DatabaseNewer, head_revision, schema_state, upgrade_schema
from tests.schema_data import (
    ADDED_SINCE_FIRST_RELEASE,
    TABLES_SINCE_FIRST_RELEASE,
    age,
    differences,
    fill,
    race_upgrades,
    rows,
    service_on,
    tables,
)


def test_a_fresh_database_is_upgraded_to_the_models_exactly(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    upgrade = upgrade_schema(engine)
    assert (upgrade.before.current, upgrade.after) == (None, head_revision())
    assert not upgrade_schema(engine).changed
    engine.dispose()
    assert differences(postgres_url) == []


@pytest.mark.parametrize("first_release", [False, True], ids=["last-release", "first-release"])
def test_a_database_an_older_release_made_keeps_every_row(
    postgres_url: str, first_release: bool
) -> None:
    fill(postgres_url)
    age(postgres_url, first_release=first_release)
    before = rows(postgres_url)
    assert before["sync_run"] and before["preview"] and before["outcome"]
    engine = make_engine(postgres_url)
    assert schema_state(engine).legacy
    assert upgrade_schema(engine).after == head_revision()
    engine.dispose()
    after = rows(postgres_url)
    if first_release:
        assert set(TABLES_SINCE_FIRST_RELEASE) <= tables(postgres_url)
        for table, columns in ADDED_SINCE_FIRST_RELEASE.items():
            assert all(row[column] is None for row in after[table] for column in columns)
            after[table] = [
                {k: v for k, v in row.items() if k not in columns} for row in after[table]
            ]
    made = set(after) - set(before)  # tables the upgrade created: empty
    assert [after.pop(table) for table in sorted(made)] == [[] for _ in made]
    assert after == before
    assert differences(postgres_url) == []
    service, _ = service_on(postgres_url)
    assert service.store.client_secret()
    assert [r.status.value for r in service.history(5)] == ["succeeded", "succeeded"]
    service.store.close()


def test_a_database_a_newer_release_upgraded_is_refused(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    upgrade_schema(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(DatabaseNewer):
        upgrade_schema(engine)
    engine.dispose()


def test_upgrades_at_once_wait_for_the_advisory_lock(postgres_url: str) -> None:
    """Four upgraders on one empty database: one upgrades, three wait and find it done.

    Without the lock they collide on the first CREATE TABLE; ``lock_timeout`` turns a
    wait on another upgrader's uncommitted table into an error instead of a hang.
    """
    bounded = f"{postgres_url}?options=-c%20lock_timeout%3D10000"
    assert race_upgrades(bounded) == [False, False, False, True]
    assert differences(postgres_url) == []
