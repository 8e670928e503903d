"""The database's schema revision for the shells: read it, or upgrade it now.

Every process upgrades at start; ``entra-sync db upgrade`` does it ahead of a
deployment (one job before the replicas roll), ``db current`` says where a database
is. Neither needs the secret key or any service.
"""

from __future__ import annotations

from core.config import Settings
from core.store import SchemaState, SchemaUpgrade, database_schema, upgrade_database

__all__ = ["SchemaState", "SchemaUpgrade", "schema_line", "schema_of", "upgrade_schema_of"]


def schema_of(settings: Settings) -> SchemaState:
    return database_schema(settings.database_url)


def upgrade_schema_of(settings: Settings) -> SchemaUpgrade:
    return upgrade_database(settings.database_url)


def schema_line(state: SchemaState) -> str:
    """One sentence: which revision, and what to do when it is not the newest."""
    if state.up_to_date:
        return f"schema revision {state.current}, the newest this release knows."
    if state.legacy:
        where = "made by a release before schema revisions"
    elif state.current is None:
        where = "empty"
    else:
        where = f"at schema revision {state.current}"
    return (
        f"{where}; this release upgrades it to {state.head} "
        "(entra-sync db upgrade, or at the next start)."
    )
