"""What messages say about the CSV file in their thread, and the note when there is none.

A preview or a report shows only the first rows; every row goes into a CSV file in the
message's thread. Slack shares a file only where the bot is a member, so the file can
be refused (a private channel the bot was not invited to, an app installed without a
scope, an upload error) after the message itself was posted. The messages therefore
point at the thread without promising a file there, and when the file is refused, the
note from :func:`csv_missing_message` takes its place in the thread: why, and how to
get the rows another way. Both stay true however the upload went, so a message redrawn
later (decided, expired) never needs to know.
"""

from __future__ import annotations

from bot.blocks.escape import clip
from bot.blocks.message import Message, message, section

ROWS_WHERE = "(see the thread)"
"""Ends a shortened list: "… and 95 more (see the thread)"."""

PREVIEW_ROWS_NOTE = (
    "The thread holds the CSV file with every row, or, if Slack refused the file, how to get them."
)
REPORT_ROWS_NOTE = "The thread holds the CSV file of every change, or, if Slack refused it, why."

INVITE = "`/invite @Entra Assets Sync`"

PREVIEW_CSV_REMEDY = (
    f"To get every row, type `/entra preview` in a channel I am a member of ({INVITE} "
    "adds me), or run `entra-sync preview --csv rows.csv` where the bot's settings are. "
    "Either makes a new preview."
)
REPORT_CSV_REMEDY = (
    f"`entra-sync history` lists this run. Invite me to this channel ({INVITE}) so the "
    "next report carries its file."
)

_WHY: dict[str, str] = {
    "not_in_channel": (
        "I am not a member of this channel and could not join it "
        "(a private channel needs an invitation)"
    ),
    "missing_scope": (
        "the app was installed without a scope this needs; reinstall it from the current manifest"
    ),
    "is_archived": "this channel is archived",
}
"""What a person can make of Slack's error codes for a refused file."""


def csv_missing_message(filename: str, error: str, remedy: str) -> Message:
    """The thread reply standing in for a CSV file Slack refused: why, and the way round."""
    why = _WHY.get(error)
    reason = f"Slack answered `{clip(error, 80)}`" + (f": {why}" if why else "")
    text = f":warning: I could not attach `{clip(filename, 120)}` here. {reason}. {remedy}"
    return message(text, [section(text)])
