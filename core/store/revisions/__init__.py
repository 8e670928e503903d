"""The database's schema history: one Alembic revision per change, in ``versions/``.

Shipped inside the package so an installed release can upgrade its own database
(``entra-sync db upgrade``, or automatically at start). :mod:`core.store.schema` runs
them; :mod:`core.store.revisions.steps` holds the idempotent building blocks the
revisions share. How to add one: docs/operations.md, "Database: SQLite, PostgreSQL
and migrations".
"""
