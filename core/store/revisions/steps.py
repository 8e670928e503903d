"""Idempotent schema steps the revisions share: create what is missing, nothing else.

Releases before Alembic made their tables with ``create_all`` and then added any
nullable column a table lacked. Their databases carry no revision, and which columns
they have depends on the release that made them. The baseline revision therefore
does not assume an empty database: it creates the tables that are missing and adds
the nullable columns and indexes a table lacks, so every older database, and an empty
one, ends at the same schema without losing a row. Later revisions may use the same
steps, or plain ``op`` calls when they change what exists.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import Column, Connection, Index, MetaData, Table, inspect

from core.errors import SyncError


def ensure_tables(metadata: MetaData) -> list[str]:
    """Create every table of ``metadata`` that is missing, complete the ones that exist.

    Returns what it did (``table``, ``table.column`` or ``index name``), empty when the
    database already had it all.
    """
    connection = op.get_bind()
    done: list[str] = []
    for table in metadata.sorted_tables:
        if not inspect(connection).has_table(table.name):
            table.create(connection)
            done.append(table.name)
            continue
        done.extend(_add_missing_columns(connection, table))
        done.extend(_add_missing_indexes(connection, table))
    return done


def _add_missing_columns(connection: Connection, table: Table) -> list[str]:
    present = {column["name"] for column in inspect(connection).get_columns(table.name)}
    added: list[str] = []
    for column in table.columns:
        if column.name in present:
            continue
        if not column.nullable or column.primary_key:
            raise SyncError(
                f"the database lacks column {table.name}.{column.name}, which cannot be "
                "added without a value: restore a backup, or add the column with a value"
            )
        op.add_column(table.name, Column(column.name, column.type, nullable=True))
        added.append(f"{table.name}.{column.name}")
    return added


def _add_missing_indexes(connection: Connection, table: Table) -> list[str]:
    present = {index["name"] for index in inspect(connection).get_indexes(table.name)}
    added: list[str] = []
    for index in sorted(table.indexes, key=_index_name):
        if index.name in present:
            continue
        index.create(connection)
        added.append(_index_name(index))
    return added


def _index_name(index: Index) -> str:
    return str(index.name)
