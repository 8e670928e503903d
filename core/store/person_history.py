"""The writes stored for one person, across runs: the history ``explain`` shows.

Reads the outcomes every applying run stores (``core/runs/active.py``), with the run
that made them, so "when did Bob's Employee change, how, and on whose say" is one
query rather than a hunt through every run's report.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import Engine, String, cast, func, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from core.store.tables import OutcomeRow, RunRow, RunView, outcome_from_row, run_view
from core.sync import ChangeOutcome

MAX_HISTORY = 200


@dataclass(frozen=True, slots=True)
class PersonWrite:
    """One stored write for the person, and the run that made it."""

    run: RunView
    outcome: ChangeOutcome


class PersonHistory:
    """Outcomes by person; needs the store's engine."""

    _engine: Engine

    def person_writes(
        self,
        entra_user_ids: Collection[str] = (),
        object_keys: Collection[str] = (),
        label: str | None = None,
        mentions: str | None = None,
        limit: int = MAX_HISTORY,
    ) -> list[PersonWrite]:
        """Writes naming any of these ids or keys, whose label contains ``label``, or
        whose values mention ``mentions``; newest first."""
        conditions: list[ColumnElement[bool]] = []
        if entra_user_ids:
            conditions.append(
                col(OutcomeRow.entra_user_id).in_([i.lower() for i in entra_user_ids])
            )
        if object_keys:
            conditions.append(col(OutcomeRow.object_key).in_(list(object_keys)))
        if label:
            conditions.append(func.lower(col(OutcomeRow.label)).contains(label.lower()))
        if mentions:
            stored = func.lower(cast(col(OutcomeRow.changes), String))
            conditions.append(stored.contains(mentions.lower()))
        if not conditions:
            return []
        statement = (
            select(OutcomeRow, RunRow)
            .join(RunRow, col(RunRow.id) == col(OutcomeRow.run_id))
            .where(or_(*conditions))
            .order_by(col(OutcomeRow.id).desc())
            .limit(limit)
        )
        with Session(self._engine) as session:
            return [
                PersonWrite(run_view(run), outcome_from_row(row))
                for row, run in session.exec(statement)
            ]
