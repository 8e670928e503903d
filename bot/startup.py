"""The one line ``serve`` logs as it starts: which release, how it talks to Slack, on
which database, and when the next scheduled check is.

An operator reading a log after an upgrade, or a collector alerting on a restart,
learns from this line alone what is running. The database URL is shown with its
password hidden.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from bot.config import SlackSettings
from core.config import Settings
from core.runs import next_check
from core.version import DISTRIBUTION, version

log = logging.getLogger(__name__)


def startup_fields(settings: Settings, slack: SlackSettings, now: datetime) -> dict[str, Any]:
    """What the line says, as fields a JSON log keeps apart."""
    upcoming = next_check(now, settings.check_time, settings.timezone)
    return {
        "version": version(),
        "mode": "socket" if slack.socket_mode else "http",
        "port": None if slack.socket_mode else slack.port,
        "database": settings.shown_database_url,
        "next_check": upcoming.isoformat(),
    }


def startup_line(fields: dict[str, Any], timezone: str) -> str:
    mode = "Socket Mode" if fields["mode"] == "socket" else f"HTTP on port {fields['port']}"
    check = datetime.fromisoformat(fields["next_check"])
    return (
        f"{DISTRIBUTION} {fields['version']} starting: {mode}, database {fields['database']}, "
        f"next scheduled check {check:%Y-%m-%d %H:%M} {timezone}"
    )


def log_startup(settings: Settings, slack: SlackSettings, now: datetime) -> None:
    fields = startup_fields(settings, slack, now)
    log.info(startup_line(fields, settings.check_timezone), extra=fields)
