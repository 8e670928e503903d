"""The setup modal's submission: validate, save, then test the connection in the background."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot import flows
from bot.blocks import SetupForm, parse_setup, setup_errors
from bot.context import BotContext
from bot.ids import View
from core.config import TeamSettings
from core.errors import FieldProblem, InvalidInput


def register(app: App, ctx: BotContext) -> None:
    @app.view(View.SETUP.value)
    def submit_setup(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = body["user"]["id"]
        if not ctx.permissions.is_admin(user):
            ack(
                response_action="errors",
                errors=setup_errors(
                    [FieldProblem("tenant_id", "only admins can change the setup")]
                ),
            )
            return
        form = parse_setup(view)
        problems = _save(ctx, form, user)
        if problems:
            ack(response_action="errors", errors=setup_errors(problems))
            return
        ack()
        ctx.worker.submit(lambda: flows.send_connection_check(ctx, user), name="connection check")


def _save(ctx: BotContext, form: SetupForm, user: str) -> tuple[FieldProblem, ...]:
    """Store the form through the service: both halves, or neither and every problem."""
    try:
        ctx.service.save_setup(
            tenant_id=form.tenant_id,
            client_id=form.client_id,
            client_secret=form.client_secret,
            cadence_days=form.cadence_days,
            team=TeamSettings(form.report_channel, form.approvers),
            actor=user,
        )
    except InvalidInput as exc:
        return tuple(exc.problems)
    return ()
