"""Scheduled checks already claimed, so each daily check runs in one process only.

Every replica's scheduler fires at the same check time, and a catch-up check fires
when one starts. The run lease keeps two runs from overlapping, but not a second run
that starts after the first has finished (a held plan or a failure leaves the sync
due). The first process to claim a check's time runs it; the others are told who did.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from core.store.tables import ScheduledCheckRow


class CheckClaims:
    """Claims on scheduled checks; needs the store's engine and clock."""

    _engine: Engine

    def _now(self) -> datetime:
        raise NotImplementedError

    def claim_check(self, slot: datetime, holder: str) -> str | None:
        """None when ``holder`` now owns the check at ``slot``; else who claimed it first.

        One insert against the primary key decides, so of two processes claiming one
        check at once exactly one gets None.
        """
        with Session(self._engine) as session:
            session.add(ScheduledCheckRow(slot=slot, claimed_by=holder, claimed_at=self._now()))
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
            else:
                return None
            row = session.get(ScheduledCheckRow, slot)
            return row.claimed_by if row is not None else "another process"
