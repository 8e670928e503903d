"""Pure Block Kit builders: values in, ``Message`` or view dicts out, no Slack calls.

Listeners import from here; every builder keeps within Slack's limits and escapes
directory data, so a message can neither be refused nor ping anyone by accident.
"""

from __future__ import annotations

from bot.blocks.attachments import PREVIEW_CSV_REMEDY, REPORT_CSV_REMEDY, csv_missing_message
from bot.blocks.escape import channel_mention, escape_mrkdwn, slack_date, user_mention
from bot.blocks.help import help_message
from bot.blocks.home import home_view
from bot.blocks.limits import limit_problems, view_problems
from bot.blocks.message import Message
from bot.blocks.preview import (
    closed_message,
    decided_message,
    preview_csv_filename,
    preview_message,
)
from bot.blocks.runs import (
    busy_message,
    status_message,
    sync_failed_message,
    sync_progress_message,
    sync_report_message,
)
from bot.blocks.scheduled import (
    held_message,
    quarantine_alert_message,
    schedule_line,
    scheduled_failure_message,
    scheduled_report_message,
)
from bot.blocks.setup import (
    SetupForm,
    connection_check_message,
    loading_modal,
    parse_setup,
    setup_errors,
    setup_modal,
)

__all__ = [
    "PREVIEW_CSV_REMEDY",
    "REPORT_CSV_REMEDY",
    "Message",
    "SetupForm",
    "busy_message",
    "channel_mention",
    "closed_message",
    "connection_check_message",
    "csv_missing_message",
    "decided_message",
    "escape_mrkdwn",
    "held_message",
    "help_message",
    "home_view",
    "limit_problems",
    "loading_modal",
    "parse_setup",
    "preview_csv_filename",
    "preview_message",
    "quarantine_alert_message",
    "schedule_line",
    "scheduled_failure_message",
    "scheduled_report_message",
    "setup_errors",
    "setup_modal",
    "slack_date",
    "status_message",
    "sync_failed_message",
    "sync_progress_message",
    "sync_report_message",
    "user_mention",
    "view_problems",
]
