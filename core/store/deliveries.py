"""Slack requests already handled, so a retried or replayed one runs once.

Slack can deliver one request twice: it retries a request that was not answered in
3 seconds (with ``X-Slack-Retry-Num``), and a captured signed request passes the
signature check again for as long as its timestamp is within 5 minutes. Both copies
carry the same ``trigger_id``, which Slack makes unique per command and per click.

The keys live in the database rather than in memory because the bot may run as more
than one process (replicas behind a load balancer, a restart between the original and
its retry), and a retry need not reach the process that took the original: the
database is already what those processes agree on (the run lease). It stays small
and bounded in time: every claim first deletes keys older than :data:`DELIVERY_TTL`,
so the table only ever holds the last quarter of an hour's requests.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from core.store.tables import SlackDeliveryRow

# Three times the signature window: a replay is refused by the signature check after
# 5 minutes by Slack's clock, and our clock may differ from Slack's by as much again.
DELIVERY_TTL = timedelta(minutes=15)
MAX_KEY_LENGTH = 255


class DeliveryRecords:
    """Delivery keys; needs the store's engine and clock."""

    _engine: Engine

    def _now(self) -> datetime:
        raise NotImplementedError

    def first_delivery(self, key: str, ttl: timedelta = DELIVERY_TTL) -> bool:
        """True the first time ``key`` is claimed within ``ttl``; False for a repeat.

        One insert against the primary key decides, so two processes claiming the
        same key at once get one True between them.
        """
        now = self._now()
        with Session(self._engine) as session:
            expired = col(SlackDeliveryRow.seen_at) < now - ttl
            session.exec(delete(SlackDeliveryRow).where(expired))
            session.add(SlackDeliveryRow(key=key[:MAX_KEY_LENGTH], seen_at=now))
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                return False
        return True
