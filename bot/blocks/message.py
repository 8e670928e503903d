"""The :class:`Message` value and the Block Kit pieces every builder shares.

Builders are pure: values in, dicts out. Every helper here enforces the Slack limit
of the element it builds, so no directory, however large or oddly named, can make
Slack refuse a message (``invalid_blocks``) and leave a person without an answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.blocks.escape import truncate

Block = dict[str, Any]

# Slack's documented limits (Block Kit reference, modal reference).
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 2999  # "under 3,000"
MAX_FIELD_TEXT = 1999
MAX_FIELDS = 10
MAX_CONTEXT_ELEMENTS = 10
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ACTIONS_ELEMENTS = 25
MAX_CONFIRM_TITLE = 100
MAX_CONFIRM_TEXT = 300
MAX_CONFIRM_BUTTON = 30
MAX_VIEW_TITLE = 24
MAX_FALLBACK_TEXT = 3000  # notifications show far less; keep the payload small
MAX_INPUT_ERROR = 150

ROWS_SHOWN = 5
"""How many rows of each list a message shows; the rest goes to a file or the CLI."""


@dataclass(frozen=True)
class Message:
    """A chat message: ``text`` is the notification and fallback, ``blocks`` the layout."""

    text: str
    blocks: list[Block]

    def __post_init__(self) -> None:
        # Slack warns (and screen readers suffer) when blocks come without text.
        if not self.text:
            raise ValueError("a Message always needs fallback text")

    def kwargs(self) -> dict[str, Any]:
        """``text`` and ``blocks`` as keyword arguments for ``chat_postMessage``/``respond``."""
        return {"text": self.text, "blocks": self.blocks}


def message(text: str, blocks: Sequence[Block]) -> Message:
    """A :class:`Message` whose fallback text and block count fit Slack's limits."""
    return Message(truncate(text, MAX_FALLBACK_TEXT), fit_blocks(list(blocks), MAX_MESSAGE_BLOCKS))


def plain(text: str, limit: int = MAX_SECTION_TEXT) -> dict[str, Any]:
    """A plain_text object: Slack renders it verbatim, so it needs no escaping."""
    return {"type": "plain_text", "text": truncate(text, limit) or "-", "emoji": True}


def mrkdwn(text: str, limit: int = MAX_SECTION_TEXT) -> dict[str, Any]:
    """A mrkdwn object; callers escape any directory data they put in ``text``."""
    return {"type": "mrkdwn", "text": truncate(text, limit) or "-"}


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text, MAX_HEADER_TEXT)}


def section(text: str, *, accessory: Block | None = None) -> Block:
    block: Block = {"type": "section", "text": mrkdwn(text)}
    if accessory is not None:
        block["accessory"] = accessory
    return block


def fields_section(fields: Sequence[str]) -> Block:
    """Up to ten short mrkdwn fields, shown two a row: good for counts."""
    return {
        "type": "section",
        "fields": [mrkdwn(f, MAX_FIELD_TEXT) for f in fields[:MAX_FIELDS]],
    }


def context(*texts: str) -> Block:
    return {
        "type": "context",
        "elements": [mrkdwn(t) for t in texts[:MAX_CONTEXT_ELEMENTS]],
    }


def divider() -> Block:
    return {"type": "divider"}


def confirm_dialog(title: str, text: str, *, confirm: str, deny: str = "Cancel") -> Block:
    """A confirmation step; plain text throughout, so counts and names cannot inject markup."""
    return {
        "title": plain(title, MAX_CONFIRM_TITLE),
        "text": plain(text, MAX_CONFIRM_TEXT),
        "confirm": plain(confirm, MAX_CONFIRM_BUTTON),
        "deny": plain(deny, MAX_CONFIRM_BUTTON),
    }


def button(
    text: str,
    action_id: str,
    value: str | None = None,
    *,
    style: str | None = None,
    confirm: Block | None = None,
) -> Block:
    """A button; ``value`` carries what the listener needs (a preview id), never a secret."""
    element: Block = {
        "type": "button",
        "text": plain(text, MAX_BUTTON_TEXT),
        "action_id": action_id,
    }
    if value is not None:
        if len(value) > MAX_BUTTON_VALUE:
            raise ValueError("a button value must fit in 2,000 characters")
        element["value"] = value
    if style is not None:
        element["style"] = style
    if confirm is not None:
        element["confirm"] = confirm
    return element


def actions(*elements: Block) -> Block:
    return {"type": "actions", "elements": list(elements[:MAX_ACTIONS_ELEMENTS])}


def more_text(hidden: int, where: str = "") -> str:
    """The "… and N more" line that ends every shortened list."""
    suffix = f" {where}" if where else ""
    return f"… and {hidden:,} more{suffix}"


def lines_text(
    title: str,
    lines: Sequence[str],
    *,
    total: int | None = None,
    where: str = "",
    limit: int = MAX_SECTION_TEXT,
) -> str:
    """``title`` and as many ``lines`` as fit in ``limit``, then "… and N more".

    ``total`` is the size of the full list when ``lines`` is only its first rows.
    """
    total = len(lines) if total is None else total
    kept: list[str] = [title] if title else []
    for shown, line in enumerate(lines):
        hidden = total - shown
        tail = more_text(hidden - 1, where) if hidden > 1 else ""
        if len("\n".join([*kept, line, tail])) > limit:
            kept.append(more_text(hidden, where))
            return truncate("\n".join(kept), limit)
        kept.append(line)
    if total > len(lines):
        kept.append(more_text(total - len(lines), where))
    return truncate("\n".join(kept), limit)


def fit_blocks(blocks: list[Block], limit: int, *, keep_last: int = 1) -> list[Block]:
    """At most ``limit`` blocks; the last ``keep_last`` (the buttons) always survive."""
    if len(blocks) <= limit:
        return blocks
    keep_last = min(keep_last, limit - 1)
    tail = blocks[len(blocks) - keep_last :] if keep_last else []
    head = blocks[: limit - keep_last - 1]
    hidden = len(blocks) - len(head) - len(tail)
    return [*head, context(more_text(hidden, "parts not shown")), *tail]
