"""``entra-sync db current`` and ``db upgrade``: the schema revision from a terminal."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from core.store.schema import head_revision
from tests.e2e.conftest import Runner


def test_db_current_then_upgrade_then_current(cli: Runner, workdir: Path) -> None:
    head = head_revision()
    first = cli("db", "current")
    assert (first.code, first.out) == (
        0,
        f"Database: empty; this release upgrades it to {head} "
        "(entra-sync db upgrade, or at the next start).\n",
    )
    upgraded = cli("db", "upgrade")
    assert (upgraded.code, upgraded.out) == (
        0,
        f"Upgraded the database schema to revision {head}.\n",
    )
    again = cli("db", "upgrade")
    assert again.out == f"The database schema is at revision {head}: nothing to do.\n"
    now = cli("db", "current")
    assert now.out == f"Database: schema revision {head}, the newest this release knows.\n"
    assert not (workdir / "secret.key").exists()  # the schema needs no key


def test_db_current_names_a_database_an_older_release_made(cli: Runner, workdir: Path) -> None:
    assert cli("status").code == 0
    with sqlite3.connect(workdir / "sync.db") as raw:
        raw.execute("DROP TABLE alembic_version")
    result = cli("db", "current")
    assert "made by a release before schema revisions" in result.out


def test_a_database_from_a_newer_release_is_one_line_and_exit_2(cli: Runner, workdir: Path) -> None:
    assert cli("db", "upgrade").code == 0
    with sqlite3.connect(workdir / "sync.db") as raw:
        raw.execute("UPDATE alembic_version SET version_num = '9999'")
    for argv in (("db", "current"), ("status",)):
        result = cli(*argv)
        assert result.code == 2
        assert result.err.startswith("error: the database is at schema revision 9999")
        assert result.err.count("\n") == 1


def test_a_database_one_revision_behind_is_named_then_upgraded(cli: Runner, workdir: Path) -> None:
    """A database the release with revision 0001 left: 0002 adds its table on upgrade."""
    assert cli("db", "upgrade").code == 0
    with sqlite3.connect(workdir / "sync.db") as raw:
        raw.execute("DROP TABLE scheduled_check")
        raw.execute("UPDATE alembic_version SET version_num = '0001'")
    behind = cli("db", "current")
    assert behind.out == (
        f"Database: at schema revision 0001; this release upgrades it to {head_revision()} "
        "(entra-sync db upgrade, or at the next start).\n"
    )
    assert (
        cli("db", "upgrade").out == f"Upgraded the database schema to revision {head_revision()}.\n"
    )
    with sqlite3.connect(workdir / "sync.db") as raw:
        names = {row[0] for row in raw.execute("SELECT name FROM sqlite_master")}
    assert "scheduled_check" in names
