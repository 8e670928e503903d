"""Slack settings, read once from the environment (and an optional ``.env`` file).

The rules follow :mod:`core.config.settings`: the environment wins over the ``.env`` file,
blank values count as unset, and every problem is reported at once in a
:class:`~core.errors.ConfigError` that names variables, never values, because three of
these values are credentials.

Setting ``SLACK_APP_TOKEN`` selects Socket Mode (no public endpoint, Slack does not
sign the frames); without it the bot serves HTTP and needs ``SLACK_SIGNING_SECRET`` to
tell Slack's requests from forged ones.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values
from slack_sdk import WebClient
from slack_sdk.http_retry import RateLimitErrorRetryHandler, default_retry_handlers

from core.config import RULE_REQUIRED, RULE_URL, is_safe_url
from core.errors import ConfigError, FieldProblem

# S105: these are variable names and rules, not credentials.
ENV_BOT_TOKEN = "SLACK_BOT_TOKEN"  # noqa: S105
ENV_SIGNING_SECRET = "SLACK_SIGNING_SECRET"  # noqa: S105
ENV_APP_TOKEN = "SLACK_APP_TOKEN"  # noqa: S105
ENV_PORT = "PORT"
ENV_API_URL = "ENTRA_SYNC_SLACK_API_URL"
ENV_ADMIN_USER_IDS = "ENTRA_SYNC_ADMIN_USER_IDS"
SLACK_VARIABLES = (
    ENV_BOT_TOKEN,
    ENV_SIGNING_SECRET,
    ENV_APP_TOKEN,
    ENV_PORT,
    ENV_API_URL,
    ENV_ADMIN_USER_IDS,
)

DEFAULT_PORT = 3000
MAX_PORT = 65535
RATE_LIMIT_RETRIES = 2

# The bot scopes both manifests request, in manifest order. Each one is used:
REQUIRED_BOT_SCOPES: tuple[str, ...] = (
    "commands",  # the /entra slash command
    "chat:write",  # previews, approvals and reports
    "chat:write.public",  # reports to a chosen channel the bot has not joined
    "channels:join",  # join a public channel before sharing a CSV there (files need members)
    "files:write",  # the preview's CSV in the thread
    "users:read",  # users.info: is the clicker a workspace admin or owner?
)

RULE_BOT_TOKEN = "must be a bot token starting with xoxb-"  # noqa: S105
RULE_APP_TOKEN = "must be an app-level token starting with xapp- (or unset for HTTP mode)"  # noqa: S105
RULE_SIGNING_SECRET = f"must be set in HTTP mode (when {ENV_APP_TOKEN} is unset)"
RULE_PORT = f"must be a whole number from 0 to {MAX_PORT}"
RULE_ADMIN_IDS = "must be a comma-separated list of Slack user ids such as U012ABCDEF"
_USER_ID = re.compile(r"[UW][A-Z0-9]+")
_WHOLE_NUMBER = re.compile(r"[0-9]+")

_FailFn = Callable[[str, str], None]


@dataclass(frozen=True)
class SlackSettings:
    """What the Slack bot reads from its environment, validated.

    Tokens and the signing secret are ``repr=False`` so logging the settings is safe.
    """

    bot_token: str = field(repr=False)
    signing_secret: str | None = field(default=None, repr=False)
    app_token: str | None = field(default=None, repr=False)
    port: int = DEFAULT_PORT
    api_url: str | None = None
    admin_user_ids: tuple[str, ...] = ()

    @property
    def socket_mode(self) -> bool:
        """Socket Mode when an app-level token is configured, HTTP otherwise."""
        return self.app_token is not None


def load_slack_settings(
    environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")
) -> SlackSettings:
    """Read :class:`SlackSettings`; ``environ`` (default ``os.environ``) wins over ``env_file``.

    Raises :class:`ConfigError` naming every missing or invalid variable at once.
    """
    values = _merged(os.environ if environ is None else environ, env_file)
    problems: list[FieldProblem] = []
    settings = _read(values, problems)
    if problems or settings is None:
        raise ConfigError(problems)
    return settings


def build_web_client(slack: SlackSettings) -> WebClient:
    """A Web API client that rides out Slack's rate limits instead of failing on them.

    slack_sdk retries only connection errors by default; a 429 with ``Retry-After`` is
    routine for ``chat.update`` bursts, so it is retried too (a bounded number of times).
    ``api_url`` points the client at a test double.
    """
    rate_limits = RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES)
    handlers = [*default_retry_handlers(), rate_limits]
    return WebClient(
        token=slack.bot_token,
        base_url=slack.api_url or WebClient.BASE_URL,
        retry_handlers=handlers,
    )


def _merged(environ: Mapping[str, str], env_file: Path | None) -> dict[str, str]:
    """Our variables from the ``.env`` file, then the environment; blank counts as unset."""
    values: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        for name, value in dotenv_values(env_file).items():
            if name in SLACK_VARIABLES and value is not None:
                values[name] = value
    for name in SLACK_VARIABLES:
        value = environ.get(name)
        if value is not None and value.strip():
            values[name] = value
    return {name: value.strip() for name, value in values.items() if value.strip()}


def _read(values: Mapping[str, str], problems: list[FieldProblem]) -> SlackSettings | None:
    """Every value, checked; problems are appended rather than raised."""

    def fail(name: str, rule: str) -> None:
        problems.append(FieldProblem(name, rule))

    bot_token = _token(values, ENV_BOT_TOKEN, "xoxb-", RULE_BOT_TOKEN, fail)
    if ENV_BOT_TOKEN not in values:
        fail(ENV_BOT_TOKEN, RULE_REQUIRED)
    app_token = _token(values, ENV_APP_TOKEN, "xapp-", RULE_APP_TOKEN, fail)
    signing_secret = values.get(ENV_SIGNING_SECRET)
    if signing_secret is None and ENV_APP_TOKEN not in values:
        fail(ENV_SIGNING_SECRET, RULE_SIGNING_SECRET)
    port = _port(values.get(ENV_PORT), fail)
    api_url = _api_url(values.get(ENV_API_URL), fail)
    admins = _admin_ids(values.get(ENV_ADMIN_USER_IDS), fail)
    if bot_token is None:
        return None
    return SlackSettings(bot_token, signing_secret, app_token, port, api_url, admins)


def _token(
    values: Mapping[str, str], name: str, prefix: str, rule: str, fail: _FailFn
) -> str | None:
    """The token when it has the right prefix; a wrong kind of token is a common mix-up."""
    value = values.get(name)
    if value is None or value.startswith(prefix):
        return value
    fail(name, rule)
    return None


def _port(value: str | None, fail: _FailFn) -> int:
    if value is None:
        return DEFAULT_PORT
    if _WHOLE_NUMBER.fullmatch(value) is None or int(value) > MAX_PORT:
        fail(ENV_PORT, RULE_PORT)
        return DEFAULT_PORT
    return int(value)


def _api_url(value: str | None, fail: _FailFn) -> str | None:
    """A Web API base URL, kept with one trailing slash as ``WebClient`` joins on it."""
    if value is None:
        return None
    if not is_safe_url(value):
        fail(ENV_API_URL, RULE_URL)
        return None
    return value.rstrip("/") + "/"


def _admin_ids(value: str | None, fail: _FailFn) -> tuple[str, ...]:
    """Slack user ids, deduplicated in order; blanks between commas are ignored."""
    if value is None:
        return ()
    ids = [part.strip() for part in value.split(",") if part.strip()]
    if not all(_USER_ID.fullmatch(user_id) for user_id in ids):
        fail(ENV_ADMIN_USER_IDS, RULE_ADMIN_IDS)
        return ()
    return tuple(dict.fromkeys(ids))
