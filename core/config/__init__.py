"""What the operator configures: process settings, cloud endpoints, and validated input.

Pure values and validation with no I/O beyond reading the environment: the Entra
connection form, the team settings (approvers, report channel) and every rule that
names a bad field.
"""

from core.config.settings import (
    ENV_ATLASSIAN_API_TOKEN,
    ENV_ATLASSIAN_EMAIL,
    ENV_ATLASSIAN_ORG_API_KEY,
    ENV_ATLASSIAN_ORG_ID,
    ENV_ATLASSIAN_SITE,
    ENV_ATLASSIAN_TOKEN_KIND,
    ENV_DATABASE_URL,
    ENV_IN_CONTAINER,
    ENV_LOG_FORMAT,
    ENV_LOG_LEVEL,
    ENV_SECRET_KEY,
    RULE_KEY_IN_CONTAINER,
    RULE_KEY_SHARED_DATABASE,
    RULE_REQUIRED,
    RULE_URL,
    LogFormat,
    PreviewRequesters,
    Settings,
    TokenKind,
    is_safe_url,
    load_settings,
)
from core.config.team import TeamSettings, normalise_team_settings
from core.config.validation import (
    MAX_CADENCE_DAYS,
    MIN_CADENCE_DAYS,
    RULE_NOT_EMPTY,
    EntraInput,
    validate_entra_input,
)

__all__ = [
    "ENV_ATLASSIAN_API_TOKEN",
    "ENV_ATLASSIAN_EMAIL",
    "ENV_ATLASSIAN_ORG_API_KEY",
    "ENV_ATLASSIAN_ORG_ID",
    "ENV_ATLASSIAN_SITE",
    "ENV_ATLASSIAN_TOKEN_KIND",
    "ENV_DATABASE_URL",
    "ENV_IN_CONTAINER",
    "ENV_LOG_FORMAT",
    "ENV_LOG_LEVEL",
    "ENV_SECRET_KEY",
    "MAX_CADENCE_DAYS",
    "MIN_CADENCE_DAYS",
    "RULE_KEY_IN_CONTAINER",
    "RULE_KEY_SHARED_DATABASE",
    "RULE_NOT_EMPTY",
    "RULE_REQUIRED",
    "RULE_URL",
    "EntraInput",
    "LogFormat",
    "PreviewRequesters",
    "Settings",
    "TeamSettings",
    "TokenKind",
    "is_safe_url",
    "load_settings",
    "normalise_team_settings",
    "validate_entra_input",
]
