"""Additive schema upgrades: columns added to a table after a database was created.

``create_all`` makes missing tables but never touches existing ones, so a database
made by an older version would lack a newer nullable column and every query naming
it would fail. Only nullable columns without server defaults are ever added this
way; anything else would need a real migration and is refused loudly instead.
"""

from __future__ import annotations

from sqlalchemy import Engine, MetaData, inspect, text


def add_missing_columns(engine: Engine, metadata: MetaData) -> list[str]:
    """``ALTER TABLE ... ADD COLUMN`` for every nullable column the database lacks.

    Returns ``table.column`` for each column added (empty on an up-to-date database).
    """
    inspector = inspect(engine)
    added: list[str] = []
    with engine.begin() as connection:
        for table in metadata.sorted_tables:
            if not inspector.has_table(table.name):
                continue
            present = {column["name"] for column in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name in present:
                    continue
                if not column.nullable or column.primary_key:
                    raise RuntimeError(
                        f"column {table.name}.{column.name} is missing and cannot be added "
                        "automatically: it is not nullable"
                    )
                kind = column.type.compile(dialect=engine.dialect)
                preparer = engine.dialect.identifier_preparer
                connection.execute(
                    text(
                        f"ALTER TABLE {preparer.quote(table.name)} "
                        f"ADD COLUMN {preparer.quote(column.name)} {kind}"
                    )
                )
                added.append(f"{table.name}.{column.name}")
    return added
