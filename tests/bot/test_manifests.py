"""The manifests are generated from one source and ask for exactly what the app uses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import REQUIRED_BOT_SCOPES
from bot.ids import COMMAND, Action
from bot.listeners.commands import SUBCOMMANDS
from bot.listeners.events import EVENTS
from bot.manifest import Mode, manifest, render, write
from tests.bot.scenario import ADMIN, Bot

MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"


def _load(mode: Mode) -> dict[str, Any]:
    loaded = yaml.safe_load((MANIFESTS / f"{mode.value}.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.mark.parametrize("mode", list(Mode))
def test_the_committed_manifest_is_the_generated_one(mode: Mode) -> None:
    """Edit bot/manifest.py, then `make manifests`; never the YAML files by hand."""
    committed = (MANIFESTS / f"{mode.value}.yaml").read_text(encoding="utf-8")

    assert committed == render(mode), "run `make manifests` and commit the result"
    assert yaml.safe_load(committed) == manifest(mode)


def test_make_manifests_writes_both_files(tmp_path: Path) -> None:
    written = write(tmp_path)

    assert sorted(p.name for p in written) == ["http.yaml", "socket-mode.yaml"]
    assert all(p.read_text(encoding="utf-8") == render(Mode(p.stem)) for p in written)


def test_the_two_manifests_differ_only_in_how_slack_reaches_the_bot() -> None:
    socket, http = _load(Mode.SOCKET), _load(Mode.HTTP)
    for loaded in (socket, http):
        (command,) = loaded["features"]["slash_commands"]
        command.pop("url", None)
        loaded["settings"]["event_subscriptions"].pop("request_url", None)
        loaded["settings"]["interactivity"].pop("request_url", None)
        loaded["settings"].pop("socket_mode_enabled")

    assert socket == http


@pytest.mark.parametrize("mode", list(Mode))
def test_manifest_matches_what_the_app_registers(mode: Mode) -> None:
    """Command, subcommands, events, interactivity, App Home and scopes agree with the code."""
    loaded = _load(mode)
    (command,) = loaded["features"]["slash_commands"]
    assert command["command"] == COMMAND
    assert command["usage_hint"] == "[" + "|".join(SUBCOMMANDS) + "]"
    home = loaded["features"]["app_home"]
    assert home["home_tab_enabled"] is True
    # Late private replies and the connection check arrive as direct messages; the bot
    # reads none, so people see the Messages tab but cannot write in it.
    assert home["messages_tab_enabled"] is True
    assert home["messages_tab_read_only_enabled"] is True
    assert tuple(loaded["oauth_config"]["scopes"]["bot"]) == REQUIRED_BOT_SCOPES
    settings = loaded["settings"]
    assert tuple(settings["event_subscriptions"]["bot_events"]) == EVENTS
    assert settings["interactivity"]["is_enabled"] is True
    http = mode is Mode.HTTP
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
