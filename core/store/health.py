"""Is the database there? One trivial query, for the bot's ``/readyz``."""

from __future__ import annotations

from sqlalchemy import text

from core.store.database import Store


def ping(store: Store) -> None:
    """Run ``SELECT 1`` on a pooled connection; raises SQLAlchemy's error when it cannot.

    A query, not just a connect: a pool can hand out a connection the server has
    already dropped, and only a round trip finds that out.
    """
    with store.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
