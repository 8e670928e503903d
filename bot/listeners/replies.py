"""Private replies: only the person who acted sees them, however late they come.

A command or a click carries a ``response_url``, the one way to answer that person
privately in the channel where they acted. Slack takes at most five messages on it,
within 30 minutes of the command or click, and refuses the rest; Bolt's ``respond``
does not raise when it does, so a late reply (a first preview of a large directory
that fails after 40 minutes) would vanish. :class:`PrivateReply` counts the uses and
checks the age, reads Slack's answer, and sends what the URL can no longer carry as a
direct message from the app instead (``chat.postMessage`` to the user id, which lands
in the app's Messages tab; ``chat:write`` covers it). Every private reply goes
through it; replies to the App Home, which has no ``response_url``, go straight to
the direct message.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.context import BotContext

log = logging.getLogger(__name__)

RESPONSE_URL_USES = 5
RESPONSE_URL_LIFETIME = timedelta(minutes=30)
RESPONSE_URL_MARGIN = timedelta(minutes=1)
"""Slack's 30 minutes start when the person acts, a little before the request reaches us
(and a slow network may add more): past 29 minutes, the direct message is the sure way."""


class PrivateReply:
    """A reply function for one command or click (a :data:`bot.flows.Reply`).

    Thread-safe: the listener and the worker job it started may both reply.
    """

    def __init__(
        self,
        client: WebClient,
        user_id: str,
        respond: Respond | None,
        *,
        clock: Callable[[], datetime],
    ) -> None:
        self._client = client
        self._user = user_id
        self._respond = respond if respond is not None and respond.response_url else None
        self._clock = clock
        self._issued = clock()
        self._used = 0
        self._lock = threading.Lock()

    def __call__(self, text: str) -> None:
        respond = self._take_use()
        if respond is not None and self._by_response_url(respond, text):
            return
        self._by_direct_message(text)

    def _take_use(self) -> Respond | None:
        """The response URL when it may still carry a message (one use is then spent)."""
        with self._lock:
            fresh = self._clock() - self._issued < RESPONSE_URL_LIFETIME - RESPONSE_URL_MARGIN
            if self._respond is None or not fresh or self._used >= RESPONSE_URL_USES:
                return None
            self._used += 1
            return self._respond

    def _by_response_url(self, respond: Respond, text: str) -> bool:
        """True when Slack took the message; a refusal spends the URL for good."""
        try:
            answer = respond(text=text, response_type="ephemeral", replace_original=False)
        except (SlackClientError, OSError) as exc:
            log.warning("A private reply could not be sent to its response_url: %s", exc)
            return False
        if answer.status_code == 200:
            return True
        log.info(
            "Slack refused a reply on its response_url (HTTP %s %s); sending it by direct message",
            answer.status_code,
            str(answer.body)[:40],
        )
        with self._lock:
            self._used = RESPONSE_URL_USES
        return False

    def _by_direct_message(self, text: str) -> None:
        try:
            self._client.chat_postMessage(channel=self._user, text=text)
        except (SlackClientError, OSError) as exc:
            error = exc.response.get("error") if isinstance(exc, SlackApiError) else exc
            log.warning("A private reply to %s was lost: %s", self._user, error)


def private(ctx: BotContext, respond: Respond | None, user_id: str) -> PrivateReply:
    """The private reply to ``user_id`` for the command or click ``respond`` belongs to."""
    return PrivateReply(ctx.client, user_id, respond, clock=ctx.clock)


def dm(ctx: BotContext, user_id: str) -> PrivateReply:
    """A reply where there is no response URL (the App Home): the app's direct message."""
    return PrivateReply(ctx.client, user_id, None, clock=ctx.clock)
