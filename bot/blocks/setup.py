"""The setup modal, reading it back, its validation errors, and the connection check reply.

The client secret is write-only: the modal never pre-fills it (a view's JSON is sent
to every client that opens it), and leaving it blank keeps the stored one. Ids come
from :mod:`bot.ids`, so the submission listener reads exactly what this module builds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.blocks.escape import clip, escape_mrkdwn, is_user_id, truncate
from bot.blocks.message import (
    MAX_INPUT_ERROR,
    Block,
    Message,
    context,
    message,
    plain,
    section,
)
from bot.ids import SetupBlock, SetupInput, View
from core.config import MAX_CADENCE_DAYS, MIN_CADENCE_DAYS, TeamSettings
from core.errors import FieldProblem
from core.runs import SKIPPED, ConnectionCheck
from core.store import ConnectionView

MODAL_TITLE = "Entra connection"
DEFAULT_CADENCE_DAYS = 7
GUID_PLACEHOLDER = "00000000-0000-0000-0000-000000000000"
KEEP_STORED_HINT = (
    "Leave blank to keep the stored secret. A new value replaces it; it is stored "
    "encrypted and never shown again."
)
NEW_VALUE_HINT = "The client secret's Value (not its ID). Stored encrypted, never shown again."


@dataclass(frozen=True, slots=True)
class SetupForm:
    """What the admin submitted, unvalidated: :func:`core.config.validation` judges it."""

    tenant_id: str
    client_id: str
    client_secret: str | None = field(repr=False)
    cadence_days: str
    report_channel: str | None
    approvers: tuple[str, ...]


def loading_modal() -> dict[str, Any]:
    """A view to open within the 3-second ``trigger_id`` window, updated once data arrives."""
    return {
        "type": "modal",
        "title": plain(MODAL_TITLE, 24),
        "close": plain("Cancel", 24),
        "blocks": [section(":hourglass_flowing_sand: Loading the current settings…")],
    }


def setup_modal(connection: ConnectionView | None, team: TeamSettings) -> dict[str, Any]:
    """The setup form, pre-filled from what is stored, the secret excepted."""
    has_secret = connection is not None and connection.has_secret
    cadence = connection.cadence_days if connection else DEFAULT_CADENCE_DAYS
    blocks: list[Block] = [
        section(
            "Connect the Microsoft Entra app registration the sync reads the directory "
            "with. It needs the Microsoft Graph *User.Read.All* application permission, "
            "with admin consent."
        ),
        _text_input(
            SetupBlock.TENANT_ID,
            SetupInput.TENANT_ID,
            "Tenant ID",
            hint="Directory (tenant) ID, on the app registration's Overview page.",
            initial=connection.tenant_id if connection else None,
        ),
        _text_input(
            SetupBlock.CLIENT_ID,
            SetupInput.CLIENT_ID,
            "Client ID",
            hint="Application (client) ID, on the same Overview page.",
            initial=connection.client_id if connection else None,
        ),
        _secret_input(has_secret),
        {
            "type": "input",
            "block_id": SetupBlock.CADENCE_DAYS.value,
            "label": plain("Scheduled Sync Every (days)", 2000),
            "hint": plain(
                f"A whole number of days from {MIN_CADENCE_DAYS} to {MAX_CADENCE_DAYS}. "
                "Scheduled syncs apply without an approval step.",
                2000,
            ),
            "element": {
                "type": "number_input",
                "action_id": SetupInput.CADENCE_DAYS.value,
                "is_decimal_allowed": False,
                "min_value": str(MIN_CADENCE_DAYS),
                "max_value": str(MAX_CADENCE_DAYS),
                "initial_value": str(cadence),
            },
        },
        _channel_input(team.report_channel),
        _approvers_input(team.approvers),
        context("Jira site and API token come from the bot's environment, not from this form."),
    ]
    return {
        "type": "modal",
        "callback_id": View.SETUP.value,
        "title": plain(MODAL_TITLE, 24),
        "submit": plain("Save", 24),
        "close": plain("Cancel", 24),
        "blocks": blocks,
    }


def _text_input(
    block_id: SetupBlock, action_id: SetupInput, label: str, *, hint: str, initial: str | None
) -> Block:
    element: Block = {
        "type": "plain_text_input",
        "action_id": action_id.value,
        "placeholder": plain(GUID_PLACEHOLDER, 150),
        "max_length": 64,
    }
    if initial:
        element["initial_value"] = initial
    return {
        "type": "input",
        "block_id": block_id.value,
        "label": plain(label, 2000),
        "hint": plain(hint, 2000),
        "element": element,
    }


def _secret_input(has_secret: bool) -> Block:
    """Never pre-filled; optional only when a secret is already stored."""
    return {
        "type": "input",
        "block_id": SetupBlock.CLIENT_SECRET.value,
        "label": plain("Client Secret", 2000),
        "hint": plain(KEEP_STORED_HINT if has_secret else NEW_VALUE_HINT, 2000),
        "optional": has_secret,
        "element": {
            "type": "plain_text_input",
            "action_id": SetupInput.CLIENT_SECRET.value,
            "placeholder": plain(
                "Leave blank to keep the stored secret" if has_secret else "Client secret value",
                150,
            ),
        },
    }


def _channel_input(channel: str | None) -> Block:
    element: Block = {
        "type": "conversations_select",
        "action_id": SetupInput.REPORT_CHANNEL.value,
        "placeholder": plain("Pick a channel", 150),
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
    }
    if channel:
        element["initial_conversation"] = channel
    return {
        "type": "input",
        "block_id": SetupBlock.REPORT_CHANNEL.value,
        "label": plain("Report channel", 2000),
        "hint": plain(
            "Where scheduled sync reports go. Invite the bot to a private channel first.",
            2000,
        ),
        "optional": True,
        "element": element,
    }


def _approvers_input(approvers: Sequence[str]) -> Block:
    element: Block = {
        "type": "multi_users_select",
        "action_id": SetupInput.APPROVERS.value,
        "placeholder": plain("Pick people", 150),
    }
    initial = [a for a in approvers if is_user_id(a)]
    if initial:
        element["initial_users"] = initial
    return {
        "type": "input",
        "block_id": SetupBlock.APPROVERS.value,
        "label": plain("Approvers", 2000),
        "hint": plain(
            "Who may approve previews and run a manual sync. Until someone is named, "
            "nobody can approve.",
            2000,
        ),
        "optional": True,
        "element": element,
    }


def parse_setup(view: Mapping[str, Any]) -> SetupForm:
    """Read a submitted setup view; absent or cleared inputs read as empty, never raise."""
    values: Mapping[str, Any] = view.get("state", {}).get("values", {})

    def element(block: SetupBlock, action: SetupInput) -> Mapping[str, Any]:
        found = values.get(block.value, {}).get(action.value)
        return found if isinstance(found, Mapping) else {}

    def text(block: SetupBlock, action: SetupInput) -> str:
        value = element(block, action).get("value")
        return value if isinstance(value, str) else ""

    channel_state = element(SetupBlock.REPORT_CHANNEL, SetupInput.REPORT_CHANNEL)
    channel = channel_state.get("selected_conversation") or channel_state.get("selected_channel")
    users = element(SetupBlock.APPROVERS, SetupInput.APPROVERS).get("selected_users") or []
    secret = text(SetupBlock.CLIENT_SECRET, SetupInput.CLIENT_SECRET).strip()
    return SetupForm(
        tenant_id=text(SetupBlock.TENANT_ID, SetupInput.TENANT_ID).strip(),
        client_id=text(SetupBlock.CLIENT_ID, SetupInput.CLIENT_ID).strip(),
        client_secret=secret or None,
        cadence_days=text(SetupBlock.CADENCE_DAYS, SetupInput.CADENCE_DAYS).strip(),
        report_channel=channel if isinstance(channel, str) and channel else None,
        approvers=tuple(dict.fromkeys(str(u) for u in users if u)),
    )


def setup_errors(problems: Sequence[FieldProblem]) -> dict[str, str]:
    """``response_action="errors"`` payload: each problem under its input's block id.

    Field names from :mod:`core.config.validation` are the block ids. A problem with a field
    the modal does not show is not dropped: it goes under the first block, since Slack
    rejects errors keyed by unknown block ids and the admin must still learn of it.
    """
    known = {block.value for block in SetupBlock}
    errors: dict[str, list[str]] = {}
    for problem in problems:
        key = problem.field if problem.field in known else SetupBlock.TENANT_ID.value
        rule = problem.rule if problem.field in known else f"{problem.field}: {problem.rule}"
        errors.setdefault(key, []).append(rule[:1].upper() + rule[1:])
    return {key: truncate("; ".join(rules), MAX_INPUT_ERROR) for key, rules in errors.items()}


def connection_check_message(check: ConnectionCheck, *, tenant_id: str) -> Message:
    """The private result of testing every connection: each step, and what to fix.

    Entra details are fixed here in setup; Atlassian ones in the bot's environment.
    """
    tenant = f"`{clip(tenant_id, 64)}`" if tenant_id else "(no tenant)"
    plain = escape_mrkdwn(tenant_id) if tenant_id else "(no tenant)"
    if check.ok:
        lead = f":white_check_mark: Every connection works: Entra tenant {tenant}, Jira and Assets."
        text = f"Every connection works: Entra tenant {plain}, Jira and Assets."
    else:
        lead = (
            f":x: Not every connection works yet (Entra tenant {tenant}). Fix each failed "
            "step: Entra details here in setup, Atlassian settings in the bot's environment "
            "(then restart it); `entra-sync check-connection` runs the same check."
        )
        text = f"Not every connection works yet (Entra tenant {plain})."
    rows = [_step_line(step.name, step.ok, step.message) for step in check.steps[:10]]
    blocks: list[Block] = [section(lead)]
    if rows:
        blocks.append(section("\n".join(rows)))
    return message(text, blocks)


def _step_line(name: str, ok: bool, text: str) -> str:
    if ok:
        emoji = ":white_check_mark:"
    elif text == SKIPPED:
        emoji = ":heavy_minus_sign:"
    else:
        emoji = ":x:"
    return f"{emoji} *{clip(name, 60)}*: {clip(text, 250)}"
