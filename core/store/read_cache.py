"""What a run learned about Atlassian that the next run need not read again.

Two facts, both cheap to get wrong safely: a stale one costs a re-read, never a wrong
write.

* The Assets ids (workspace, schema, Employee type, attribute ids) of a site. A run
  checks them against the attributes the Employee read answers with and reads them
  again on any difference or a 404 (:mod:`core.runs.assets_ids`).
* The account ids the organisation does not manage: the org admin user list never
  shows them, so looking for one means reading the whole list. A run skips them until
  they are due a new look (:mod:`core.runs.hidden_emails`).

Both tables come with schema revision 0003 (core/store/revisions).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Column, Engine, delete
from sqlmodel import Field, Session, SQLModel, col, select

from core.store.tables import UtcDateTime

# An unmanaged account is forgotten well after it is due a new look, so the table
# holds only accounts still being skipped or about to be checked again.
FORGET_UNMANAGED_AFTER = timedelta(days=60)


class AssetsIdsRow(SQLModel, table=True):
    """The Assets ids of one Jira site; schema ids are None until a run found them."""

    __tablename__ = "assets_ids"

    site: str = Field(primary_key=True, max_length=255)
    workspace_id: str
    schema_id: str | None = None
    object_type_id: str | None = None
    attribute_ids: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True), nullable=True)
    )
    saved_at: datetime = Field(sa_type=UtcDateTime)


class UnmanagedAccountRow(SQLModel, table=True):
    """An account the org admin list did not show when it was last read to its end."""

    __tablename__ = "unmanaged_account"

    account_id: str = Field(primary_key=True, max_length=128)
    checked_at: datetime = Field(sa_type=UtcDateTime)


@dataclass(frozen=True)
class AssetsIds:
    """The stored ids of a site; ``attribute_ids`` maps attribute names to ids."""

    workspace_id: str
    schema_id: str | None
    object_type_id: str | None
    attribute_ids: tuple[tuple[str, str], ...]


class ReadCacheRecords:
    """Assets ids and unmanaged accounts; needs the store's engine and clock."""

    _engine: Engine

    def _now(self) -> datetime:
        raise NotImplementedError

    # -- Assets ids -------------------------------------------------------------------

    def assets_ids(self, site: str) -> AssetsIds | None:
        with Session(self._engine) as session:
            row = session.get(AssetsIdsRow, site)
            if row is None:
                return None
            ids = tuple(sorted((str(k), str(v)) for k, v in (row.attribute_ids or {}).items()))
            return AssetsIds(row.workspace_id, row.schema_id, row.object_type_id, ids)

    def save_workspace(self, site: str, workspace_id: str) -> None:
        """The site's workspace; a different one than stored drops the schema ids."""
        with Session(self._engine) as session:
            row = session.get(AssetsIdsRow, site)
            if row is None or row.workspace_id != workspace_id:
                row = AssetsIdsRow(site=site, workspace_id=workspace_id, saved_at=self._now())
            session.merge(row)
            session.commit()

    def save_employee_type_ids(
        self,
        site: str,
        workspace_id: str,
        schema_id: str,
        object_type_id: str,
        attribute_ids: Mapping[str, str],
    ) -> None:
        row = AssetsIdsRow(
            site=site,
            workspace_id=workspace_id,
            schema_id=schema_id,
            object_type_id=object_type_id,
            attribute_ids=dict(attribute_ids),
            saved_at=self._now(),
        )
        with Session(self._engine) as session:
            session.merge(row)
            session.commit()

    def forget_assets_ids(self, site: str) -> None:
        with Session(self._engine) as session:
            session.exec(delete(AssetsIdsRow).where(col(AssetsIdsRow.site) == site))
            session.commit()

    # -- unmanaged accounts -----------------------------------------------------------

    def unmanaged_accounts(self, checked_since: datetime) -> frozenset[str]:
        """Accounts found unmanaged at or after ``checked_since``."""
        query = select(UnmanagedAccountRow.account_id).where(
            col(UnmanagedAccountRow.checked_at) >= checked_since
        )
        with Session(self._engine) as session:
            return frozenset(session.exec(query))

    def remember_unmanaged(self, account_ids: Iterable[str]) -> None:
        """These accounts were not in the org list just read to its end."""
        now = self._now()
        with Session(self._engine) as session:
            stale = col(UnmanagedAccountRow.checked_at) < now - FORGET_UNMANAGED_AFTER
            session.exec(delete(UnmanagedAccountRow).where(stale))
            for account_id in account_ids:
                session.merge(UnmanagedAccountRow(account_id=account_id, checked_at=now))
            session.commit()

    def forget_unmanaged(self, account_ids: Iterable[str]) -> None:
        """These accounts are managed now (the org list showed their email)."""
        ids = list(account_ids)
        if not ids:
            return
        with Session(self._engine) as session:
            session.exec(
                delete(UnmanagedAccountRow).where(col(UnmanagedAccountRow.account_id).in_(ids))
            )
            session.commit()
