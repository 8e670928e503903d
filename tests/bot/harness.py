"""Requests as Slack sends them: signed, with realistic slash-command and payload bodies.

Feed :func:`signed_request` to ``app.dispatch`` for in-process tests, or send
:func:`signed_headers` with the same body over real HTTP to :mod:`bot.server`.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

from slack_bolt.request import BoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.ids import COMMAND
from tests.bot.slack_fake import BOT_ID, BOT_USER_ID, TEAM_ID

SIGNING_SECRET = "test-signing-secret"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
APP_ID = "A_ENTRA"
MESSAGE_TS = "1700000000.000100"
LEGACY_TOKEN = "verification-token-unused"
_TRIGGERS = itertools.count(1)


def new_trigger_id() -> str:
    """A fresh ``trigger_id``: Slack gives every command and click its own."""
    return f"{next(_TRIGGERS)}.{int(time.time())}.harness"


def signed_headers(
    body: str,
    *,
    timestamp: int | None = None,
    secret: str = SIGNING_SECRET,
    content_type: str = FORM,
) -> dict[str, str]:
    """The headers Slack sends with ``body``: content type, timestamp and v0 signature."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    assert signature is not None
    return {
        "content-type": content_type,
        "x-slack-request-timestamp": ts,
        "x-slack-signature": signature,
    }


def signed_request(
    body: str,
    *,
    timestamp: int | None = None,
    secret: str = SIGNING_SECRET,
    content_type: str = FORM,
) -> BoltRequest:
    """A :class:`BoltRequest` for ``app.dispatch``, signed as Slack would sign it."""
    headers = signed_headers(body, timestamp=timestamp, secret=secret, content_type=content_type)
    return BoltRequest(body=body, headers={name: [value] for name, value in headers.items()})


def command_body(
    text: str,
    *,
    user_id: str = "U_ALICE",
    channel_id: str = "C_OPS",
    trigger_id: str | None = None,
    response_url: str,
) -> str:
    """The form-encoded body of ``/entra <text>``; a fresh trigger unless one is given."""
    return urlencode(
        {
            "token": LEGACY_TOKEN,
            "team_id": TEAM_ID,
            "team_domain": "fake",
            "channel_id": channel_id,
            "channel_name": "ops",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": COMMAND,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id or new_trigger_id(),
        }
    )


def action_body(
    action_id: str,
    value: str,
    *,
    user_id: str = "U_ALICE",
    channel_id: str = "C_OPS",
    message_ts: str = MESSAGE_TS,
    response_url: str,
    block_id: str = "b",
    trigger_id: str | None = None,
) -> str:
    """A ``block_actions`` payload: one button click on a message the bot posted."""
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM_ID, "domain": "fake"},
        "user": _user(user_id),
        "api_app_id": APP_ID,
        "token": LEGACY_TOKEN,
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        },
        "trigger_id": trigger_id or new_trigger_id(),
        "channel": {"id": channel_id, "name": "ops"},
        "message": {
            "type": "message",
            "ts": message_ts,
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "text": "",
            "blocks": [],
        },
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": block_id,
                "value": value,
                "text": {"type": "plain_text", "text": action_id},
                "action_ts": f"{int(time.time())}.000001",
            }
        ],
    }
    return _payload_form(payload)


def view_submission_body(
    callback_id: str,
    values: dict[str, Any],
    *,
    user_id: str = "U_ALICE",
    private_metadata: str = "",
    trigger_id: str | None = None,
) -> str:
    """A ``view_submission`` payload; ``values`` is Slack's ``view.state.values`` shape.

    That is ``{block_id: {action_id: {"type": "plain_text_input", "value": "..."}}}``.
    """
    payload = {
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": "fake"},
        "user": _user(user_id),
        "api_app_id": APP_ID,
        "token": LEGACY_TOKEN,
        "trigger_id": trigger_id or new_trigger_id(),
        "view": {
            "id": "V_SUBMITTED",
            "team_id": TEAM_ID,
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": private_metadata,
            "blocks": [],
            "state": {"values": values},
            "hash": "h1",
            "title": {"type": "plain_text", "text": "Entra"},
            "app_id": APP_ID,
            "bot_id": BOT_ID,
        },
        "response_urls": [],
        "is_enterprise_install": False,
    }
    return _payload_form(payload)


def home_opened_body(user_id: str) -> str:
    """An ``app_home_opened`` event callback; send it with ``content_type=JSON``."""
    now = int(time.time())
    return json.dumps(
        {
            "token": LEGACY_TOKEN,
            "team_id": TEAM_ID,
            "api_app_id": APP_ID,
            "type": "event_callback",
            "event_id": f"Ev{now}",
            "event_time": now,
            "event": {
                "type": "app_home_opened",
                "user": user_id,
                "channel": "D" + user_id,
                "tab": "home",
                "event_ts": f"{now}.000001",
            },
            "authorizations": [
                {"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True},
            ],
        }
    )


def _user(user_id: str) -> dict[str, str]:
    return {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": TEAM_ID}


def _payload_form(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})
