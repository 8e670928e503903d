"""Builds the Bolt app: one service, one worker, listeners registered per surface."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from datetime import UTC, datetime

from slack_bolt import App
from slack_sdk import WebClient

from bot import listeners, verification
from bot.config import SlackSettings, build_web_client
from bot.context import BotContext
from bot.permissions import Permissions
from bot.worker import Worker
from core.runs import Approvals, SyncService


def _utc_now() -> datetime:
    return datetime.now(UTC)


def build_app(
    service: SyncService,
    slack: SlackSettings,
    *,
    client: WebClient | None = None,
    worker: Worker | None = None,
    clock: Callable[[], datetime] = _utc_now,
    token_verification_enabled: bool = True,
    listener_executor: Executor | None = None,
) -> App:
    """The Slack app. Tests pass a client aimed at the fake Web API and their own worker."""
    web = client or build_web_client(slack)
    app = App(
        client=web,
        signing_secret=slack.signing_secret or None,
        request_verification_enabled=not slack.socket_mode,
        token_verification_enabled=token_verification_enabled,
        listener_executor=listener_executor,
    )
    if slack.signing_secret and not slack.socket_mode:
        verification.install(app, slack.signing_secret)  # Bolt's own would log the body
    ctx = BotContext(
        service=service,
        approvals=Approvals(service),
        client=web,
        permissions=Permissions(web, service, slack.admin_user_ids),
        worker=worker or Worker(),
        clock=clock,
    )
    listeners.register(app, ctx)
    return app
