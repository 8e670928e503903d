"""Listeners, one module per Slack surface; each exposes ``register(app, ctx)``."""

from __future__ import annotations

from slack_bolt import App

from bot.context import BotContext
from bot.listeners import actions, commands, events, person, views


def register(app: App, ctx: BotContext) -> None:
    commands.register(app, ctx)
    actions.register(app, ctx)
    views.register(app, ctx)
    events.register(app, ctx)
    person.register(app, ctx)
