"""A Slack request delivered twice runs once: a retry or replay is acked and dropped.

Slack retries a request it got no answer to within 3 seconds (``X-Slack-Retry-Num``),
and a captured signed request passes the signature check again for 5 minutes. Both
carry the original ``trigger_id``, unique per command and per click, so the first
delivery claims it (in the database, shared by every bot process: see
``core/store/deliveries.py``) and any later one is acknowledged quietly and does
nothing: no second preview, no second sync.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from slack_bolt.request import BoltRequest

from bot.context import BotContext

log = logging.getLogger(__name__)


def is_repeat(ctx: BotContext, body: Mapping[str, Any], request: BoltRequest) -> bool:
    """True when this request's trigger was already handled; the caller just acks."""
    trigger = body.get("trigger_id")
    if not isinstance(trigger, str) or not trigger:
        return False  # nothing to recognise it by: handle it
    try:
        first = ctx.service.first_delivery(f"trigger:{trigger}")
    except Exception:
        # Without the database the run itself will fail and say so; do not hide that.
        log.exception("Could not record a Slack request; handling it anyway")
        return False
    if first:
        return False
    retry = (request.headers.get("x-slack-retry-num") or ["none"])[0]
    log.info("Ignored a repeated Slack request (Slack retry number: %s)", retry)
    return True
