"""The Slack side of each long operation, run on the worker after the listener acked.

Each flow calls one service method and turns its result into messages; the sync logic
stays in :mod:`core`. Progress edits one message in place, at most every two seconds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from slack_sdk.errors import SlackApiError

from bot.blocks import (
    Message,
    connection_check_message,
    decided_message,
    escape_mrkdwn,
    held_message,
    preview_message,
    sync_failed_message,
    sync_progress_message,
    sync_report_message,
)
from bot.context import BotContext
from bot.publishing import Posted, edit_message, post_message, publish_preview, show_on_preview
from core.errors import SyncError
from core.runs import Decision, DecisionKind, RunInProgress, SyncResult, check_connection
from core.store import PreviewView

log = logging.getLogger(__name__)

Reply = Callable[[str], None]
PROGRESS_INTERVAL = 2.0
UNEXPECTED = "{what} failed unexpectedly; the details are in the bot's log."


class MessageEditor:
    """Posts one message, then edits it in place; edits are throttled for Slack's limits."""

    def __init__(self, ctx: BotContext, channel: str, interval: float = PROGRESS_INTERVAL) -> None:
        self._ctx = ctx
        self.channel = channel
        self.posted: Posted | None = None
        self._interval = interval
        self._last = 0.0

    def show(self, message: Message, *, force: bool = False) -> None:
        now = time.monotonic()
        if self.posted is not None and not force and now - self._last < self._interval:
            return
        self._last = now
        if self.posted is not None:
            edit_message(self._ctx.client, self.posted, message, what="the progress message")
            return
        try:
            self.posted = post_message(self._ctx.client, self.channel, message)
        except SlackApiError as exc:  # progress is a courtesy: it never stops the work
            log.warning("could not show progress: %s", exc.response.get("error"))


def post_preview(ctx: BotContext, channel: str, user_id: str, reply: Reply) -> None:
    """Generate a preview and publish it with Approve / Reject in ``channel``."""
    try:
        result = ctx.service.preview(user_id)
    except RunInProgress as exc:
        reply(str(exc))
        return
    except SyncError as exc:
        reply(f"The preview failed: {escape_mrkdwn(exc)}")
        return
    except Exception:
        log.exception("preview failed")
        reply(UNEXPECTED.format(what="The preview"))
        return
    preview = ctx.service.preview_view(result.preview_id) if result.preview_id else None
    if preview is None:
        reply("The preview was generated but could not be stored.")
        return
    now = ctx.clock()
    message = preview_message(preview, result.plan, now=now)
    try:
        publish_preview(ctx.client, ctx.service, preview, message, channel=channel, now=now)
    except SlackApiError as exc:
        reply(_post_failed(exc))


def _post_failed(exc: SlackApiError) -> str:
    error = exc.response.get("error", "unknown_error")
    if error in {"not_in_channel", "channel_not_found"}:
        return (
            "I cannot post in this channel. Invite me (`/invite @Entra Assets Sync`) "
            "or run the command in a public channel."
        )
    return f"Slack refused the message: {error}"


def decide(ctx: BotContext, preview_id: int, user_id: str, approve: bool, reply: Reply) -> None:
    """Approve or reject, then show the outcome on the preview message itself."""
    try:
        _decide(ctx, preview_id, user_id, approve, reply)
    except Exception:
        log.exception("decision on preview #%s failed", preview_id)
        reply(UNEXPECTED.format(what="The decision"))


def _decide(ctx: BotContext, preview_id: int, user_id: str, approve: bool, reply: Reply) -> None:
    if approve:
        show = _progress_editor(ctx, ctx.service.preview_view(preview_id))
        decision = ctx.approvals.approve(
            preview_id,
            user_id,
            say=lambda step: show(step, 0, 0),
            progress=lambda done, total: show("Applying changes", done, total),
        )
    else:
        decision = ctx.approvals.reject(preview_id, user_id)
    _show_decision(ctx, decision, reply)


def _progress_editor(
    ctx: BotContext, preview: PreviewView | None
) -> Callable[[str, int, int], None]:
    """Progress on the preview message. Nothing shows until the approval is under way."""
    if preview is None or not preview.channel or not preview.message_ts:
        return lambda step, done, total: None
    editor = MessageEditor(ctx, preview.channel)
    editor.posted = Posted(preview.channel, preview.message_ts)

    def show(step: str, done: int, total: int) -> None:
        editor.show(sync_progress_message("", step, done, total))

    return show


PRIVATE_DECISIONS = frozenset(
    {
        DecisionKind.DENIED,
        DecisionKind.BUSY,
        DecisionKind.HELD,
        DecisionKind.NOT_FOUND,
        DecisionKind.ALREADY_DECIDED,
    }
)
"""Decisions only the clicker hears about: the preview message stays as it is."""


def _show_decision(ctx: BotContext, decision: Decision, reply: Reply) -> None:
    preview = decision.preview
    if decision.kind in PRIVATE_DECISIONS:
        reply(decision.reason)
        if decision.kind is DecisionKind.HELD and preview is not None:
            # Progress may have drawn over the buttons: give the pending preview back.
            message = preview_message(preview, preview.plan, now=ctx.clock())
            show_on_preview(ctx.client, ctx.service, preview, message)
        return
    if preview is not None:
        message = decided_message(preview, preview.plan, decision, now=ctx.clock())
        show_on_preview(ctx.client, ctx.service, preview, message)


def run_sync_now(ctx: BotContext, channel: str, user_id: str, reply: Reply) -> None:
    """An approver's manual sync: one progress message updated in place, then the report."""
    busy = ctx.service.busy()
    if busy is not None:
        reply(str(busy))
        return
    editor = MessageEditor(ctx, channel)
    editor.show(sync_progress_message(user_id, "Reading Atlassian, Entra and Assets", 0, 0))
    try:
        result = ctx.service.sync(
            user_id,
            say=lambda step: editor.show(sync_progress_message(user_id, step, 0, 0)),
            progress=lambda done, total: editor.show(
                sync_progress_message(user_id, "Applying changes", done, total)
            ),
        )
    except RunInProgress as exc:
        reply(str(exc))
        return
    except SyncError as exc:
        editor.show(sync_failed_message(user_id, str(exc)), force=True)
        return
    except Exception:
        log.exception("sync failed")
        editor.show(sync_failed_message(user_id, "unexpected error; see the bot's log"), force=True)
        return
    if result.held:
        _show_held(ctx, editor, result)
        return
    editor.show(sync_report_message(result, user_id), force=True)


def _show_held(ctx: BotContext, editor: MessageEditor, result: SyncResult) -> None:
    """A manual sync the guard rails held: the progress message becomes a preview to approve.

    The approver who ran it asked for it, so another approver decides: a mass change
    never rests on one person's click when they have not seen it.
    """
    preview = ctx.service.preview_view(result.preview_id) if result.preview_id else None
    if preview is None:
        return
    now = ctx.clock()
    message = held_message(preview, result.plan, result.hold_reasons, now=now)
    try:
        publish_preview(
            ctx.client,
            ctx.service,
            preview,
            message,
            channel=editor.channel,
            now=now,
            replacing=editor.posted,
        )
    except SlackApiError as exc:
        log.warning("could not post held preview #%s: %s", preview.id, exc.response.get("error"))


def send_connection_check(ctx: BotContext, user_id: str) -> None:
    """Test the saved connection and tell the person privately what to fix, if anything."""
    check = check_connection(ctx.service)
    connection = ctx.service.connection()
    tenant = connection.tenant_id if connection else ""
    message = connection_check_message(check, tenant_id=tenant)
    ctx.client.chat_postMessage(channel=user_id, text=message.text, blocks=message.blocks)
