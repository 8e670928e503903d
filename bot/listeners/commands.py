"""``/entra <subcommand>``: ack within Slack's 3 seconds, then hand long work to the worker."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_bolt.request import BoltRequest

from bot import flows
from bot.blocks import escape_mrkdwn, help_message, setup_modal, status_message
from bot.context import BotContext
from bot.ids import COMMAND
from bot.listeners.repeats import is_repeat
from bot.listeners.replies import private
from bot.scheduler import schedule_summary
from core.errors import SyncError

ONLY_ADMINS = "Only Slack workspace admins (or the users in ENTRA_SYNC_ADMIN_USER_IDS) can {what}."

Handler = Callable[[BotContext, Ack, Mapping[str, Any], Respond], None]


def register(app: App, ctx: BotContext) -> None:
    @app.command(COMMAND)
    def entra(ack: Ack, command: dict[str, Any], respond: Respond, request: BoltRequest) -> None:
        if is_repeat(ctx, command, request):
            ack()  # a Slack retry or a replay: the first delivery is doing the work
            return
        words = (command.get("text") or "").split()
        handler = SUBCOMMANDS.get(words[0].lower() if words else "", _help)
        handler(ctx, ack, command, respond)


def _help(ctx: BotContext, ack: Ack, command: Mapping[str, Any], respond: Respond) -> None:
    message = help_message()
    ack(text=message.text, blocks=message.blocks)


def _setup(ctx: BotContext, ack: Ack, command: Mapping[str, Any], respond: Respond) -> None:
    ack()  # first: the admin check may call Slack, and the command must be acked in 3 s
    user = command["user_id"]
    if not ctx.permissions.is_admin(user):
        private(ctx, respond, user)(ONLY_ADMINS.format(what="change the setup"))
        return
    view = setup_modal(ctx.service.connection(), ctx.service.team_settings())
    ctx.client.views_open(trigger_id=command["trigger_id"], view=view)


def _schema(ctx: BotContext, ack: Ack, command: Mapping[str, Any], respond: Respond) -> None:
    user = command["user_id"]
    if not ctx.permissions.is_admin(user):
        ack(text=ONLY_ADMINS.format(what="create the schema"))
        return
    ack(text="Creating the Entra Directory schema...")
    reply = private(ctx, respond, user)
    ctx.worker.submit(lambda: _create_schema(ctx, user, reply), name="schema")


def _create_schema(ctx: BotContext, user: str, reply: flows.Reply) -> None:
    try:
        report = ctx.service.create_schema(user)
    except SyncError as exc:
        reply(f"The schema was not created: {escape_mrkdwn(exc)}")
        return
    notes = "".join(f"\nNote: {escape_mrkdwn(n)}" for n in report.mismatched_attributes)
    if not report.changed:
        reply("Schema Entra Directory (ENTRA) is complete; nothing to add." + notes)
        return
    reply("Created " + ", ".join(report.created()) + "." + notes)


def _preview(ctx: BotContext, ack: Ack, command: Mapping[str, Any], respond: Respond) -> None:
    channel, user = command["channel_id"], command["user_id"]
    if not _may_request_preview(ctx, user):
        ack(text=ctx.approvals.preview_refusal())
        return
    ack(text="Generating preview...")
    reply = private(ctx, respond, user)
    ctx.worker.submit(lambda: flows.post_preview(ctx, channel, user, reply), name="preview")


def _sync(ctx: BotContext, ack: Ack, command: Mapping[str, Any], respond: Respond) -> None:
    channel, user = command["channel_id"], command["user_id"]
    reply = private(ctx, respond, user)
    if ctx.approvals.may_sync_now(user):
        ack(text="Starting the sync...")
        ctx.worker.submit(lambda: flows.run_sync_now(ctx, channel, user, reply), name="sync")
        return
    if not _may_request_preview(ctx, user):
        ack(text=ctx.approvals.preview_refusal())
        return
    ack(text="You are not an approver, so I am posting a preview for an approver to apply.")
    ctx.worker.submit(lambda: flows.post_preview(ctx, channel, user, reply), name="preview")


def _may_request_preview(ctx: BotContext, user: str) -> bool:
    """The rule is core's (approvals.py); the bot only says who is an admin in Slack."""
    return ctx.approvals.may_request_preview(user, lambda: ctx.permissions.is_admin(user))


def _status(ctx: BotContext, ack: Ack, command: Mapping[str, Any], respond: Respond) -> None:
    next_check = schedule_summary(ctx.service, clock=ctx.clock)
    message = status_message(ctx.service.status(), next_check=next_check, now=ctx.clock())
    ack(text=message.text, blocks=message.blocks)


SUBCOMMANDS: dict[str, Handler] = {
    "help": _help,
    "setup": _setup,
    "schema": _schema,
    "preview": _preview,
    "sync": _sync,
    "status": _status,
}
