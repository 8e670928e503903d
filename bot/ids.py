"""Every Slack ``action_id``, ``callback_id`` and ``block_id`` the app uses, in one place.

Listeners match on these and block builders emit them; a typo becomes an import error.
"""

from __future__ import annotations

from enum import StrEnum

COMMAND = "/entra"


class Action(StrEnum):
    APPROVE = "entra_preview_approve"  # value: preview id
    REJECT = "entra_preview_reject"  # value: preview id
    NEW_PREVIEW = "entra_new_preview"  # offered on stale / expired previews and App Home
    RUN_SYNC = "entra_run_sync"  # App Home: Run Manual Sync
    CREATE_SCHEMA = "entra_create_schema"  # App Home: Create Schema
    OPEN_SETTINGS = "entra_open_settings"  # App Home: Settings
    OPEN_EXPLAIN = "entra_open_explain"  # App Home: Explain a Person


class View(StrEnum):
    SETUP = "entra_setup"  # callback_id of the setup modal
    EXPLAIN = "entra_explain"  # callback_id of the Explain a Person modal


EXPLAIN_BLOCK = "person"  # block_id of the modal's one input; its errors are keyed by it
EXPLAIN_INPUT = "person_input"  # action_id of that input


class SetupBlock(StrEnum):
    """block_id of each input in the setup modal; validation errors are keyed by these."""

    TENANT_ID = "tenant_id"
    CLIENT_ID = "client_id"
    CLIENT_SECRET = "client_secret"  # noqa: S105 - a block id, not a secret
    CADENCE_DAYS = "cadence_days"
    REPORT_CHANNEL = "report_channel"
    APPROVERS = "approvers"


class SetupInput(StrEnum):
    """action_id of the element inside each setup block."""

    TENANT_ID = "tenant_id_input"
    CLIENT_ID = "client_id_input"
    CLIENT_SECRET = "client_secret_input"  # noqa: S105 - an action id, not a secret
    CADENCE_DAYS = "cadence_days_input"
    REPORT_CHANNEL = "report_channel_input"
    APPROVERS = "approvers_input"
