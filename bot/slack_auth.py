"""Start-up's first word with Slack: is the bot token accepted, and is Slack there?

Bolt checks the token itself while the app is built, but a refusal surfaces there as
an exception with a traceback, and an unreachable Slack as a socket error from deep
in urllib. Asking ``auth.test`` first turns both into the command line's one line:
a token Slack refuses is configuration the person must fix (exit 2, naming
``SLACK_BOT_TOKEN``), an unreachable Slack is a failure that may pass (exit 1, naming
the URL tried and the setting that moves it). The token itself is never shown.
"""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

from bot.config import ENV_API_URL, ENV_BOT_TOKEN, SlackSettings, build_web_client
from core.errors import ApiError, ConfigError, FieldProblem, TransportFailure

SLACK = "slack"

# auth.test's errors that mean "this token will never work": fix the variable.
TOKEN_REFUSALS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "not_allowed_token_type",
    }
)


class SlackTokenRejected(ConfigError):
    """Slack refused ``SLACK_BOT_TOKEN``; the line says so in the words the issue asks."""

    def __init__(self, error: str) -> None:
        super().__init__([FieldProblem(ENV_BOT_TOKEN, f"rejected by Slack: {error}")])
        self.args = (f"{ENV_BOT_TOKEN} rejected by Slack: {error}",)


def verify_bot_token(slack: SlackSettings) -> None:
    """Call ``auth.test`` once; raise a one-line error when the bot cannot start.

    Raises :class:`SlackTokenRejected` (exit 2) for a refused token,
    :class:`TransportFailure` (exit 1) when Slack cannot be reached, and
    :class:`ApiError` (exit 1) for any other refusal.
    """
    client = build_web_client(slack)
    try:
        client.auth_test()
    except SlackApiError as exc:
        error = str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
        if error in TOKEN_REFUSALS:
            raise SlackTokenRejected(error) from None
        raise ApiError(SLACK, f"auth.test failed: {error}") from None
    except OSError as exc:  # URLError, refused connections and timeouts are all OSErrors
        reason = getattr(exc, "reason", None) or exc.strerror or type(exc).__name__
        raise TransportFailure(
            SLACK,
            f"unreachable at {client.base_url} ({reason}); check the network and any "
            f"HTTPS_PROXY, or set {ENV_API_URL} if the Web API is elsewhere",
        ) from None
