"""Upkeep of posted previews: expired previews lose their buttons.

Expiry is also enforced at click time (an expired preview is never applied); this
sweep only keeps the channel honest, so nobody reaches for a button that is dead.
:mod:`bot.scheduler` runs it every :data:`SWEEP_MINUTES` in the ``serve`` process, and
each new preview runs it first.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks import closed_message
from core.runs import SyncService
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


INTERRUPTED_ACTION = "interrupt"  # the audit action core writes when it fails such a preview
_PREVIEW_SUBJECT = re.compile(r"^preview #(\d+)$")


def close_interrupted_previews(
    service: SyncService, client: WebClient, now: Callable[[], datetime] = _utc_now
) -> int:
    """Show "failed" on previews a dead process left applying; returns how many.

    Core fails them (and audits it) when the next run takes the lease; the audit trail
    is what tells this sweep which messages to fix. Looking back two sweep intervals
    means a message may be rewritten twice with the same text: harmless.
    """
    since = now() - timedelta(minutes=2 * SWEEP_MINUTES)
    closed = 0
    for event in service.store.audit_events(limit=200):
        match = _PREVIEW_SUBJECT.match(event.subject)
        if event.action != INTERRUPTED_ACTION or event.at < since or match is None:
            continue
        preview = service.preview_view(int(match.group(1)))
        if preview is None or not preview.channel or not preview.message_ts:
            continue
        message = closed_message(preview, preview.plan, PreviewStatus.FAILED, now=now())
        try:
            client.chat_update(channel=preview.channel, ts=preview.message_ts, **message.kwargs())
            closed += 1
        except SlackApiError as exc:
            log.warning("could not close preview #%s: %s", preview.id, exc.response.get("error"))
    return closed


def sweep(service: SyncService, client: WebClient, now: Callable[[], datetime] = _utc_now) -> None:
    """The periodic job: expired and interrupted previews lose their buttons."""
    close_expired_previews(service, client, now)
    close_interrupted_previews(service, client, now)
