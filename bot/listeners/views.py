"""The setup modal's submission: validate, save, then test the connection in the background."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot import flows
from bot.blocks import SetupForm, parse_setup, setup_errors
from bot.context import BotContext
from bot.ids import View
from core.config import TeamSettings, normalise_team_settings, validate_entra_input
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
    """Validate both halves before storing either, so a bad form stores nothing."""
    team = TeamSettings(form.report_channel, form.approvers)
    problems: list[FieldProblem] = []
    try:
        validate_entra_input(
            form.tenant_id,
            form.client_id,
            form.client_secret,
            form.cadence_days,
            secret_required=not _has_secret(ctx),
        )
    except InvalidInput as exc:
        problems.extend(exc.problems)
    try:
        normalise_team_settings(team)
    except InvalidInput as exc:
        problems.extend(exc.problems)
    if problems:
        return tuple(problems)
    ctx.service.configure(
        form.tenant_id, form.client_id, form.client_secret, form.cadence_days, user
    )
    ctx.service.save_team_settings(team, user)
    return ()


def _has_secret(ctx: BotContext) -> bool:
    connection = ctx.service.store.connection()
    return connection is not None and connection.has_secret
