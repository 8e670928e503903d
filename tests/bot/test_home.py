"""The App Home dashboard, published per person on app_home_opened."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from bot.ids import Action
from core.version import version
from tests.bot.harness import new_trigger_id
from tests.bot.scenario import ADMIN, ALICE, BOB, Bot, action_ids


def _home(bot: Bot, user: str) -> dict[str, Any]:
    bot.open_home(user)
    call = bot.fake.last("views.publish")
    assert call.params["user_id"] == user
    view = call.params["view"]
    assert isinstance(view, dict)
    return view


def test_home_shows_runs_pending_previews_and_configuration(bot: Bot) -> None:
    """After a sync and a preview the dashboard names both, plus the connection without secrets."""
    bot.command("sync", user=BOB)
    bot.command("preview", user=ALICE)
    view = _home(bot, ALICE)
    rendered = json.dumps(view)
    assert view["type"] == "home"
    assert len(view["blocks"]) <= 100
    assert "Last manual sync" in rendered
    assert "Last scheduled sync" in rendered
    assert "0f1c2d3e-4a5b-4c6d-8e9f-a0b1c2d3e4f5" in rendered
    assert "sandbox-client-secret" not in rendered
    (pending,) = bot.service.pending_previews()
    assert "*Pending previews* (1)" in rendered
    assert f"*#{pending.id}* by <@{ALICE}>" in rendered


def test_home_and_status_name_the_release(bot: Bot) -> None:
    """Which release answers, for whoever checks an upgrade took."""
    footer = _home(bot, ALICE)["blocks"][-1]
    assert f"entra-assets-sync {version()}" in json.dumps(footer)
    status = json.loads(bot.command("status").body)
    assert f"entra-assets-sync {version()}" in json.dumps(status)


def test_members_see_only_the_preview_button(bot: Bot) -> None:
    """A member may generate a preview, but sync, schema and settings are not offered."""
    actions = action_ids(_home(bot, ALICE)["blocks"])
    assert Action.NEW_PREVIEW.value in actions
    assert (
        not {Action.RUN_SYNC.value, Action.CREATE_SCHEMA.value, Action.OPEN_SETTINGS.value}
        & actions
    )


def test_admins_see_settings_and_schema(bot: Bot) -> None:
    """Admins get Create Schema and Settings; approvers get Run Manual Sync."""
    admin = action_ids(_home(bot, ADMIN)["blocks"])
    assert {Action.CREATE_SCHEMA.value, Action.OPEN_SETTINGS.value} <= admin
    approver = action_ids(_home(bot, BOB)["blocks"])
    assert Action.RUN_SYNC.value in approver


def test_home_preview_button_posts_to_the_report_channel(bot: Bot) -> None:
    """Generate Preview from the Home tab (no channel, no response_url) uses the report channel."""
    payload = {
        "type": "block_actions",
        "user": {"id": ALICE},
        "api_app_id": "A_ENTRA",
        "team": {"id": "T0"},
        "container": {"type": "view", "view_id": "V1"},
        "view": {"id": "V1", "type": "home"},
        "trigger_id": new_trigger_id(),
        "actions": [
            {
                "action_id": Action.NEW_PREVIEW.value,
                "block_id": "b",
                "value": "home",
                "type": "button",
                "action_ts": "1.1",
            }
        ],
    }
    bot.dispatch("payload=" + quote(json.dumps(payload)))
    assert bot.posted_previews()[-1]["channel"] == "C0OPS"
