"""Baseline: the schema of the last release that made its tables without Alembic.

A frozen copy, never the live models: a later change to ``core/store/tables.py`` gets
its own revision, and this file keeps saying what the baseline was. On an empty
database it creates everything; on a database an older release made it adds only what
that release lacked (see :mod:`core.store.revisions.steps`), so no row is touched.

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from core.store.revisions.steps import ensure_tables

revision = "0001"
down_revision: str | None = None
branch_labels = None
depends_on = None

baseline = MetaData()

Table(
    "entra_connection",
    baseline,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("tenant_id", String, nullable=False),
    Column("client_id", String, nullable=False),
    Column("client_secret_encrypted", Text, nullable=False),
    Column("cadence_days", Integer, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("updated_by", String, nullable=False),
)
Table(
    "sync_run",
    baseline,
    Column("id", Integer, primary_key=True),
    Column("kind", String, nullable=False, index=True),
    Column("requested_by", String, nullable=False),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    Column("status", String, nullable=False, index=True),
    Column("counts", JSON, nullable=False),
    Column("requests", JSON, nullable=False),
    Column("error", Text),
    Column("fingerprint", String),
    Column("cause", String),
)
Table(
    "run_lease",
    baseline,
    Column("name", String, primary_key=True),
    Column("owner", String),
    Column("holder", String),
    Column("kind", String),
    Column("run_id", Integer),
    Column("acquired_at", DateTime),
    Column("expires_at", DateTime, nullable=False),
)
Table(
    "preview",
    baseline,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("sync_run.id"), nullable=False, index=True),
    Column("plan", JSON, nullable=False),
    Column("fingerprint", String, nullable=False),
    Column("status", String, nullable=False, index=True),
    Column("requested_by", String, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Column("decided_by", String),
    Column("decided_at", DateTime),
    Column("channel", String),
    Column("message_ts", String),
    Column("shown_status", String),
    Column("hold_reasons", JSON(none_as_null=True)),
)
Table(
    "team_settings",
    baseline,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("report_channel", String),
    Column("approvers", JSON, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("updated_by", String, nullable=False),
)
Table(
    "outcome",
    baseline,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("sync_run.id"), nullable=False, index=True),
    Column("kind", String, nullable=False),
    Column("entra_user_id", String, nullable=False),
    Column("object_key", String),
    Column("label", String, nullable=False),
    Column("status", String, nullable=False),
    Column("detail", Text, nullable=False),
)
Table(
    "audit_event",
    baseline,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime, nullable=False, index=True),
    Column("actor", String, nullable=False),
    Column("action", String, nullable=False),
    Column("subject", String, nullable=False),
    Column("detail", Text, nullable=False),
)
Table(
    "slack_delivery",
    baseline,
    Column("key", String(255), primary_key=True),
    Column("seen_at", DateTime, nullable=False, index=True),
)


def upgrade() -> None:
    ensure_tables(baseline)
