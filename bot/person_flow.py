"""The Slack side of one person: ``/entra explain``, the App Home's Explain a person and
``/entra sync <person>``. Run on the worker; each calls one core method and answers
privately with the Block Kit the builders make (a one-person preview goes to the channel,
like any preview, for an approver to decide).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any, Protocol, TypeVar

from slack_sdk.errors import SlackApiError

from bot.blocks import escape_mrkdwn, explanation_message, person_sync_message, preview_message
from bot.context import BotContext
from bot.publishing import publish_preview
from core.errors import SyncError
from core.runs import People, PersonSync, RunInProgress

log = logging.getLogger(__name__)
T = TypeVar("T")

UNEXPECTED = "The explanation failed unexpectedly; the details are in the bot's log."
UNEXPECTED_SYNC = "The sync of one person failed unexpectedly; the details are in the bot's log."


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


def sync_person_now(ctx: BotContext, user_id: str, query: str, reply: BlocksReply) -> None:
    """An approver's ``/entra sync <person>``: apply their share at once, answer privately."""
    sync_one = partial(PersonSync(ctx.service).sync, query, user_id)
    result = _attempt(sync_one, "sync", query, reply)
    if result is None:
        return
    message = person_sync_message(result)
    reply(message.text, message.blocks)


def post_person_preview(
    ctx: BotContext, channel: str, user_id: str, query: str, reply: BlocksReply
) -> None:
    """Anyone else: a one-person preview in the channel, for an approver to decide."""
    preview_one = partial(PersonSync(ctx.service).preview, query, user_id)
    result = _attempt(preview_one, "preview", query, reply)
    if result is None:
        return
    preview = ctx.service.preview_view(result.preview_id) if result.preview_id else None
    if preview is None:
        reply("The preview was made but could not be stored.")
        return
    now = ctx.clock()
    try:
        publish_preview(
            ctx.client, ctx.service, preview, preview_message(preview, result.plan, now=now),
            channel=channel, now=now,
        )  # fmt: skip
    except SlackApiError as exc:
        reply(f"Slack refused the preview: {exc.response.get('error', 'unknown_error')}")


def _attempt(action: Callable[[], T], what: str, query: str, reply: BlocksReply) -> T | None:
    """Run a one-person ``what`` (sync or preview); any failure is one private line."""
    try:
        return action()
    except RunInProgress as exc:
        reply(str(exc))
    except SyncError as exc:
        reply(f"The {what} of {escape_mrkdwn(query)} failed: {escape_mrkdwn(exc)}")
    except Exception:
        log.exception("one-person %s failed", what)
        reply(UNEXPECTED_SYNC)
    return None
