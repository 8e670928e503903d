"""The probes in both modes, and ``entra-sync healthcheck``, the container's HEALTHCHECK."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from slack_bolt import App
from slack_sdk import WebClient

from bot.config import SlackSettings
from bot.serve import run_serve
from bot.server import SlackHttpServer
from core.cli import main
from core.runs import SyncService
from tests.bot.slack_fake import FakeSlack

SLACK_VARIABLES = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "PORT")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def socket_mode_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake_slack: FakeSlack) -> int:
    for name in SLACK_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    port = free_port()
    monkeypatch.setenv("ENTRA_SYNC_DATABASE_URL", f"sqlite:///{tmp_path / 'sync.db'}")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-test")
    monkeypatch.setenv("ENTRA_SYNC_SLACK_API_URL", fake_slack.base_url)
    monkeypatch.setenv("PORT", str(port))
    return port


def socket_app(service: SyncService, slack: SlackSettings) -> App:
    assert slack.api_url is not None
    client = WebClient(base_url=slack.api_url, token=slack.bot_token)
    return App(client=client, token_verification_enabled=False)


def test_socket_mode_answers_the_probes_on_port_while_it_serves(
    socket_mode_env: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    answers: list[int] = []

    class Handler:
        """Stands in for Slack's WebSocket: while it 'serves', the container probes."""

        def __init__(self, app: App, app_token: str) -> None:
            assert app_token == "xapp-test"

        def start(self) -> None:
            answers.append(main(["healthcheck"]))
            answers.append(main(["healthcheck", "--ready"]))

        def close(self) -> None:
            pass

    monkeypatch.setattr("bot.serve.SocketModeHandler", Handler)

    assert run_serve(tmp_path / "absent.env", build=socket_app) == 0

    assert answers == [0, 0]
    assert main(["healthcheck"]) == 1  # stopped with the handler: the port is released


def test_healthcheck_fails_with_one_line_when_nothing_listens(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PORT", str(free_port()))

    assert main(["healthcheck"]) == 1

    error = capsys.readouterr().err.strip()
    assert error.startswith("unhealthy: http://127.0.0.1:")
    assert error.endswith("/healthz did not answer (ConnectError)")


def test_healthcheck_ready_fails_while_the_bot_is_not_ready(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with SlackHttpServer(None, host="127.0.0.1", port=0) as probes:
        monkeypatch.setenv("PORT", str(probes.port))
        assert main(["healthcheck"]) == 0
        assert main(["healthcheck", "--ready"]) == 1

    assert capsys.readouterr().err.strip().endswith("/readyz answered 503")


def test_healthcheck_ignores_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("ALL_PROXY", f"http://127.0.0.1:{free_port()}")
    with SlackHttpServer(None, host="127.0.0.1", port=0) as probes:
        monkeypatch.setenv("PORT", str(probes.port))
        assert main(["healthcheck"]) == 0


def test_healthcheck_reads_port_from_the_settings_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PORT", raising=False)
    env_file = tmp_path / "bot.env"
    with SlackHttpServer(None, host="127.0.0.1", port=0) as probes:
        env_file.write_text(f"PORT={probes.port}\n")
        assert main(["--env-file", str(env_file), "healthcheck"]) == 0
    env_file.write_text("PORT=http\n")

    assert main(["--env-file", str(env_file), "healthcheck"]) == 1
    assert "PORT must be a whole number" in capsys.readouterr().err


def test_serve_on_a_port_already_in_use_names_the_setting(
    socket_mode_env: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("bot.serve.SocketModeHandler", None)  # never reached
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))  # noqa: S104 - the wildcard serve binds to
        taken.listen()
        monkeypatch.setenv("PORT", str(taken.getsockname()[1]))

        assert main(["serve"]) == 2

    error = capsys.readouterr().err
    assert "PORT" in error
    assert "is already in use" in error


def test_serve_hands_the_limits_from_the_settings_to_the_server() -> None:
    from bot.serve import _limits  # noqa: PLC0415 - a private helper, tested alone

    slack = SlackSettings("xoxb-1", "s", read_timeout=4, keepalive_timeout=70, max_connections=50)

    limits = _limits(slack)

    assert (limits.read_timeout, limits.keepalive_timeout, limits.connection_limit) == (4, 70, 50)
