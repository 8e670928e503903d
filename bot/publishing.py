"""Putting previews and reports in front of people, and keeping those messages true.

Every Slack write the bot makes about a plan goes through here, so each concern is
written once: :func:`edit_message` is the one place a ``chat_update`` refusal is
handled; :func:`publish_preview` is the one sequence that shows a preview (post or
edit its message, remember where it is, attach the CSV of every row, then close the
older previews it replaced); :func:`refresh_previews` strips the buttons off every
preview that core closed since its message was last drawn (expired, superseded, or
failed because the process applying it died).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks import Message, closed_message, held_message, preview_csv_filename
from core.runs import SyncService
from core.store import PreviewView
from core.sync import Plan, plan_csv

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Posted:
    """Where a message landed: Slack answers with the channel id and the message ts."""

    channel: str
    ts: str


def post_message(client: WebClient, channel: str, message: Message) -> Posted:
    """Post ``message``; a refusal raises :class:`SlackApiError` for the caller to word."""
    response = client.chat_postMessage(channel=channel, **message.kwargs())
    return Posted(str(response["channel"]), str(response["ts"]))


def edit_message(client: WebClient, posted: Posted, message: Message, *, what: str) -> bool:
    """Replace a message's content; False (and a warning naming ``what``) when Slack refuses.

    Edits keep a channel honest but are never worth failing the work they report on:
    the message may have been deleted, or the bot removed from the channel.
    """
    try:
        client.chat_update(channel=posted.channel, ts=posted.ts, **message.kwargs())
    except SlackApiError as exc:
        log.warning("could not update %s: %s", what, exc.response.get("error"))
        return False
    return True


def attach_csv(client: WebClient, posted: Posted, plan: Plan, filename: str, title: str) -> None:
    """Every row of the plan, in the message's thread: the message shows only a few."""
    try:
        client.files_upload_v2(
            channel=posted.channel,
            thread_ts=posted.ts,
            content=plan_csv(plan),
            filename=filename,
            title=title,
        )
    except SlackApiError as exc:
        log.warning("could not attach %s: %s", filename, exc.response.get("error"))


def publish_preview(
    client: WebClient,
    service: SyncService,
    preview: PreviewView,
    message: Message,
    *,
    channel: str,
    now: datetime,
    replacing: Posted | None = None,
) -> Posted:
    """Show a pending preview with its buttons, attach its CSV, close what it replaced.

    ``replacing`` turns an existing message (a sync's progress message) into the
    preview instead of posting a new one. Raises :class:`SlackApiError` when Slack
    refuses the post itself; everything after that is best effort.
    """
    if replacing is None:
        posted = post_message(client, channel, message)
    else:
        posted = replacing
        edit_message(client, posted, message, what=f"preview #{preview.id}")
    service.preview_posted(preview.id, posted.channel, posted.ts)
    title = f"Preview #{preview.id}: every change"
    attach_csv(client, posted, preview.plan, preview_csv_filename(preview.id), title)
    refresh_previews(client, service, now)
    return posted


def show_on_preview(
    client: WebClient, service: SyncService, preview: PreviewView, message: Message
) -> None:
    """Draw ``message`` on the preview's own message and remember the status it shows."""
    if not preview.channel or not preview.message_ts:
        return
    posted = Posted(preview.channel, preview.message_ts)
    if edit_message(client, posted, message, what=f"preview #{preview.id}"):
        service.preview_shown(preview.id, preview.status)


def refresh_previews(client: WebClient, service: SyncService, now: datetime) -> int:
    """Close the messages of previews closed meanwhile; returns how many were edited."""
    edited = 0
    for preview in service.previews_to_refresh():
        message = closed_message(preview, preview.plan, preview.status, now=now)
        show_on_preview(client, service, preview, message)
        edited += 1
    return edited


def post_held_previews(client: WebClient, service: SyncService, now: datetime) -> int:
    """Post plans the guard rails held where there was no Slack (command line, cron).

    They go to the report channel, where approvers decide them like any preview;
    without a report channel they wait, listed in ``status`` and the App Home.
    """
    held = service.held_previews_to_post()
    channel = service.team_settings().report_channel if held else None
    if not channel:
        return 0
    for preview in held:
        message = held_message(preview, preview.plan, preview.hold_reasons, now=now)
        try:
            publish_preview(client, service, preview, message, channel=channel, now=now)
        except SlackApiError as exc:
            error = exc.response.get("error")
            log.warning("could not post held preview #%s: %s", preview.id, error)
            return 0
    return len(held)
