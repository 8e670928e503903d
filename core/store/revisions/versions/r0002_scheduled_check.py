"""The scheduled_check table: each daily check claimed by one process (core/store/checks.py).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import Column, DateTime, String

revision = "0002"
down_revision: str | None = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scheduled_check",
        Column("slot", DateTime, primary_key=True),
        Column("claimed_by", String, nullable=False),
        Column("claimed_at", DateTime, nullable=False),
    )
