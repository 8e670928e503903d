"""Slack's request signature check, logging why a request was refused and nothing of it.

Bolt's own :class:`RequestVerification` logs the whole request body at INFO when a
signature fails. A setup form submission carries the Entra client secret in that
body, so a stale or forged submission would write the secret into the bot's log.
:class:`QuietRequestVerification` makes the same decision with the same
:class:`~slack_sdk.signature.SignatureVerifier` (v0 HMAC-SHA256 over the raw body,
constant-time compare, five-minute replay window) and logs one line with the reason
only: no body, no signature, no header values.

:func:`install` puts it in the place of Bolt's check in an app's middleware chain, so
it still runs first, before authorisation and any listener.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from slack_bolt import App
from slack_bolt.middleware.request_verification import RequestVerification
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

logger = logging.getLogger(__name__)

# Slack's replay window (slack_sdk's SignatureVerifier refuses anything older).
MAX_AGE_SECONDS = 60 * 5


class QuietRequestVerification(RequestVerification):
    """Refuses unsigned, stale or forged requests with 401; logs the reason alone."""

    def process(
        self,
        *,
        req: BoltRequest,
        resp: BoltResponse,
        next: Callable[[], BoltResponse],  # Bolt calls it by this name
    ) -> BoltResponse:
        if req.mode == "socket_mode":  # Slack's socket is authenticated by the app token
            return next()
        timestamp = _header(req, "x-slack-request-timestamp")
        signature = _header(req, "x-slack-signature")
        if self.verifier.is_valid(req.raw_body, timestamp, signature):
            return next()
        logger.warning("Refused a Slack request: %s", self._reason(timestamp, signature))
        return BoltResponse(status=401, body={"error": "invalid request"})

    def _reason(self, timestamp: str, signature: str) -> str:
        """Why the check failed, in words that carry nothing from the request."""
        if not timestamp or not signature:
            return "no signature or timestamp header"
        try:
            age = time.time() - int(timestamp)
        except ValueError:
            return "the timestamp header is not a number"
        if abs(age) > MAX_AGE_SECONDS:
            return f"stale timestamp ({int(abs(age))} s from now; at most {MAX_AGE_SECONDS} s)"
        return "the signature does not match the body (wrong signing secret, or altered)"


def _header(req: BoltRequest, name: str) -> str:
    values = req.headers.get(name) or [""]
    return str(values[0])


def install(app: App, signing_secret: str) -> None:
    """Replace Bolt's signature check in ``app`` with the quiet one, in the same place.

    Does nothing for an app built without request verification (Socket Mode).
    """
    chain = app._middleware_list
    for index, middleware in enumerate(chain):
        if isinstance(middleware, RequestVerification):
            chain[index] = QuietRequestVerification(signing_secret)
            return
