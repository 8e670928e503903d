"""The CSV of every row, in channels the bot has not joined or cannot join.

``chat:write.public`` lets the bot post into a public channel it is not in, but a file
is shared only where it is a member: the fake refuses the upload with
``not_in_channel`` as Slack does. The bot joins public channels first; where the file
is refused all the same, the thread says so and how to get the rows, and the message
never claims a file that is not there.
"""

from __future__ import annotations

import json
from typing import Any

from bot.blocks import PREVIEW_CSV_REMEDY
from bot.config import REQUIRED_BOT_SCOPES
from tests.bot.scenario import ALICE, CHANNEL, Bot

CLAIMS = ("CSV file in this thread", "Every row is in")
"""What the preview message said before, whether or not the file was there."""


def _thread_notes(bot: Bot, ts: str) -> list[str]:
    """Texts the bot posted as replies in the thread of message ``ts``."""
    return [
        str(c.params.get("text", ""))
        for c in bot.fake.calls("chat.postMessage")
        if c.params.get("thread_ts") == ts
    ]


def _preview(bot: Bot) -> tuple[dict[str, Any], str]:
    """Ask for a preview as Alice; the posted preview and the ts Slack gave it."""
    bot.command("preview", user=ALICE)
    (message,) = bot.posted_previews()
    (pending,) = bot.service.pending_previews()
    assert pending.message_ts
    return message, pending.message_ts


def test_the_bot_joins_a_public_channel_before_attaching_the_csv(bot: Bot) -> None:
    """The channel is public and the bot is not in it: join, then the file is shared."""
    assert not bot.fake.is_member(CHANNEL)

    _, ts = _preview(bot)

    methods = [c.method_name for c in bot.fake.calls()]
    assert methods.index("conversations.join") < methods.index("files.completeUploadExternal")
    assert bot.fake.last("conversations.join").params["channel"] == CHANNEL
    assert bot.fake.is_member(CHANNEL)
    assert bot.fake.last("files.completeUploadExternal").params["thread_ts"] == ts
    assert len(bot.fake.uploads) == 1
    assert _thread_notes(bot, ts) == []


def test_in_a_private_channel_the_bot_was_invited_to_the_csv_is_attached(bot: Bot) -> None:
    """Join is refused for private channels (method_not_supported_for_channel_type);
    the bot is a member there already, so the upload goes ahead."""
    bot.fake.add_channel(CHANNEL, private=True, member=True)

    _, ts = _preview(bot)

    assert len(bot.fake.uploads) == 1
    assert _thread_notes(bot, ts) == []


def test_a_refused_file_leaves_a_note_saying_how_to_get_the_rows(bot: Bot) -> None:
    """Installed without channels:join, the bot cannot join: the file is refused
    (not_in_channel). The thread says why and how; the message claims no file."""
    bot.fake.set_scopes(set(REQUIRED_BOT_SCOPES) - {"channels:join"})

    message, ts = _preview(bot)

    assert not bot.fake.is_member(CHANNEL)
    (note,) = _thread_notes(bot, ts)
    assert "could not attach `entra-preview-" in note
    assert "`not_in_channel`" in note
    assert "`/entra preview` in a channel I am a member of" in note
    assert "`entra-sync preview --csv rows.csv`" in note
    assert note.endswith(PREVIEW_CSV_REMEDY)
    shown = json.dumps(message["blocks"]) + message["text"]
    assert not [claim for claim in CLAIMS if claim in shown]
    assert "(see the thread)" in shown


def test_any_upload_error_leaves_the_note_too(bot: Bot) -> None:
    bot.fake.fail_next("files.getUploadURLExternal", error="internal_error", status=200)

    _, ts = _preview(bot)

    (note,) = _thread_notes(bot, ts)
    assert "`internal_error`" in note
    assert PREVIEW_CSV_REMEDY in note


def test_an_archived_report_channel_names_the_reason(bot: Bot) -> None:
    """Join and upload refused alike; the note says what Slack's error means."""
    bot.fake.add_channel(CHANNEL, member=True)
    bot.fake.fail_next("files.completeUploadExternal", error="is_archived", status=200)

    _, ts = _preview(bot)

    (note,) = _thread_notes(bot, ts)
    assert "`is_archived`: this channel is archived." in note
