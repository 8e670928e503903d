"""Upkeep of posted previews: expired previews lose their buttons.

Expiry is also enforced at click time (an expired preview is never applied); this
sweep only keeps the channel honest, so nobody reaches for a button that is dead.
:mod:`bot.scheduler` runs it every :data:`SWEEP_MINUTES` in the ``serve`` process, and
each new preview runs it first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks import closed_message
from core.service import SyncService
from core.store import PreviewStatus

log = logging.getLogger(__name__)

SWEEP_MINUTES = 10


def _utc_now() -> datetime:
    return datetime.now(UTC)


def close_expired_previews(
    service: SyncService, client: WebClient, now: Callable[[], datetime] = _utc_now
) -> int:
    """Mark due previews expired and strip their buttons; returns how many were closed."""
    expired = service.store.expire_due_previews()
    for preview in expired:
        if not preview.channel or not preview.message_ts:
            continue
        message = closed_message(preview, preview.plan, PreviewStatus.EXPIRED, now=now())
        try:
            client.chat_update(channel=preview.channel, ts=preview.message_ts, **message.kwargs())
        except SlackApiError as exc:
            log.warning("could not close preview #%s: %s", preview.id, exc.response.get("error"))
    return len(expired)
