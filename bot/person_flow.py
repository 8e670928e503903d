"""The Slack side of ``/entra explain`` (and the App Home's Explain a person): run on the
worker, answer privately with the Block Kit the builders make.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from bot.blocks import escape_mrkdwn, explanation_message
from bot.context import BotContext
from core.errors import SyncError
from core.runs import People

log = logging.getLogger(__name__)

UNEXPECTED = "The explanation failed unexpectedly; the details are in the bot's log."


class BlocksReply(Protocol):
    """A private reply that can carry blocks (:class:`bot.listeners.replies.PrivateReply`)."""

    def __call__(self, text: str, blocks: list[dict[str, Any]] | None = None) -> None: ...


def explain_person(ctx: BotContext, query: str, reply: BlocksReply) -> None:
    """Explain one person; every failure is one private line, never silence."""
    try:
        report = People(ctx.service).explain(query)
    except SyncError as exc:
        reply(f"The explanation failed: {escape_mrkdwn(exc)}")
        return
    except Exception:
        log.exception("explain failed")
        reply(UNEXPECTED)
        return
    message = explanation_message(report)
    reply(message.text, message.blocks)
