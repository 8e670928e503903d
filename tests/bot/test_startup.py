"""``serve`` starts with one line: version, mode, database (no password), next check."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from slack_bolt import App

from bot.config import SlackSettings
from bot.serve import run_serve
from bot.server import SlackHttpServer
from bot.startup import startup_fields, startup_line
from core.config import Settings
from core.runs import SyncService
from core.version import version
from tests.bot.harness import SIGNING_SECRET
from tests.bot.slack_fake import FakeSlack

SLACK_VARIABLES = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "PORT")
DB_PASSWORD = "db-password-do-not-log"


def test_the_line_names_version_mode_database_and_next_check() -> None:
    settings = Settings(
        database_url=f"postgresql://sync:{DB_PASSWORD}@db.example/sync",
        check_timezone="Europe/Berlin",
    )
    slack = SlackSettings(bot_token="xoxb-x", app_token="xapp-x")
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    fields = startup_fields(settings, slack, now)
    assert fields == {
        "version": version(),
        "mode": "socket",
        "port": None,
        "database": "postgresql://sync:***@db.example/sync",
        "next_check": "2026-03-02T02:00:00+01:00",
    }
    assert startup_line(fields, "Europe/Berlin") == (
        f"entra-assets-sync {version()} starting: Socket Mode, database "
        "postgresql://sync:***@db.example/sync, next scheduled check 2026-03-02 02:00 "
        "Europe/Berlin"
    )


def test_serve_logs_it_first_as_json(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fake_slack: FakeSlack,
) -> None:
    for name in SLACK_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ENTRA_SYNC_DATABASE_URL", f"sqlite:///{tmp_path / 'sync.db'}")
    monkeypatch.setenv("ENTRA_SYNC_SECRET_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("ENTRA_SYNC_LOG_FORMAT", "json")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    monkeypatch.setenv("PORT", "0")
    monkeypatch.setenv("ENTRA_SYNC_SLACK_API_URL", fake_slack.base_url)
    monkeypatch.setattr(SlackHttpServer, "serve_forever", SlackHttpServer.stop)

    def build(service: SyncService, slack: SlackSettings) -> App:
        return App(
            token="xoxb-test",
            signing_secret=SIGNING_SECRET,
            token_verification_enabled=False,
        )

    assert run_serve(tmp_path / "absent.env", build=build) == 0
    records = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    first = records[0]
    assert first["logger"] == "bot.startup"
    assert first["level"] == "info"
    assert first["version"] == version()
    assert first["mode"] == "http"
    assert first["database"] == f"sqlite:///{tmp_path / 'sync.db'}"
    assert "next_check" in first
    assert first["message"].startswith(f"entra-assets-sync {version()} starting: HTTP on port 0")
