"""Putting previews and reports in front of people, and keeping those messages true.

Every Slack write the bot makes about a plan goes through here, so each concern is
written once: :func:`edit_message` is the one place a ``chat_update`` refusal is
handled; :func:`attach_csv` is the one place a file goes into a thread (joining the
channel first, and leaving a note in the file's place when Slack refuses it);
:func:`publish_preview` is the one sequence that shows a preview (post or edit its
message, remember where it is, attach the CSV of every row, then close the older
previews it replaced); :func:`refresh_previews` strips the buttons off every preview
that core closed since its message was last drawn (expired, superseded, or failed
because the process applying it died).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.blocks import (
    PREVIEW_CSV_REMEDY,
    Message,
    closed_message,
    csv_missing_message,
    held_message,
    preview_csv_filename,
)
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


NOT_JOINABLE = "method_not_supported_for_channel_type"
"""``conversations.join`` on a private channel or a direct message: only an invitation
lets a bot into the one, and it is always in the other."""


def attach_csv(
    client: WebClient, posted: Posted, plan: Plan, filename: str, title: str, *, remedy: str
) -> bool:
    """Every row of the plan as a CSV file in the message's thread; False if Slack refused it.

    ``chat:write.public`` let the message into a channel the bot may not be in, but a
    file is shared only where the bot is a member, so it joins the channel first. When
    the file is refused all the same, a note takes its place in the thread: Slack's
    reason and ``remedy``, the other way to the rows. Never raises: the message it
    belongs to is already there.
    """
    join_channel(client, posted.channel)
    try:
        client.files_upload_v2(
            channel=posted.channel,
            thread_ts=posted.ts,
            content=plan_csv(plan),
            filename=filename,
            title=title,
        )
    except (SlackClientError, OSError) as exc:
        error = _upload_error(exc)
        log.warning("could not attach %s in %s: %s", filename, posted.channel, error)
        note = csv_missing_message(filename, error, remedy)
        try:
            client.chat_postMessage(channel=posted.channel, thread_ts=posted.ts, **note.kwargs())
        except SlackApiError as refused:
            log.warning("could not say so in the thread: %s", refused.response.get("error"))
        return False
    return True


def join_channel(client: WebClient, channel: str) -> None:
    """Join ``channel`` when it is a public channel the bot is not in (``channels:join``).

    Direct messages (``D...``) are skipped. A private channel answers
    :data:`NOT_JOINABLE`; if the bot could post there it is a member already. Any other
    refusal is logged, and the upload that follows says whether it mattered.
    """
    if channel.startswith("D"):
        return
    try:
        client.conversations_join(channel=channel)
    except SlackApiError as exc:
        error = exc.response.get("error")
        if error != NOT_JOINABLE:
            log.warning("could not join %s to attach a file there: %s", channel, error)


def _upload_error(exc: Exception) -> str:
    """Slack's error code; for a failure without one (the upload itself), a short phrase."""
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
    return "upload_failed"


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
    filename = preview_csv_filename(preview.id)
    attach_csv(client, posted, preview.plan, filename, title, remedy=PREVIEW_CSV_REMEDY)
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
