"""Escaping and formatting of everything that ends up inside mrkdwn.

Directory data (names, emails, titles, reasons, error text) is written by other
people; in mrkdwn, ``<!channel>`` or ``<@U123>`` in a display name would ping a whole
channel or a stranger. Every such value goes through :func:`escape_mrkdwn`. The only
``<...>`` tokens the app writes itself are built here, from validated ids.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from core.runs import when

ELLIPSIS = "…"
_USER_ID = re.compile(r"^[UW][A-Z0-9]+$")
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]+$")
DATE_FORMAT = "{date_short_pretty} {time}"


def escape_mrkdwn(text: object) -> str:
    """The three characters Slack asks apps to escape, so ``<!channel>`` is shown, not sent."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    """At most ``limit`` characters, ending in an ellipsis when something was cut."""
    if limit <= 0:
        return ""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def clip(text: object, limit: int = 200) -> str:
    """Escaped, single-line directory data of at most ``limit`` characters *after* escaping.

    Truncating after escaping could cut ``&amp;`` in half; truncating before could let a
    name of ampersands grow fivefold. So characters are escaped one by one until full.
    """
    flat = " ".join(str(text).split())
    escaped = escape_mrkdwn(flat)
    if len(escaped) <= limit:
        return escaped
    kept: list[str] = []
    size = 0
    for char in flat:
        piece = escape_mrkdwn(char)
        if size + len(piece) > limit - 1:
            break
        kept.append(piece)
        size += len(piece)
    return "".join(kept) + ELLIPSIS


def is_user_id(value: str | None) -> bool:
    """True for a Slack user id (``U…`` or an Enterprise Grid ``W…``)."""
    return value is not None and _USER_ID.fullmatch(value) is not None


def user_mention(user_id: str | None, *, unknown: str = "someone") -> str:
    """``<@U…>`` for a real Slack user id; anything else (a CLI actor, the scheduler) as text."""
    if not user_id:
        return unknown
    if is_user_id(user_id):
        return f"<@{user_id}>"
    return clip(user_id, 80)


def channel_mention(channel_id: str | None, *, unknown: str = "not set") -> str:
    """``<#C…>`` for a real channel id, so Slack renders the channel's current name."""
    if not channel_id:
        return unknown
    if _CHANNEL_ID.fullmatch(channel_id):
        return f"<#{channel_id}>"
    return clip(channel_id, 80)


def slack_date(moment: datetime | None, *, fmt: str = DATE_FORMAT) -> str:
    """A date Slack shows in each reader's own time zone, with a UTC fallback for old clients."""
    if moment is None:
        return "-"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return f"<!date^{int(moment.timestamp())}^{fmt}|{when(moment.astimezone(UTC))}>"


def duration_text(seconds: float) -> str:
    """``42 s``, ``3 min 5 s`` or ``2 h 4 min``: precise enough to compare runs at a glance."""
    total = max(0, round(seconds))
    if total < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def relative_text(moment: datetime, now: datetime) -> str:
    """``in 23 h`` / ``5 min ago``: how far ``moment`` is from ``now``, in its largest unit."""
    delta = (moment - now).total_seconds()
    size = abs(delta)
    if size < 60:
        span = "less than a minute"
    elif size < 3600:
        span = f"{round(size / 60)} min"
    elif size < 2 * 86400:
        span = f"{round(size / 3600)} h"
    else:
        span = f"{round(size / 86400)} days"
    return f"in {span}" if delta >= 0 else f"{span} ago"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``1 create`` / ``3 creates``, with thousands separators for big plans."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count:,} {word}"
