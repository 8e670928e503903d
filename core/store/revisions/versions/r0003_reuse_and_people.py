"""What runs reuse, and one person at a time.

* ``assets_ids`` and ``unmanaged_account``: the Assets ids a run reuses and the
  accounts the organisation does not manage (core/store/read_cache.py);
* ``sign_in_cache``: Microsoft's discovery answer and the encrypted token cache a new
  process reuses (core/store/sign_in.py);
* ``directory_copy`` and ``directory_copy_user``: the local copy of the directory and
  the delta links that continue it (core/store/directory.py);
* ``preview.person`` and ``outcome.changes``: a one-person preview's ids, and each
  write's before and after (core/store/person_history.py).

Idempotent, like the baseline: a database the release before Alembic made may already
hold some of these, and nothing that exists is touched.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from core.store.revisions.steps import ensure_tables

revision = "0003"
down_revision: str | None = "0002"
branch_labels = None
depends_on = None

added = MetaData()

Table(
    "assets_ids",
    added,
    Column("site", String(255), primary_key=True),
    Column("workspace_id", String, nullable=False),
    Column("schema_id", String),
    Column("object_type_id", String),
    Column("attribute_ids", JSON(none_as_null=True)),
    Column("saved_at", DateTime, nullable=False),
)
Table(
    "unmanaged_account",
    added,
    Column("account_id", String(128), primary_key=True),
    Column("checked_at", DateTime, nullable=False),
)
Table(
    "sign_in_cache",
    added,
    Column("key", String(512), primary_key=True),
    Column("value", Text, nullable=False),
    Column("saved_at", DateTime, nullable=False),
)
Table(
    "directory_copy",
    added,
    Column("id", Integer, primary_key=True),
    Column("owner", String, nullable=False),
    Column("link", Text, nullable=False),
    Column("link_saved_at", DateTime, nullable=False),
    Column("previous_link", Text),
    Column("previous_saved_at", DateTime),
    Column("version", Integer, nullable=False),
    Column("users", Integer, nullable=False),
)
Table(
    "directory_copy_user",
    added,
    Column("id", String, primary_key=True),
    Column("display_name", Text, nullable=False),
    Column("mail", Text),
    Column("user_principal_name", Text, nullable=False),
    Column("proxy_addresses", Text, nullable=False),
    Column("department", Text),
    Column("job_title", Text),
    Column("account_enabled", Boolean, nullable=False),
    Column("user_type", String),
    Column("manager_id", String),
    Column("manager_type", String),
    Column("manager_name", Text),
    Column("unknown", Text, nullable=False),
)
# Existing tables, named with only their new columns: ensure_tables adds what is missing.
Table("preview", added, Column("person", JSON(none_as_null=True)))
Table("outcome", added, Column("changes", JSON(none_as_null=True)))


def upgrade() -> None:
    ensure_tables(added)
