"""Alembic's entry point: run the revisions on the connection :mod:`core.store.schema` holds.

The connection arrives already inside a transaction that holds the migration lock, so
Alembic joins that transaction and commits nothing itself; the caller commits, which
also releases the lock.
"""

from alembic import context

context.configure(connection=context.config.attributes["connection"])
with context.begin_transaction():
    context.run_migrations()
