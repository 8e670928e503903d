"""Previews in the store: saved plans awaiting a decision, and their state machine.

Kept apart from :mod:`core.store.database` because the preview rules (expiry read as a status,
one conditional update per move) are the heart of approvals and deserve a page of
their own. :class:`core.store.database.Store` mixes this in.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, false, or_, true, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from core.errors import SyncError
from core.store.tables import (
    CLOSED_PREVIEW_STATUSES,
    PreviewRow,
    PreviewStatus,
    PreviewView,
    person_from_json,
    person_to_json,
    row_id,
)
from core.sync import Person, Plan

DEFAULT_PREVIEW_TTL = timedelta(hours=24)


class PreviewRecords:
    """Preview persistence; needs the store's engine and clock."""

    _engine: Engine

    def _now(self) -> datetime:
        raise NotImplementedError

    def save_preview(
        self,
        run_id: int,
        plan: Plan,
        requested_by: str,
        ttl: timedelta = DEFAULT_PREVIEW_TTL,
        *,
        hold_reasons: Sequence[str] = (),
        person: Person | None = None,
    ) -> int:
        """Store a plan for approval; older pending previews it replaces can no longer be applied.

        ``hold_reasons`` marks a plan the guard rails held rather than one a person
        asked to see; approvers decide both alike, but the held one says why it waits.
        What a new preview retires is :meth:`_retire_pending`'s rule; a one-person
        preview (``person`` set: the plan is cut down to them) retires nothing.
        """
        now = self._now()
        row = PreviewRow(
            run_id=run_id,
            plan=plan.to_dict(),
            fingerprint=plan.fingerprint,
            status=PreviewStatus.PENDING.value,
            requested_by=requested_by,
            created_at=now,
            expires_at=now + ttl,
            hold_reasons=list(hold_reasons) or None,
            person=person_to_json(person) if person is not None else None,
        )
        with Session(self._engine) as session:
            if person is None:
                self._retire_pending(session, now, held=bool(hold_reasons))
            session.add(row)
            session.commit()
            session.refresh(row)
            return row_id(row.id)

    def _retire_pending(self, session: Session, now: datetime, *, held: bool) -> None:
        """Make way for a new preview: which older pending ones stop being decidable.

        * Past their TTL they become expired, whatever they are.
        * A preview someone asked for supersedes older previews someone asked for, and
          never a held plan (``hold_reasons`` set: held by the guard rails, or handed
          back for a second approver). That plan waits for a second person, and a
          routine preview must not take it away from them: both stay decidable. If
          both are approved, the second one's fingerprint no longer matches what the
          first one applied, so it is refused as stale and nothing applies twice.
        * A held plan supersedes every older pending preview, held ones included. It
          comes from a fresher read of the same directory and carries the reasons as
          they stand now; an older held plan can only apply if nothing changed since,
          and then the new plan is the same plan, so nothing a second approver could
          still apply is lost, and they see one plan to decide instead of several.
        """
        pending = col(PreviewRow.status) == PreviewStatus.PENDING.value
        expired = col(PreviewRow.expires_at) <= now
        replaceable = true() if held else col(PreviewRow.hold_reasons).is_(None)
        for condition, status in (
            (expired, PreviewStatus.EXPIRED),
            (and_(~expired, replaceable), PreviewStatus.SUPERSEDED),
        ):
            session.exec(update(PreviewRow).where(pending, condition).values(status=status.value))

    def preview(self, preview_id: int) -> PreviewView | None:
        with Session(self._engine) as session:
            row = session.get(PreviewRow, preview_id)
            return None if row is None else self._preview_view(row)

    def set_preview_message(self, preview_id: int, channel: str, ts: str) -> None:
        """Remember the Slack message showing a preview (as pending), to update it later."""
        self._set_message(preview_id, channel=channel, message_ts=ts, shown_status="pending")

    def mark_message_shown(self, preview_id: int, status: PreviewStatus) -> None:
        """The preview's message now shows ``status``: no refresh needed for it."""
        self._set_message(preview_id, shown_status=PreviewStatus(status).value)

    def _set_message(self, preview_id: int, **values: str) -> None:
        statement = update(PreviewRow).where(col(PreviewRow.id) == preview_id).values(**values)
        with Session(self._engine) as session:
            result = session.exec(statement)
            session.commit()
        if result.rowcount != 1:
            raise SyncError(f"preview {preview_id} does not exist")

    def previews_to_refresh(self, limit: int = 50) -> list[PreviewView]:
        """Closed previews whose Slack message still shows another status, oldest first.

        Whatever closed them (a newer preview, expiry, a run that failed a dead
        approval) left the message with live buttons; the bot edits each one and
        marks it shown. Messages posted before this was tracked are left alone.
        """
        statement = (
            select(PreviewRow)
            .where(
                col(PreviewRow.message_ts).is_not(None),
                col(PreviewRow.shown_status).is_not(None),
                self._status_in(sorted(CLOSED_PREVIEW_STATUSES), self._now()),
            )
            .order_by(col(PreviewRow.id))
            .limit(limit)
        )
        with Session(self._engine) as session:
            rows = list(session.exec(statement))
            views = [self._preview_view(row) for row in rows]
        shown = {row_id(row.id): row.shown_status for row in rows}
        return [view for view in views if shown[view.id] != view.status.value]

    def held_previews_to_post(self) -> list[PreviewView]:
        """Pending plans the guard rails held that no Slack message shows yet, oldest first.

        A held plan from the command line or from ``entra-sync check`` has no Slack
        client at hand; the bot posts it to the report channel for approvers.
        """
        statement = (
            select(PreviewRow)
            .where(
                col(PreviewRow.message_ts).is_(None),
                col(PreviewRow.hold_reasons).is_not(None),
                self._status_in([PreviewStatus.PENDING], self._now()),
            )
            .order_by(col(PreviewRow.id))
        )
        with Session(self._engine) as session:
            return [self._preview_view(row) for row in session.exec(statement)]

    def previews_with_status(
        self, statuses: Sequence[PreviewStatus], limit: int = 50
    ) -> list[PreviewView]:
        """Previews in any of ``statuses`` as callers see them, newest first."""
        statement = (
            select(PreviewRow)
            .where(self._status_in(statuses, self._now()))
            .order_by(col(PreviewRow.id).desc())
            .limit(limit)
        )
        with Session(self._engine) as session:
            return [self._preview_view(row) for row in session.exec(statement)]

    def expire_due_previews(self) -> list[PreviewView]:
        """Store ``expired`` on pending previews past their TTL; return the ones moved here.

        Each row moves by its own conditional update, so when two processes sweep at
        once every preview is returned by exactly one of them (one message to edit).
        """
        now = self._now()
        due = select(col(PreviewRow.id)).where(
            col(PreviewRow.status) == PreviewStatus.PENDING.value,
            col(PreviewRow.expires_at) <= now,
        )
        moved: list[PreviewView] = []
        with Session(self._engine) as session:
            for preview_id in [i for i in session.exec(due) if i is not None]:
                if self._expire(session, preview_id, now):
                    row = session.get(PreviewRow, preview_id)
                    if row is not None:
                        moved.append(self._preview_view(row))
        return moved

    @staticmethod
    def _expire(session: Session, preview_id: int, now: datetime) -> bool:
        statement = (
            update(PreviewRow)
            .where(
                col(PreviewRow.id) == preview_id,
                col(PreviewRow.status) == PreviewStatus.PENDING.value,
                col(PreviewRow.expires_at) <= now,
            )
            .values(status=PreviewStatus.EXPIRED.value)
        )
        result = session.exec(statement)
        session.commit()
        return result.rowcount == 1

    def pending_previews(self) -> list[PreviewView]:
        """Previews still awaiting a decision (expired ones excluded), newest first."""
        statement = (
            select(PreviewRow)
            .where(self._status_in([PreviewStatus.PENDING], self._now()))
            .order_by(col(PreviewRow.id).desc())
        )
        with Session(self._engine) as session:
            return [self._preview_view(row) for row in session.exec(statement)]

    def transition_preview(
        self,
        preview_id: int,
        from_status: Sequence[PreviewStatus],
        to_status: PreviewStatus,
        *,
        actor: str | None = None,
        undecide: bool = False,
        hold_reasons: Sequence[str] = (),
    ) -> bool:
        """Move a preview from one of ``from_status`` to ``to_status``, atomically.

        One conditional ``UPDATE ... WHERE status IN (...)``: when two people click
        Approve at once, the database lets exactly one of them through, and only that
        call returns True. ``actor``, when given, is recorded as the decider;
        ``undecide`` clears the decider instead (an approval handed back unused).
        ``hold_reasons``, when given, marks the preview held in the same update (a
        self-approved mass change handed back to wait for a second approver).
        """
        now = self._now()
        values: dict[str, Any] = {"status": PreviewStatus(to_status).value}
        if actor is not None:
            values.update(decided_by=actor, decided_at=now)
        elif undecide:
            values.update(decided_by=None, decided_at=None)
        if hold_reasons:
            values.update(hold_reasons=list(hold_reasons))
        statement = (
            update(PreviewRow)
            .where(col(PreviewRow.id) == preview_id, self._status_in(from_status, now))
            .values(**values)
        )
        with Session(self._engine) as session:
            result = session.exec(statement)
            session.commit()
            return result.rowcount == 1

    def fail_abandoned_previews(
        self, approved_before: datetime
    ) -> list[tuple[PreviewStatus, PreviewView]]:
        """Fail the previews no run can finish any more; (status they had, view) per preview.

        Call only while holding the run lease: every ``applying`` preview then belongs to
        a run that lost the lease to us (its process died or stalled past the ttl), and an
        ``approved`` one decided at or before ``approved_before`` never got its run
        started. Each moves by its own conditional update, so of two callers exactly one
        reports a preview. ``decided_by`` and ``decided_at`` stay: they name the approval.
        """
        approved = and_(
            col(PreviewRow.status) == PreviewStatus.APPROVED.value,
            col(PreviewRow.decided_at) <= approved_before,
        )
        applying = col(PreviewRow.status) == PreviewStatus.APPLYING.value
        due = select(col(PreviewRow.id), col(PreviewRow.status)).where(or_(applying, approved))
        moved: list[tuple[PreviewStatus, PreviewView]] = []
        with Session(self._engine) as session:
            for preview_id, status in list(session.exec(due)):
                condition = approved if status == PreviewStatus.APPROVED.value else applying
                statement = (
                    update(PreviewRow)
                    .where(col(PreviewRow.id) == preview_id, condition)
                    .values(status=PreviewStatus.FAILED.value)
                )
                result = session.exec(statement)
                session.commit()
                row = session.get(PreviewRow, preview_id) if result.rowcount == 1 else None
                if row is not None:
                    session.refresh(row)
                    moved.append((PreviewStatus(status), self._preview_view(row)))
        return moved

    @staticmethod
    def _status_in(statuses: Sequence[PreviewStatus], now: datetime) -> ColumnElement[bool]:
        """``status IN (...)`` as callers see statuses: a pending row past its TTL is expired."""
        wanted = {PreviewStatus(s) for s in statuses}
        status = col(PreviewRow.status)
        live = col(PreviewRow.expires_at) > now
        stored = [s.value for s in wanted - {PreviewStatus.PENDING}]
        branches: list[ColumnElement[bool]] = [status.in_(stored)] if stored else []
        if PreviewStatus.PENDING in wanted:
            branches.append(and_(status == PreviewStatus.PENDING.value, live))
        if PreviewStatus.EXPIRED in wanted:
            branches.append(and_(status == PreviewStatus.PENDING.value, ~live))
        return or_(*branches) if branches else false()

    def _preview_view(self, row: PreviewRow) -> PreviewView:
        plan = Plan.from_dict(row.plan)
        if plan.fingerprint != row.fingerprint:
            raise SyncError(f"stored preview {row.id} does not match its fingerprint")
        status = PreviewStatus(row.status)
        if status is PreviewStatus.PENDING and row.expires_at <= self._now():
            status = PreviewStatus.EXPIRED
        return PreviewView(
            id=row_id(row.id),
            run_id=row.run_id,
            plan=plan,
            fingerprint=row.fingerprint,
            status=status,
            requested_by=row.requested_by,
            created_at=row.created_at,
            expires_at=row.expires_at,
            decided_by=row.decided_by,
            decided_at=row.decided_at,
            channel=row.channel,
            message_ts=row.message_ts,
            hold_reasons=tuple(row.hold_reasons or ()),
            person=person_from_json(row.person) if row.person else None,
        )
