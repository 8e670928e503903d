"""Schema revisions on SQLite: a fresh database, databases older releases made, a newer one.

The PostgreSQL twins of these tests are in tests/postgres/test_schema_postgres.py.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from core.errors import SyncError
from core.store import Store
from core.store.database import make_engine
from core.store.schema import HEAD, DatabaseNewer, head_revision, schema_state, upgrade_schema
from core.store.secrets import SecretCipher
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


def _cipher() -> SecretCipher:
    return SecretCipher([Fernet.generate_key()])


def test_a_fresh_database_is_upgraded_to_the_models_exactly(tmp_path: Path) -> None:
    """Fails when a table or column is added to core/store/tables.py without a revision."""
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    store = Store(url, _cipher())
    assert store.schema.before.current is None
    assert not store.schema.before.legacy
    assert store.schema.after == head_revision()
    store.close()
    assert differences(url) == []


def test_an_upgraded_database_is_left_alone(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'twice.db'}"
    Store(url, _cipher()).close()
    again = Store(url, _cipher())
    assert not again.schema.changed
    assert again.schema.before.up_to_date
    again.close()


@pytest.mark.parametrize("first_release", [False, True], ids=["last-release", "first-release"])
def test_a_database_an_older_release_made_keeps_every_row(
    tmp_path: Path, first_release: bool
) -> None:
    """The release before Alembic made its tables with create_all and no revision table."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    fill(url)
    age(url, first_release=first_release)
    before = rows(url)
    assert before["sync_run"] and before["preview"] and before["outcome"]
    engine = make_engine(url)
    state = schema_state(engine)
    assert (state.current, state.legacy) == (None, True)
    upgrade = upgrade_schema(engine)
    engine.dispose()
    assert upgrade.after == head_revision()
    after = rows(url)
    if first_release:
        assert set(TABLES_SINCE_FIRST_RELEASE) <= tables(url)
        for table, columns in ADDED_SINCE_FIRST_RELEASE.items():
            assert all(row[column] is None for row in after[table] for column in columns)
            after[table] = [
                {k: v for k, v in row.items() if k not in columns} for row in after[table]
            ]
    made = set(after) - set(before)  # tables the upgrade created: empty
    assert [after.pop(table) for table in sorted(made)] == [[] for _ in made]
    assert after == before
    assert differences(url) == []


def test_the_engine_reads_an_upgraded_database(tmp_path: Path) -> None:
    """Previews, runs and the stored secret read back through the store after the upgrade."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    fill(url)
    age(url, first_release=False)
    service, _ = service_on(url)
    assert service.store.schema.before.legacy
    assert [r.status.value for r in service.history(5)] == ["succeeded", "succeeded"]
    assert service.store.client_secret()
    service.store.close()


def test_a_database_a_newer_release_upgraded_is_refused_untouched(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'newer.db'}"
    Store(url, _cipher()).close()
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(DatabaseNewer, match=r"revision 9999, which this release does not know"):
        Store(url, _cipher())
    engine = create_engine(url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).all() == [
            ("9999",)
        ]
    engine.dispose()


def test_two_upgrades_at_once_wait_for_each_other(tmp_path: Path) -> None:
    """The second upgrader waits for the lock, then finds nothing to do."""
    url = f"sqlite:///{tmp_path / 'race.db'}"
    assert race_upgrades(url) == [False, False, False, True]
    assert differences(url) == []


def test_a_missing_required_column_is_named_not_guessed(tmp_path: Path) -> None:
    """An old table lacking a NOT NULL column: nothing is added, the column is named."""
    url = f"sqlite:///{tmp_path / 'odd.db'}"
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE slack_delivery (key VARCHAR(255) PRIMARY KEY)"))
    engine.dispose()
    with pytest.raises(SyncError, match=r"lacks column slack_delivery\.seen_at"):
        Store(url, _cipher())
    assert tables(url) == {"slack_delivery"}  # rolled back whole: the tables made before it too


def test_the_release_knows_its_newest_revision_without_alembic() -> None:
    """HEAD spares a current database the Alembic import; it must be the scripts' head."""
    assert head_revision() == HEAD


def test_a_current_database_is_opened_without_importing_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sync.db'}"
    Store(url, SecretCipher([Fernet.generate_key()])).close()  # made and upgraded
    probe = (
        "import sys; from cryptography.fernet import Fernet; from core.store import Store; "
        "from core.store.secrets import SecretCipher; "
        f"Store({url!r}, SecretCipher([Fernet.generate_key()])).close(); "
        "print(any(m.split('.')[0] == 'alembic' for m in sys.modules))"
    )
    shown = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert shown.stdout.strip() == "False"
