"""``app_home_opened``: publish the dashboard for the person who opened it."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.blocks import home_view
from bot.context import BotContext
from bot.scheduler import schedule_summary

HOME_OPENED = "app_home_opened"
EVENTS: tuple[str, ...] = (HOME_OPENED,)
"""Every Events API event the app subscribes to; the manifests must list exactly these."""


def register(app: App, ctx: BotContext) -> None:
    @app.event(HOME_OPENED)
    def home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return
        publish_home(ctx, event["user"])


def publish_home(ctx: BotContext, user_id: str) -> None:
    view = home_view(
        user_id=user_id,
        report=ctx.service.status(),
        pending=ctx.service.pending_previews(),
        team=ctx.service.team_settings(),
        is_admin=ctx.permissions.is_admin(user_id),
        is_approver=ctx.permissions.is_approver(user_id),
        now=ctx.clock(),
        schedule=schedule_summary(ctx.service, clock=ctx.clock),
    )
    ctx.client.views_publish(user_id=user_id, view=view)
