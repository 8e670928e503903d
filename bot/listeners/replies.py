"""Private replies through ``response_url``: only the person who acted sees them."""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import Respond

from bot.flows import Reply


def private(respond: Respond) -> Reply:
    def reply(text: str) -> None:
        respond(text=text, response_type="ephemeral", replace_original=False)

    return reply


def dm(client_post: Callable[..., object], user_id: str) -> Reply:
    """A reply to the App Home: there is no response_url there, so write in the DM."""

    def reply(text: str) -> None:
        client_post(channel=user_id, text=text)

    return reply
