"""The App Home's Explain a Person: a button opens a modal; its submission runs explain.

The answer is the same Block Kit ``/entra explain`` replies with, sent as a direct
message from the app (the App Home has no ``response_url``).
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.blocks import explain_modal, explain_query
from bot.context import BotContext
from bot.ids import EXPLAIN_BLOCK, Action, View
from bot.listeners.replies import dm
from bot.person_flow import explain_person
from core.errors import InvalidInput
from core.runs import check_query


def register(app: App, ctx: BotContext) -> None:
    @app.action(Action.OPEN_EXPLAIN.value)
    def open_explain(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        ctx.client.views_open(trigger_id=body["trigger_id"], view=explain_modal())

    @app.view(View.EXPLAIN.value)
    def submit_explain(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = body["user"]["id"]
        if not ctx.approvals.may_request_preview(user, lambda: ctx.permissions.is_admin(user)):
            ack(response_action="errors", errors={EXPLAIN_BLOCK: _clip(_refusal(ctx))})
            return
        query = explain_query(view)
        try:
            check_query(query)
        except InvalidInput as exc:
            rules = "; ".join(p.rule for p in exc.problems)
            ack(response_action="errors", errors={EXPLAIN_BLOCK: _clip(f"This {rules}.")})
            return
        ack()
        reply = dm(ctx, user)
        ctx.worker.submit(lambda: explain_person(ctx, query, reply), name="explain")


def _refusal(ctx: BotContext) -> str:
    return ctx.approvals.preview_refusal()


def _clip(text: str, limit: int = 150) -> str:
    """Slack refuses an input error longer than 150 characters."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
