"""Slack settings: every problem at once, the mode from the tokens, secrets kept out of repr."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import SlackSettings, load_slack_settings
from core.errors import ConfigError

BOT_TOKEN = "xoxb-bot-token-do-not-print"
APP_TOKEN = "xapp-app-token-do-not-print"
SECRET = "signing-secret-do-not-print"


def load(**env: str) -> SlackSettings:
    return load_slack_settings(env, env_file=None)


def problems(**env: str) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        load(**env)
    return {p.field: p.rule for p in caught.value.problems}


def test_http_mode_needs_a_bot_token_and_a_signing_secret() -> None:
    settings = load(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SECRET)

    assert settings.socket_mode is False
    assert (settings.bot_token, settings.signing_secret) == (BOT_TOKEN, SECRET)
    assert settings.port == 3000
    assert settings.api_url is None
    assert settings.admin_user_ids == ()


def test_an_app_token_selects_socket_mode_without_a_signing_secret() -> None:
    settings = load(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_APP_TOKEN=APP_TOKEN)

    assert settings.socket_mode is True
    assert settings.app_token == APP_TOKEN
    assert settings.signing_secret is None


def test_nothing_set_names_both_required_variables() -> None:
    assert set(problems()) == {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"}


def test_every_invalid_variable_is_reported_at_once_without_values() -> None:
    env = {
        "SLACK_BOT_TOKEN": "xoxp-user-token-do-not-print",
        "SLACK_APP_TOKEN": "xoxb-wrong-kind-do-not-print",
        "PORT": "70000",
        "ENTRA_SYNC_SLACK_API_URL": "http://slack.example/api/",
        "ENTRA_SYNC_ADMIN_USER_IDS": "U012ABC, alice",
    }
    with pytest.raises(ConfigError) as caught:
        load(**env)

    fields = {p.field for p in caught.value.problems}
    assert fields == {
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "PORT",
        "ENTRA_SYNC_SLACK_API_URL",
        "ENTRA_SYNC_ADMIN_USER_IDS",
    }
    message = str(caught.value)
    for value in env.values():
        assert value not in message


def test_optional_values_are_read_and_normalised() -> None:
    settings = load(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        PORT="0",
        ENTRA_SYNC_SLACK_API_URL="http://127.0.0.1:8123/api",
        ENTRA_SYNC_ADMIN_USER_IDS=" U012ABC ,W034DEF,,U012ABC ",
    )

    assert settings.port == 0
    assert settings.api_url == "http://127.0.0.1:8123/api/"
    assert settings.admin_user_ids == ("U012ABC", "W034DEF")


@pytest.mark.parametrize("port", ["", "  "])
def test_blank_values_count_as_unset(port: str) -> None:
    assert load(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SECRET, PORT=port).port == 3000


def test_secrets_stay_out_of_repr() -> None:
    settings = load(
        SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SECRET, SLACK_APP_TOKEN=APP_TOKEN
    )

    text = repr(settings) + str(settings)
    for secret in (BOT_TOKEN, SECRET, APP_TOKEN):
        assert secret not in text
    assert "port=3000" in text


def test_the_environment_wins_over_the_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        f"SLACK_BOT_TOKEN={BOT_TOKEN}\nSLACK_SIGNING_SECRET={SECRET}\nPORT=8080\n",
        encoding="utf-8",
    )

    settings = load_slack_settings({"PORT": "9090"}, env_file=env_file)

    assert (settings.bot_token, settings.signing_secret, settings.port) == (BOT_TOKEN, SECRET, 9090)
