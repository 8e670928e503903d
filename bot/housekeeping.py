"""Upkeep of posted previews: messages that no longer tell the truth get fixed.

Expiry is also enforced at click time (an expired preview is never applied); this
sweep only keeps the channel honest, so nobody reaches for a button that is dead,
and posts plans the guard rails held where no Slack client was at hand (a held
``entra-sync sync`` or ``entra-sync check``) to the report channel for approvers.
:mod:`bot.scheduler` runs it every :data:`SWEEP_MINUTES` in the ``serve`` process.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from slack_sdk import WebClient

from bot.publishing import post_held_previews, refresh_previews
from core.runs import SyncService

SWEEP_MINUTES = 10


def _utc_now() -> datetime:
    return datetime.now(UTC)


def sweep(service: SyncService, client: WebClient, now: Callable[[], datetime] = _utc_now) -> None:
    """The periodic job: closed previews lose their buttons; held plans reach approvers."""
    refresh_previews(client, service, now())
    post_held_previews(client, service, now())
