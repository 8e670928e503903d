"""Persistence: the Entra connection, runs, previews, outcomes and the audit trail.

SQLite by default, any SQLAlchemy URL otherwise. Every method opens its own short
session, so a :class:`Store` can be shared by the Slack handlers and the scheduler
threads. Methods return frozen views, never ORM rows. The client secret is only ever
written encrypted and only ever read back through :meth:`Store.client_secret`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, update
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, create_engine, select

from core.config import RULE_NOT_EMPTY, EntraInput, TeamSettings
from core.errors import FieldProblem, InvalidInput, SyncError
from core.store.checks import CheckClaims
from core.store.deliveries import DeliveryRecords
from core.store.directory import DirectoryCopyRecords
from core.store.person_history import PersonHistory
from core.store.previews import PreviewRecords
from core.store.read_cache import ReadCacheRecords
from core.store.schema import SchemaState, SchemaUpgrade, schema_state, upgrade_schema
from core.store.secrets import Cipher
from core.store.sign_in import SignInRecords
from core.store.tables import (
    CONNECTION_ROW_ID,
    TEAM_SETTINGS_ROW_ID,
    AuditEventRow,
    AuditEventView,
    ConnectionView,
    EntraConnectionRow,
    OutcomeRow,
    PreviewStatus,
    PreviewView,
    RunKind,
    RunRow,
    RunStatus,
    RunView,
    TeamSettingsRow,
    as_utc,
    audit_view,
    outcome_from_row,
    row_id,
    run_view,
    utc_now,
)
from core.sync import ChangeOutcome

__all__ = [
    "AuditEventView",
    "ConnectionView",
    "PreviewStatus",
    "PreviewView",
    "RunKind",
    "RunStatus",
    "RunView",
    "Store",
    "TeamSettings",
    "utc_now",
]

SQLITE_BUSY_TIMEOUT_SECONDS = 30
ROTATED_MEANWHILE = (
    "the stored client secret was replaced while it was being re-encrypted; "
    "run `entra-sync rotate-key` again"
)
POOL_SIZE, POOL_OVERFLOW = 5, 5
"""Connections one process keeps open, and may open beyond them at a peak, on a server
database: the Slack handlers, the worker and the scheduler each use one at a time."""
POOL_RECYCLE_SECONDS = 1800


class Store(
    PreviewRecords,
    DeliveryRecords,
    ReadCacheRecords,
    SignInRecords,
    PersonHistory,
    DirectoryCopyRecords,
    CheckClaims,
):
    """The one way in and out of the database."""

    def __init__(
        self,
        database_url: str,
        cipher: Cipher,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._engine = make_engine(database_url)
        self._cipher = cipher
        self._clock = clock
        self.schema = upgrade_schema(self._engine)

    def __repr__(self) -> str:
        return f"Store({self._engine.url.render_as_string(hide_password=True)!r})"

    def close(self) -> None:
        """Release pooled connections (tests and short-lived CLI commands)."""
        self._engine.dispose()

    @property
    def engine(self) -> Engine:
        """For :mod:`core.store.lease`, whose conditional updates need the engine itself."""
        return self._engine

    # -- Entra connection -------------------------------------------------------------

    def save_connection(self, entra: EntraInput, actor: str, *, reset_secret: bool = False) -> None:
        """Insert or replace the connection; a ``None`` secret keeps the stored one.

        A stored secret the configured key cannot decrypt (its key file lost, or another
        key set) is neither kept nor silently replaced: that raises :class:`ConfigError`
        naming the key and how to recover, unless ``reset_secret`` says to discard it
        for the new secret (a new key file is then created if none exists).
        """
        with Session(self._engine) as session:
            stored = session.get(EntraConnectionRow, CONNECTION_ROW_ID)
            token = stored.client_secret_encrypted if stored is not None else ""
            if entra.client_secret is None and not token:
                raise InvalidInput([FieldProblem("client_secret", RULE_NOT_EMPTY)])
            if token and (entra.client_secret is None or not reset_secret):
                self._cipher.decrypt(token)  # raises when the key cannot read it
            if entra.client_secret is not None:
                encrypted = self._cipher.encrypt(entra.client_secret)
            else:
                encrypted = token
            row = EntraConnectionRow(
                id=CONNECTION_ROW_ID,
                tenant_id=entra.tenant_id,
                client_id=entra.client_id,
                client_secret_encrypted=encrypted,
                cadence_days=entra.cadence_days,
                updated_at=self._now(),
                updated_by=actor,
            )
            session.merge(row)
            session.commit()

    def connection(self) -> ConnectionView | None:
        with Session(self._engine) as session:
            row = session.get(EntraConnectionRow, CONNECTION_ROW_ID)
            if row is None:
                return None
            return ConnectionView(
                tenant_id=row.tenant_id,
                client_id=row.client_id,
                cadence_days=row.cadence_days,
                updated_at=row.updated_at,
                updated_by=row.updated_by,
                has_secret=bool(row.client_secret_encrypted),
            )

    def client_secret(self) -> str:
        """The decrypted client secret; kept out of :class:`ConnectionView` on purpose."""
        with Session(self._engine) as session:
            row = session.get(EntraConnectionRow, CONNECTION_ROW_ID)
            encrypted = row.client_secret_encrypted if row is not None else ""
        if not encrypted:
            raise SyncError("the Entra connection is not configured yet; run configure first")
        return self._cipher.decrypt(encrypted)

    def rotate_secret(self, actor: str) -> bool:
        """Re-encrypt the stored client secret with the cipher's first key; audit it.

        Returns False when no secret is stored. Raises :class:`ConfigError` (naming the
        key) when no configured key decrypts it, and :class:`SyncError` when the secret
        was replaced while this ran (the conditional update finds the old one gone), so
        a secret entered meanwhile is never overwritten.
        """
        with Session(self._engine) as session:
            row = session.get(EntraConnectionRow, CONNECTION_ROW_ID)
            token = row.client_secret_encrypted if row is not None else ""
        if not token:
            return False
        statement = (
            update(EntraConnectionRow)
            .where(col(EntraConnectionRow.id) == CONNECTION_ROW_ID)
            .where(col(EntraConnectionRow.client_secret_encrypted) == token)
            .values(client_secret_encrypted=self._cipher.rotate(token))
        )
        with Session(self._engine) as session:
            changed = session.exec(statement).rowcount
            session.commit()
        if changed != 1:
            raise SyncError(ROTATED_MEANWHILE)
        self.audit(actor, "rotate-key", "entra connection", "client secret re-encrypted")
        return True

    # -- team settings ----------------------------------------------------------------

    def team_settings(self) -> TeamSettings:
        """Approvers and report channel; nobody approves until an admin names someone."""
        with Session(self._engine) as session:
            row = session.get(TeamSettingsRow, TEAM_SETTINGS_ROW_ID)
            if row is None:
                return TeamSettings()
            return TeamSettings(row.report_channel, tuple(str(a) for a in row.approvers))

    def save_team_settings(self, settings: TeamSettings, actor: str) -> None:
        """Replace the team settings and audit who changed them to what."""
        row = TeamSettingsRow(
            id=TEAM_SETTINGS_ROW_ID,
            report_channel=settings.report_channel,
            approvers=list(settings.approvers),
            updated_at=self._now(),
            updated_by=actor,
        )
        with Session(self._engine) as session:
            session.merge(row)
            session.commit()
        channel = settings.report_channel or "none"
        approvers = ", ".join(settings.approvers) or "none"
        self.audit(actor, "settings", "team settings", f"channel {channel}; approvers {approvers}")

    # -- runs -------------------------------------------------------------------------

    def start_run(self, kind: RunKind, requested_by: str) -> int:
        row = RunRow(
            kind=RunKind(kind).value,
            requested_by=requested_by,
            started_at=self._now(),
            status=RunStatus.RUNNING.value,
        )
        return self._insert(row)

    def finish_run(
        self,
        run_id: int,
        status: RunStatus,
        *,
        counts: Mapping[str, int] | None = None,
        requests: Mapping[str, int] | None = None,
        error: str | None = None,
        fingerprint: str | None = None,
        cause: str | None = None,
    ) -> None:
        with Session(self._engine) as session:
            row = session.get(RunRow, run_id)
            if row is None:
                raise SyncError(f"run {run_id} does not exist")
            row.status = RunStatus(status).value
            row.finished_at = self._now()
            row.counts = dict(counts or {})
            row.requests = dict(requests or {})
            row.error = error
            row.fingerprint = fingerprint
            row.cause = cause
            session.add(row)
            session.commit()

    def run(self, run_id: int) -> RunView | None:
        with Session(self._engine) as session:
            row = session.get(RunRow, run_id)
            return None if row is None else run_view(row)

    def recent_runs(self, limit: int = 10) -> list[RunView]:
        """Newest first."""
        return self._runs(limit=limit)

    def last_run(self, kind: RunKind, status: RunStatus | None = None) -> RunView | None:
        conditions = [col(RunRow.kind) == RunKind(kind).value]
        if status is not None:
            conditions.append(col(RunRow.status) == RunStatus(status).value)
        runs = self._runs(*conditions, limit=1)
        return runs[0] if runs else None

    def runs(
        self,
        *,
        kind: RunKind | None = None,
        statuses: Sequence[RunStatus] = (),
        limit: int | None = None,
    ) -> list[RunView]:
        """Runs of ``kind`` in any of ``statuses`` (None or empty: any), newest first."""
        conditions = []
        if kind is not None:
            conditions.append(col(RunRow.kind) == RunKind(kind).value)
        if statuses:
            conditions.append(col(RunRow.status).in_([RunStatus(s).value for s in statuses]))
        return self._runs(*conditions, limit=limit)

    def running(self) -> list[RunView]:
        """Runs not finished: on start-up these are the ones a crash interrupted."""
        return self._runs(col(RunRow.status) == RunStatus.RUNNING.value)

    def _runs(self, *conditions: ColumnElement[bool], limit: int | None = None) -> list[RunView]:
        statement = select(RunRow).where(*conditions).order_by(col(RunRow.id).desc())
        if limit is not None:
            statement = statement.limit(limit)
        with Session(self._engine) as session:
            return [run_view(row) for row in session.exec(statement)]

    # -- outcomes and audit -----------------------------------------------------------

    def record_outcomes(self, run_id: int, outcomes: Sequence[ChangeOutcome]) -> None:
        rows = [
            OutcomeRow(
                run_id=run_id,
                kind=o.kind.value,
                entra_user_id=o.entra_user_id,
                object_key=o.object_key,
                label=o.label,
                status=o.status.value,
                detail=o.detail,
                changes=[[c.attr.value, c.before, c.after] for c in o.changes] or None,
            )
            for o in outcomes
        ]
        with Session(self._engine) as session:
            session.add_all(rows)
            session.commit()

    def outcomes(self, run_id: int) -> list[ChangeOutcome]:
        """In the order they were recorded: during an apply, the order writes finished."""
        statement = (
            select(OutcomeRow).where(col(OutcomeRow.run_id) == run_id).order_by(col(OutcomeRow.id))
        )
        with Session(self._engine) as session:
            return [outcome_from_row(row) for row in session.exec(statement)]

    def audit(self, actor: str, action: str, subject: str, detail: str = "") -> None:
        row = AuditEventRow(
            at=self._now(), actor=actor, action=action, subject=subject, detail=detail
        )
        self._insert(row)

    def last_audit(self, action: str) -> AuditEventView | None:
        """The newest audit event of ``action``: how the scheduler remembers what it sent."""
        statement = (
            select(AuditEventRow)
            .where(col(AuditEventRow.action) == action)
            .order_by(col(AuditEventRow.id).desc())
            .limit(1)
        )
        with Session(self._engine) as session:
            row = session.exec(statement).first()
            return None if row is None else audit_view(row)

    def audit_events(self, limit: int = 50) -> list[AuditEventView]:
        """Newest first."""
        statement = select(AuditEventRow).order_by(col(AuditEventRow.id).desc()).limit(limit)
        with Session(self._engine) as session:
            return [audit_view(row) for row in session.exec(statement)]

    # -- helpers ----------------------------------------------------------------------

    def now(self) -> datetime:
        """The store's clock, so callers judge ages and expiry by the same time it does."""
        return self._now()

    def _now(self) -> datetime:
        return as_utc(self._clock())

    def _insert(self, row: RunRow | AuditEventRow) -> int:
        with Session(self._engine) as session:
            session.add(row)
            session.commit()
            session.refresh(row)
            return row_id(row.id)


def database_schema(database_url: str) -> SchemaState:
    """The schema revision of the database at ``database_url``, read without changing it."""
    engine = make_engine(database_url)
    try:
        return schema_state(engine)
    finally:
        engine.dispose()


def upgrade_database(database_url: str) -> SchemaUpgrade:
    """Upgrade the database at ``database_url`` to this release's schema, under the lock."""
    engine = make_engine(database_url)
    try:
        return upgrade_schema(engine)
    finally:
        engine.dispose()


def make_engine(database_url: str) -> Engine:
    """An engine that suits the URL: in-memory SQLite shares one connection across threads.

    A SQLite file that does not exist yet is created here, readable only by its owner
    (mode 0600): it holds the encrypted secret and the audit trail. SQLite gives its
    journal the database file's mode.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        return _postgres_engine(url)
    if url.get_backend_name() != "sqlite":
        return create_engine(database_url, pool_pre_ping=True)
    connect_args: dict[str, Any] = {
        "check_same_thread": False,
        "timeout": SQLITE_BUSY_TIMEOUT_SECONDS,
    }
    if is_memory_database(database_url):
        return create_engine(database_url, connect_args=connect_args, poolclass=StaticPool)
    database = url.database
    if database and not database.startswith("file:"):
        _create_private_file(Path(database))
    return create_engine(database_url, connect_args=connect_args)


def _postgres_engine(url: URL) -> Engine:
    """PostgreSQL through psycopg 3 (the ``postgres`` extra), whatever driver the URL names.

    A plain ``postgresql://`` URL would mean psycopg2 to older SQLAlchemy releases.
    Connections are checked before use and replaced after half an hour, since managed
    databases and their proxies drop idle ones. SSL and timeouts come from the URL
    (``?sslmode=verify-full&connect_timeout=10``), which psycopg reads as it is.
    """
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_recycle=POOL_RECYCLE_SECONDS,
        pool_size=POOL_SIZE,
        max_overflow=POOL_OVERFLOW,
    )


def is_memory_database(database_url: str) -> bool:
    """True for a SQLite URL whose database lives only in memory and dies with the process."""
    try:
        url: URL = make_url(database_url)
    except (ArgumentError, ValueError):
        return False
    if url.get_backend_name() != "sqlite":
        return False
    database = url.database or ""
    if database in ("", ":memory:"):
        return True
    return database.startswith("file:") and (
        "mode=memory" in database or url.query.get("mode") == "memory"
    )


def _create_private_file(path: Path) -> None:
    """Create ``path`` (and its folders) with mode 0600 unless something is there already."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
