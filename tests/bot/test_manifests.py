"""The manifests ask for exactly what the app registers and uses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import REQUIRED_BOT_SCOPES
from bot.ids import COMMAND, Action
from bot.listeners.events import EVENTS
from tests.bot.scenario import ADMIN, ALICE, BOB, Bot

MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"

# Which bot scope each Web API method the app calls needs.
SCOPE_OF_METHOD = {
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
    "users.info": "users:read",
    "conversations.join": "channels:join",
    "views.open": None,
    "views.publish": None,
    "auth.test": None,
}


def _load(name: str) -> dict[str, Any]:
    loaded = yaml.safe_load((MANIFESTS / name).read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.mark.parametrize("name", ["socket-mode.yaml", "http.yaml"])
def test_manifest_matches_what_the_app_registers(name: str) -> None:
    """Command, events, interactivity, Home tab and scopes agree with the code."""
    manifest = _load(name)
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == COMMAND
    assert command["usage_hint"]
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert tuple(manifest["oauth_config"]["scopes"]["bot"]) == REQUIRED_BOT_SCOPES
    settings = manifest["settings"]
    assert tuple(settings["event_subscriptions"]["bot_events"]) == EVENTS
    assert settings["interactivity"]["is_enabled"] is True
    http = name == "http.yaml"
    assert settings["socket_mode_enabled"] is not http
    urls = [
        command.get("url"),
        settings["interactivity"].get("request_url"),
        settings["event_subscriptions"].get("request_url"),
    ]
    assert all(url and url.endswith("/slack/events") for url in urls) if http else not any(urls)


def test_every_button_has_a_listener(bot: Bot) -> None:
    """Each action id the blocks can emit is handled (Bolt answers 404 for unhandled ones)."""
    for action in Action:
        response = bot.click(action, "1", ADMIN)
        assert response.status == 200, action


def test_scopes_cover_every_call_and_none_is_spare(bot: Bot) -> None:
    """Running the whole story calls only methods the scopes allow, and uses every scope."""
    bot.command("help", user=ALICE)
    bot.command("setup", user=ADMIN)
    bot.command("preview", user=ALICE)
    (pending,) = bot.service.pending_previews()
    bot.click(Action.APPROVE, str(pending.id), BOB, pending.message_ts or "")
    bot.open_home(ADMIN)
    bot.open_home(ALICE)
    methods = {call.method_name for call in bot.fake.calls()} - {"response_url", "upload"}
    assert methods <= set(SCOPE_OF_METHOD), json.dumps(sorted(methods))
    used = {SCOPE_OF_METHOD[m] for m in methods} - {None}
    # commands is used by /entra itself; chat:write.public by reports to unjoined channels.
    assert used | {"commands", "chat:write.public"} == set(REQUIRED_BOT_SCOPES)
