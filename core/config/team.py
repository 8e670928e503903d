"""Team settings as people type them: Slack ids for the report channel and approvers.

Kept apart from the service so the setup form and the command line validate alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from core.errors import FieldProblem, InvalidInput

RULE_SLACK_CHANNEL = "must be a Slack channel id such as C0123456789"
RULE_SLACK_USERS = "must be Slack user ids such as U0123456789"
_SLACK_ID = re.compile(r"[A-Z][A-Z0-9]{2,}")


@dataclass(frozen=True, slots=True)
class TeamSettings:
    """Who approves previews and where reports go: Slack channel and user ids."""

    report_channel: str | None = None
    approvers: tuple[str, ...] = ()


def normalise_team_settings(settings: TeamSettings) -> TeamSettings:
    """Trimmed, de-duplicated Slack ids; raises :class:`InvalidInput` naming each bad field."""
    channel = (settings.report_channel or "").strip() or None
    approvers = _unique(a.strip() for a in settings.approvers if a.strip())
    problems = []
    if channel is not None and not _SLACK_ID.fullmatch(channel):
        problems.append(FieldProblem("report_channel", RULE_SLACK_CHANNEL))
    if not all(_SLACK_ID.fullmatch(a) for a in approvers):
        problems.append(FieldProblem("approvers", RULE_SLACK_USERS))
    if problems:
        raise InvalidInput(problems)
    return TeamSettings(channel, approvers)


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))
