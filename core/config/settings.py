"""Process settings, read once from the environment (and an optional ``.env`` file).

Loading is deliberately lenient about what is *missing*: ``configure`` only needs the
database and the cipher, so Atlassian values are checked by
:meth:`Settings.require_atlassian` when a command actually talks to Atlassian. Values
that are *present* but wrong fail at load time, all at once, so a person fixes the
whole environment in one go instead of one variable per attempt. Error messages name
variables and rules, never values: several of these values are secrets.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import time
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from core.config.clouds import CLOUDS, DEFAULT_CLOUD
from core.errors import ConfigError, FieldProblem
from core.sync import GuardPolicy

PREFIX = "ENTRA_SYNC_"
DEFAULT_DATABASE_URL = "sqlite:///data/entra-sync.db"
DEFAULT_ATLASSIAN_API_URL = "https://api.atlassian.com"
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})

ENV_DATABASE_URL = PREFIX + "DATABASE_URL"
ENV_SECRET_KEY = PREFIX + "SECRET_KEY"
ENV_ATLASSIAN_SITE = PREFIX + "ATLASSIAN_SITE"
ENV_ATLASSIAN_EMAIL = PREFIX + "ATLASSIAN_EMAIL"
ENV_ATLASSIAN_API_TOKEN = PREFIX + "ATLASSIAN_API_TOKEN"
ENV_ATLASSIAN_ORG_ID = PREFIX + "ATLASSIAN_ORG_ID"
ENV_ATLASSIAN_ORG_API_KEY = PREFIX + "ATLASSIAN_ORG_API_KEY"
ENV_ATLASSIAN_API_URL = PREFIX + "ATLASSIAN_API_URL"
ENV_ATLASSIAN_TOKEN_KIND = PREFIX + "ATLASSIAN_TOKEN_KIND"
ENV_CLOUD = PREFIX + "CLOUD"
ENV_LOGIN_URL = PREFIX + "LOGIN_URL"
ENV_GRAPH_URL = PREFIX + "GRAPH_URL"
ENV_ASSETS_RATE = PREFIX + "ASSETS_RATE"
ENV_WRITE_CONCURRENCY = PREFIX + "WRITE_CONCURRENCY"
ENV_HTTP_TIMEOUT = PREFIX + "HTTP_TIMEOUT"
ENV_PREVIEW_TTL_HOURS = PREFIX + "PREVIEW_TTL_HOURS"
ENV_ALLOW_SELF_APPROVAL = PREFIX + "ALLOW_SELF_APPROVAL"
ENV_PREVIEW_REQUESTERS = PREFIX + "PREVIEW_REQUESTERS"
ENV_CHECK_TIME = PREFIX + "CHECK_TIME"
ENV_CHECK_TIMEZONE = PREFIX + "CHECK_TIMEZONE"
ENV_GUARD_MAX_INACTIVATIONS = PREFIX + "GUARD_MAX_INACTIVATIONS"
ENV_GUARD_MAX_INACTIVATION_PERCENT = PREFIX + "GUARD_MAX_INACTIVATION_PERCENT"
ENV_GUARD_MIN_SOURCE_PERCENT = PREFIX + "GUARD_MIN_SOURCE_PERCENT"
ENV_GUARD_MAX_UPDATES = PREFIX + "GUARD_MAX_UPDATES"
ENV_GUARD_MAX_UPDATE_PERCENT = PREFIX + "GUARD_MAX_UPDATE_PERCENT"
ENV_GUARD_MAX_CLEARS = PREFIX + "GUARD_MAX_CLEARS"
ENV_GUARD_MAX_CLEAR_PERCENT = PREFIX + "GUARD_MAX_CLEAR_PERCENT"
ENV_QUARANTINE_AFTER = PREFIX + "QUARANTINE_AFTER"
ENV_LEASE_TTL_SECONDS = PREFIX + "LEASE_TTL_SECONDS"
ENV_IN_CONTAINER = PREFIX + "IN_CONTAINER"
ENV_LOG_LEVEL = PREFIX + "LOG_LEVEL"
ENV_LOG_FORMAT = PREFIX + "LOG_FORMAT"

RULE_REQUIRED = "must be set"
RULE_URL = "must be an https URL without credentials (http only for localhost or 127.0.0.1)"
RULE_EMAIL = "must be an email address"
RULE_DATABASE_URL = "must be a SQLAlchemy database URL such as sqlite:///data/entra-sync.db"
RULE_CLOUD = "must be one of " + ", ".join(CLOUDS)
RULE_ORG_PAIR = (
    f"must be set together with {{other}}: set both {ENV_ATLASSIAN_ORG_ID} and "
    f"{ENV_ATLASSIAN_ORG_API_KEY}, or neither"
)
RULE_BOOLEAN = "must be one of true, false, yes, no, 1, 0"
RULE_CHECK_TIME = "must be a 24-hour time HH:MM such as 02:00"
RULE_TIMEZONE = "must be an IANA time zone name such as UTC or Europe/Berlin"
RULE_PERCENT = "must be a number from 0 to 100"
KEY_HINT = (
    "generate one with: python -c 'from cryptography.fernet import Fernet; "
    "print(Fernet.generate_key().decode())'"
)
RULE_KEY_SHARED_DATABASE = (
    "must be set when the database is not a local SQLite file: every process using it must "
    f"decrypt the stored client secret with the same key; {KEY_HINT}"
)
RULE_KEY_IN_CONTAINER = (
    f"must be set in a container ({ENV_IN_CONTAINER} is set): a key file made inside the "
    f"container would be lost with it; {KEY_HINT}"
)


class PreviewRequesters(StrEnum):
    """Who may ask for a preview in Slack (``ENTRA_SYNC_PREVIEW_REQUESTERS``).

    A preview reads the whole directory and Assets and posts who would change, so by
    default only the people who could act on it ask: approvers and admins.
    """

    APPROVERS = "approvers"  # approvers and admins
    EVERYONE = "everyone"


RULE_PREVIEW_REQUESTERS = "must be one of " + ", ".join(PreviewRequesters)


class TokenKind(StrEnum):
    """Which kind of Atlassian API token ``ENTRA_SYNC_ATLASSIAN_API_TOKEN`` is.

    The token itself does not say, and the two go to different hosts: a classic token
    (made without scopes) to the site, ``https://<site>.atlassian.net``; a scoped token
    (made with scopes, the only kind a service account can make) through the gateway,
    ``https://api.atlassian.com/ex/jira/<cloud id>``, and nowhere else. Sent to the
    other place, either is refused with a 401, so the operator says which it is.
    """

    CLASSIC = "classic"
    SCOPED = "scoped"


RULE_ATLASSIAN_KIND = (
    "must be one of classic, scoped: classic for an API token made without scopes, "
    "scoped for one made with scopes (every service account token is scoped)"
)


class LogFormat(StrEnum):
    """How log lines are written (``ENTRA_SYNC_LOG_FORMAT``): for people, or for a collector."""

    TEXT = "text"
    JSON = "json"


LOG_LEVELS = ("debug", "info", "warning", "error")
RULE_LOG_LEVEL = "must be one of " + ", ".join(LOG_LEVELS)
RULE_LOG_FORMAT = "must be one of " + ", ".join(LogFormat)

RULE_TEXT = "must be UTF-8 text"
DEFAULT_CHECK_TIME = time(2, 0)
DEFAULT_CHECK_TIMEZONE = "UTC"
MAX_TIMEOUT_SECONDS = 600.0
MAX_PREVIEW_TTL_HOURS = 720  # 30 days: an older plan says little about the directory
TRUE_WORDS = frozenset({"true", "yes", "1"})
FALSE_WORDS = frozenset({"false", "no", "0"})
_WHOLE_NUMBER = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_CLOCK_TIME = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")


@dataclass(frozen=True, repr=False)
class Settings:
    """Everything the process reads from its environment, validated and normalised.

    Secret fields are ``repr=False`` and the database URL is shown with its password
    hidden, so logging a ``Settings`` can never leak a credential.
    """

    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str | None = field(default=None, repr=False)
    atlassian_site: str | None = None
    atlassian_email: str | None = None
    atlassian_api_token: str | None = field(default=None, repr=False)
    atlassian_org_id: str | None = None
    atlassian_org_api_key: str | None = field(default=None, repr=False)
    atlassian_api_url: str = DEFAULT_ATLASSIAN_API_URL
    atlassian_token_kind: TokenKind = TokenKind.CLASSIC
    cloud: str = DEFAULT_CLOUD
    login_url: str = CLOUDS[DEFAULT_CLOUD].login_url
    graph_url: str = CLOUDS[DEFAULT_CLOUD].graph_url
    assets_requests_per_minute: int = 900
    write_concurrency: int = 4
    http_timeout: float = 30.0
    preview_ttl_hours: int = 24
    allow_self_approval: bool = False
    preview_requesters: PreviewRequesters = PreviewRequesters.APPROVERS
    check_time: time = DEFAULT_CHECK_TIME
    check_timezone: str = DEFAULT_CHECK_TIMEZONE
    guard_max_inactivations: int = GuardPolicy.max_inactivations
    guard_max_inactivation_percent: float = GuardPolicy.max_inactivation_percent
    guard_min_source_percent: float = GuardPolicy.min_source_percent
    guard_max_updates: int = GuardPolicy.max_updates
    guard_max_update_percent: float = GuardPolicy.max_update_percent
    guard_max_clears: int = GuardPolicy.max_clears
    guard_max_clear_percent: float = GuardPolicy.max_clear_percent
    quarantine_after: int = 3
    lease_ttl_seconds: int = 120
    in_container: bool = False
    log_level: str | None = None  # None: the shell's default (the CLI is quiet, serve INFO)
    log_format: LogFormat = LogFormat.TEXT

    def __repr__(self) -> str:
        parts = []
        for f in fields(self):
            if not f.repr:
                continue
            value = getattr(self, f.name)
            if f.name == "database_url":
                value = _hide_password(value)
            parts.append(f"{f.name}={value!r}")
        return f"Settings({', '.join(parts)})"

    __str__ = __repr__

    @property
    def timezone(self) -> ZoneInfo:
        """The zone the daily check time and the cadence's calendar dates are read in."""
        return ZoneInfo(self.check_timezone)

    @property
    def guard(self) -> GuardPolicy:
        """When a plan waits for a person instead of applying: see core.sync.guard."""
        return GuardPolicy(
            max_inactivations=self.guard_max_inactivations,
            max_inactivation_percent=self.guard_max_inactivation_percent,
            min_source_percent=self.guard_min_source_percent,
            max_updates=self.guard_max_updates,
            max_update_percent=self.guard_max_update_percent,
            max_clears=self.guard_max_clears,
            max_clear_percent=self.guard_max_clear_percent,
        )

    @property
    def shown_database_url(self) -> str:
        """The database URL as a log line or a status page may show it: never its password."""
        return _hide_password(self.database_url)

    @property
    def key_file_allowed(self) -> bool:
        """True when a ``secret.key`` file beside the database may hold the key.

        Only for a local SQLite database outside a container: a database that several
        processes share must be read with one key they all have, and a file made inside
        a container is lost with the container.
        """
        return not self.in_container and _is_sqlite(self.database_url)

    @property
    def has_org_admin(self) -> bool:
        """True when the org admin API can fill in emails that profile visibility hides."""
        return self.atlassian_org_id is not None and self.atlassian_org_api_key is not None

    def require_atlassian(self) -> None:
        """Fail, naming every missing variable, before a command that talks to Atlassian."""
        required = (
            (ENV_ATLASSIAN_SITE, self.atlassian_site),
            (ENV_ATLASSIAN_EMAIL, self.atlassian_email),
            (ENV_ATLASSIAN_API_TOKEN, self.atlassian_api_token),
        )
        missing = [FieldProblem(name, RULE_REQUIRED) for name, value in required if not value]
        if missing:
            raise ConfigError(missing)


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")
) -> Settings:
    """Read :class:`Settings`; the environment wins over the ``.env`` file.

    Raises :class:`ConfigError` naming every present-but-invalid variable at once.
    """
    reader = _Reader(_merged(os.environ if environ is None else environ, env_file))
    settings = _read(reader)
    if settings.secret_key is None and not settings.key_file_allowed:
        rule = RULE_KEY_IN_CONTAINER if settings.in_container else RULE_KEY_SHARED_DATABASE
        reader.fail(ENV_SECRET_KEY, rule)
    if reader.problems:
        raise ConfigError(reader.problems)
    return settings


def _merged(environ: Mapping[str, str], env_file: Path | None) -> dict[str, str]:
    """Layer the environment over the ``.env`` file; blank values count as unset."""
    values: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        values.update(_env_file_values(env_file))
    for name, value in environ.items():
        if name.startswith(PREFIX) and value.strip():
            values[name] = value
    return {name: value.strip() for name, value in values.items() if value.strip()}


def _env_file_values(env_file: Path) -> dict[str, str]:
    try:
        entries = dotenv_values(env_file).items()
    except UnicodeDecodeError:
        raise ConfigError([FieldProblem(f"env file {env_file}", RULE_TEXT)]) from None
    return {name: value for name, value in entries if value is not None}


def _read(r: _Reader) -> Settings:
    cloud_name = r.choice(ENV_CLOUD, DEFAULT_CLOUD)
    cloud = CLOUDS.get(cloud_name, CLOUDS[DEFAULT_CLOUD])
    org_id, org_key = _org_pair(r)
    return Settings(
        database_url=r.database_url(ENV_DATABASE_URL, DEFAULT_DATABASE_URL),
        secret_key=r.text(ENV_SECRET_KEY),
        atlassian_site=r.url(ENV_ATLASSIAN_SITE),
        atlassian_email=r.email(ENV_ATLASSIAN_EMAIL),
        atlassian_api_token=r.text(ENV_ATLASSIAN_API_TOKEN),
        atlassian_org_id=org_id,
        atlassian_org_api_key=org_key,
        atlassian_api_url=r.url(ENV_ATLASSIAN_API_URL) or DEFAULT_ATLASSIAN_API_URL,
        atlassian_token_kind=r.token_kind(ENV_ATLASSIAN_TOKEN_KIND),
        cloud=cloud_name if cloud_name in CLOUDS else DEFAULT_CLOUD,
        login_url=r.url(ENV_LOGIN_URL) or cloud.login_url,
        graph_url=r.url(ENV_GRAPH_URL) or cloud.graph_url,
        assets_requests_per_minute=r.integer(ENV_ASSETS_RATE, 900, 0, 10000),
        write_concurrency=r.integer(ENV_WRITE_CONCURRENCY, 4, 1, 32),
        http_timeout=r.seconds(ENV_HTTP_TIMEOUT, 30.0),
        preview_ttl_hours=r.integer(ENV_PREVIEW_TTL_HOURS, 24, 1, MAX_PREVIEW_TTL_HOURS),
        allow_self_approval=r.boolean(ENV_ALLOW_SELF_APPROVAL, False),
        preview_requesters=r.preview_requesters(ENV_PREVIEW_REQUESTERS),
        check_time=r.clock_time(ENV_CHECK_TIME, DEFAULT_CHECK_TIME),
        check_timezone=r.timezone(ENV_CHECK_TIMEZONE, DEFAULT_CHECK_TIMEZONE),
        guard_max_inactivations=r.integer(ENV_GUARD_MAX_INACTIVATIONS, 25, 0, 1_000_000),
        guard_max_inactivation_percent=r.percent(ENV_GUARD_MAX_INACTIVATION_PERCENT, 10.0),
        guard_min_source_percent=r.percent(ENV_GUARD_MIN_SOURCE_PERCENT, 90.0),
        guard_max_updates=r.integer(ENV_GUARD_MAX_UPDATES, 50, 0, 1_000_000),
        guard_max_update_percent=r.percent(ENV_GUARD_MAX_UPDATE_PERCENT, 20.0),
        guard_max_clears=r.integer(ENV_GUARD_MAX_CLEARS, 10, 0, 1_000_000),
        guard_max_clear_percent=r.percent(ENV_GUARD_MAX_CLEAR_PERCENT, 5.0),
        quarantine_after=r.integer(ENV_QUARANTINE_AFTER, 3, 1, 100),
        lease_ttl_seconds=r.integer(ENV_LEASE_TTL_SECONDS, 120, 5, 3600),
        in_container=r.boolean(ENV_IN_CONTAINER, False),
        log_level=r.log_level(ENV_LOG_LEVEL),
        log_format=r.log_format(ENV_LOG_FORMAT),
    )


def _org_pair(r: _Reader) -> tuple[str | None, str | None]:
    """The org admin API needs both its id and its key; one alone is a mistake."""
    org_id = r.text(ENV_ATLASSIAN_ORG_ID)
    org_key = r.text(ENV_ATLASSIAN_ORG_API_KEY)
    if org_id is not None and org_key is None:
        r.fail(ENV_ATLASSIAN_ORG_API_KEY, RULE_ORG_PAIR.format(other=ENV_ATLASSIAN_ORG_ID))
    if org_key is not None and org_id is None:
        r.fail(ENV_ATLASSIAN_ORG_ID, RULE_ORG_PAIR.format(other=ENV_ATLASSIAN_ORG_API_KEY))
    if org_id is None or org_key is None:
        return None, None
    return org_id, org_key


class _Reader:
    """Reads typed values and collects every problem instead of stopping at the first."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.problems: list[FieldProblem] = []
        self.values: dict[str, str] = {}
        for name, value in values.items():
            if _is_text(value):
                self.values[name] = value
            elif name.startswith(PREFIX):  # bytes the environment could not decode
                self.fail(name, RULE_TEXT)

    def fail(self, name: str, rule: str) -> None:
        self.problems.append(FieldProblem(name, rule))

    def text(self, name: str) -> str | None:
        return self.values.get(name)

    def checked(self, name: str, ok: Callable[[str], bool], rule: str) -> str | None:
        """The value if ``ok`` accepts it; otherwise record ``rule`` and return None."""
        value = self.text(name)
        if value is None or ok(value):
            return value
        self.fail(name, rule)
        return None

    def url(self, name: str) -> str | None:
        value = self.checked(name, is_safe_url, RULE_URL)
        return None if value is None else value.rstrip("/")

    def email(self, name: str) -> str | None:
        return self.checked(name, lambda v: _EMAIL.fullmatch(v) is not None, RULE_EMAIL)

    def database_url(self, name: str, default: str) -> str:
        return self.checked(name, _is_database_url, RULE_DATABASE_URL) or default

    def choice(self, name: str, default: str) -> str:
        value = (self.text(name) or default).lower()
        if value not in CLOUDS:
            self.fail(name, RULE_CLOUD)
        return value

    def preview_requesters(self, name: str) -> PreviewRequesters:
        options = {option.value for option in PreviewRequesters}
        value = self.checked(name, lambda v: v.lower() in options, RULE_PREVIEW_REQUESTERS)
        return PreviewRequesters.APPROVERS if value is None else PreviewRequesters(value.lower())

    def token_kind(self, name: str) -> TokenKind:
        options = {option.value for option in TokenKind}
        value = self.checked(name, lambda v: v.lower() in options, RULE_ATLASSIAN_KIND)
        return TokenKind.CLASSIC if value is None else TokenKind(value.lower())

    def log_level(self, name: str) -> str | None:
        value = self.checked(name, lambda v: v.lower() in LOG_LEVELS, RULE_LOG_LEVEL)
        return None if value is None else value.lower()

    def log_format(self, name: str) -> LogFormat:
        options = {option.value for option in LogFormat}
        value = self.checked(name, lambda v: v.lower() in options, RULE_LOG_FORMAT)
        return LogFormat.TEXT if value is None else LogFormat(value.lower())

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        def in_range(value: str) -> bool:
            if _WHOLE_NUMBER.fullmatch(value) is None or len(value.lstrip("0")) > len(str(high)):
                return False  # also keeps int() from refusing a number of thousands of digits
            return low <= int(value) <= high

        value = self.checked(name, in_range, f"must be a whole number from {low} to {high}")
        return default if value is None else int(value)

    def boolean(self, name: str, default: bool) -> bool:
        value = self.checked(name, lambda v: v.lower() in TRUE_WORDS | FALSE_WORDS, RULE_BOOLEAN)
        return default if value is None else value.lower() in TRUE_WORDS

    def clock_time(self, name: str, default: time) -> time:
        value = self.checked(name, lambda v: _CLOCK_TIME.fullmatch(v) is not None, RULE_CHECK_TIME)
        if value is None:
            return default
        hours, minutes = value.split(":")
        return time(int(hours), int(minutes))

    def timezone(self, name: str, default: str) -> str:
        return self.checked(name, _is_timezone, RULE_TIMEZONE) or default

    def percent(self, name: str, default: float) -> float:
        def in_range(value: str) -> bool:
            return _DECIMAL.fullmatch(value) is not None and float(value) <= 100

        value = self.checked(name, in_range, RULE_PERCENT)
        return default if value is None else float(value)

    def seconds(self, name: str, default: float) -> float:
        rule = f"must be a number of seconds above 0 and at most {MAX_TIMEOUT_SECONDS:g}"
        value = self.checked(name, _is_timeout, rule)
        return default if value is None else float(value)


def is_safe_url(value: str) -> bool:
    """https anywhere, plain http only for a local test double; never embedded credentials."""
    try:
        parts = urlsplit(value)
        host = parts.hostname
        has_credentials = parts.username is not None or parts.password is not None
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError:
        return False
    if not host or has_credentials:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and host in LOCAL_HOSTS)


def _is_text(value: str) -> bool:
    """False for undecodable bytes, which Python keeps in ``os.environ`` as surrogates."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_database_url(value: str) -> bool:
    try:
        make_url(value)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        return False
    return True


def _is_sqlite(database_url: str) -> bool:
    try:
        return make_url(database_url).get_backend_name() == "sqlite"
    except (ArgumentError, ValueError):
        return False


def _is_timezone(value: str) -> bool:
    """A name zoneinfo knows; paths and other oddities raise rather than return False."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _is_timeout(value: str) -> bool:
    if _DECIMAL.fullmatch(value) is None:
        return False
    seconds = float(value)
    return math.isfinite(seconds) and 0 < seconds <= MAX_TIMEOUT_SECONDS


def _hide_password(database_url: str) -> str:
    """Database URLs may carry a password; show them with it masked."""
    try:
        return make_url(database_url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "<unparseable database URL>"
