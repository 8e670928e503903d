"""Whether the service can work right now, in words safe for a public probe.

``/readyz`` is reachable by anyone who can reach the bot, so a failure is named by
its kind only: a driver's message can carry the host and user name of the database.
The full message goes to the log, where the operator looks next.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError

from core.runs.service import SyncService
from core.store import ping

logger = logging.getLogger(__name__)


def database_problem(service: SyncService) -> str | None:
    """``None`` when the database answers a query; otherwise what went wrong, briefly."""
    try:
        ping(service.store)
    except SQLAlchemyError as exc:
        logger.warning("Readiness: the database did not answer: %s", exc)
        return f"the database did not answer ({type(exc).__name__})"
    return None
