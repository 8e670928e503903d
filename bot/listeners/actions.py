"""Button clicks: Approve / Reject on previews, and the App Home buttons."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_bolt.request import BoltRequest

from bot import flows
from bot.blocks import setup_modal
from bot.context import BotContext
from bot.ids import Action
from bot.listeners.commands import ONLY_ADMINS, _create_schema, _may_request_preview
from bot.listeners.repeats import is_repeat
from bot.listeners.replies import dm, private


def register(app: App, ctx: BotContext) -> None:
    @app.action(Action.APPROVE.value)
    def approve(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        _decide(ctx, body, respond, approve=True)

    @app.action(Action.REJECT.value)
    def reject(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        _decide(ctx, body, respond, approve=False)

    @app.action(Action.NEW_PREVIEW.value)
    def new_preview(ack: Ack, body: dict[str, Any], respond: Respond, request: BoltRequest) -> None:
        ack()
        if is_repeat(ctx, body, request):
            return
        user = body["user"]["id"]
        channel, reply = _where(ctx, body, respond)
        if not _may_request_preview(ctx, user):
            reply(ctx.approvals.preview_refusal())
            return
        ctx.worker.submit(lambda: flows.post_preview(ctx, channel, user, reply), name="preview")

    @app.action(Action.RUN_SYNC.value)
    def run_sync(ack: Ack, body: dict[str, Any], respond: Respond, request: BoltRequest) -> None:
        ack()
        if is_repeat(ctx, body, request):
            return
        user = body["user"]["id"]
        channel, reply = _where(ctx, body, respond)
        if not ctx.approvals.may_sync_now(user):
            reply("Only approvers can run a sync now; Generate Preview asks them instead.")
            return
        ctx.worker.submit(lambda: flows.run_sync_now(ctx, channel, user, reply), name="sync")

    @app.action(Action.CREATE_SCHEMA.value)
    def create_schema(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        user = body["user"]["id"]
        _, reply = _where(ctx, body, respond)
        if not ctx.permissions.is_admin(user):
            reply(ONLY_ADMINS.format(what="create the schema"))
            return
        ctx.worker.submit(lambda: _create_schema(ctx, user, reply), name="schema")

    @app.action(Action.OPEN_SETTINGS.value)
    def open_settings(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        user = body["user"]["id"]
        if not ctx.permissions.is_admin(user):
            _where(ctx, body, respond)[1](ONLY_ADMINS.format(what="change the setup"))
            return
        view = setup_modal(ctx.service.connection(), ctx.service.team_settings())
        ctx.client.views_open(trigger_id=body["trigger_id"], view=view)


def _decide(ctx: BotContext, body: dict[str, Any], respond: Respond, *, approve: bool) -> None:
    user = body["user"]["id"]
    value = body["actions"][0].get("value", "")
    reply = private(ctx, respond, user)
    if not value.isdigit():
        reply("This button does not name a preview.")
        return
    ctx.worker.submit(
        lambda: flows.decide(ctx, int(value), user, approve, reply),
        name="approve" if approve else "reject",
    )


def _where(ctx: BotContext, body: dict[str, Any], respond: Respond) -> tuple[str, flows.Reply]:
    """Channel and private reply for a click: the message's channel, or the App Home's DM."""
    user = body["user"]["id"]
    channel = (body.get("channel") or {}).get("id")
    if channel and body.get("response_url"):
        return channel, private(ctx, respond, user)
    report = ctx.service.team_settings().report_channel
    return report or user, dm(ctx, user)
