"""Help, the setup modal, reading it back, its errors and the connection check reply."""

from __future__ import annotations

from typing import Any

import pytest

from bot.blocks import (
    connection_check_message,
    help_message,
    loading_modal,
    parse_setup,
    setup_errors,
    setup_modal,
    view_problems,
)
from bot.blocks.setup import SetupForm
from bot.ids import COMMAND, SetupBlock, SetupInput, View
from core.config import RULE_NOT_EMPTY, TeamSettings
from core.config.validation import RULE_CADENCE, RULE_GUID
from core.errors import FieldProblem
from core.runs import SKIPPED, ConnectionCheck
from core.runs.connection_check import CheckStep
from tests.bot.test_blocks_support import (
    APPROVER,
    assert_message_fits,
    assert_no_pings,
    connection,
    texts,
    walk,
)

TEAM = TeamSettings("C0REPORTS", (APPROVER, "U0SECOND"))


def _input(view: dict[str, Any], block: SetupBlock) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b.get("block_id") == block.value)


def test_help_lists_every_subcommand_with_an_example() -> None:
    """help, setup, schema, preview, sync and status each come with a command to copy."""
    msg = help_message()
    joined = "\n".join(texts(msg.blocks))
    for name in ("help", "setup", "schema", "preview", "sync", "status"):
        assert f"*{name}*" in joined
        assert f"`{COMMAND} {name}`" in joined
    assert_message_fits(msg)


def test_setup_modal_fits_and_uses_the_shared_ids() -> None:
    """Callback id, block ids and action ids all come from bot.ids; limits hold."""
    view = setup_modal(connection(), TEAM)
    assert view["type"] == "modal"
    assert view["callback_id"] == View.SETUP.value
    assert view_problems(view) == []
    inputs = {b["block_id"]: b["element"]["action_id"] for b in view["blocks"] if "element" in b}
    assert inputs == {block.value: SetupInput[block.name].value for block in SetupBlock}


def test_setup_modal_prefills_everything_but_the_secret() -> None:
    """Tenant, client, cadence, channel and approvers are prefilled; the secret never is."""
    view = setup_modal(connection(has_secret=True), TEAM)
    assert _input(view, SetupBlock.TENANT_ID)["element"]["initial_value"] == (
        "11111111-2222-3333-4444-555555555555"
    )
    assert _input(view, SetupBlock.CLIENT_ID)["element"]["initial_value"] == (
        "66666666-7777-8888-9999-000000000000"
    )
    cadence = _input(view, SetupBlock.CADENCE_DAYS)["element"]
    assert cadence["type"] == "number_input"
    assert cadence["is_decimal_allowed"] is False
    assert (cadence["min_value"], cadence["max_value"], cadence["initial_value"]) == (
        "1",
        "100",
        "7",
    )
    channel = _input(view, SetupBlock.REPORT_CHANNEL)["element"]
    assert channel["initial_conversation"] == "C0REPORTS"
    users = _input(view, SetupBlock.APPROVERS)["element"]
    assert users["type"] == "multi_users_select"
    assert users["initial_users"] == [APPROVER, "U0SECOND"]
    secret = _input(view, SetupBlock.CLIENT_SECRET)
    assert secret["optional"] is True
    assert "leave blank to keep the stored secret" in secret["hint"]["text"].lower()
    assert all("initial_value" not in d for d in walk(secret))


@pytest.mark.parametrize("stored", [None, False])
def test_secret_is_required_when_none_is_stored(stored: bool | None) -> None:
    """Without a stored secret the field is required and has no initial value."""
    conn = None if stored is None else connection(has_secret=stored)
    view = setup_modal(conn, TeamSettings())
    secret = _input(view, SetupBlock.CLIENT_SECRET)
    assert secret["optional"] is False
    assert all("initial_value" not in d for d in walk(secret))
    assert "initial_users" not in _input(view, SetupBlock.APPROVERS)["element"]
    assert "initial_conversation" not in _input(view, SetupBlock.REPORT_CHANNEL)["element"]
    assert view_problems(view) == []


def test_loading_modal_fits() -> None:
    """The placeholder modal opens within limits and has no inputs to submit."""
    view = loading_modal()
    assert view["type"] == "modal"
    assert view_problems(view) == []


def _state(**overrides: Any) -> dict[str, Any]:
    """A realistic ``view_submission`` state, as Slack sends it."""
    values: dict[str, Any] = {
        "tenant_id": {"tenant_id_input": {"type": "plain_text_input", "value": " 1111-AA "}},
        "client_id": {"client_id_input": {"type": "plain_text_input", "value": "2222"}},
        "client_secret": {"client_secret_input": {"type": "plain_text_input", "value": "s3cr3t"}},
        "cadence_days": {"cadence_days_input": {"type": "number_input", "value": "14"}},
        "report_channel": {
            "report_channel_input": {
                "type": "conversations_select",
                "selected_conversation": "C0REPORTS",
            }
        },
        "approvers": {
            "approvers_input": {
                "type": "multi_users_select",
                "selected_users": [APPROVER, "U0SECOND", APPROVER],
            }
        },
    }
    values.update(overrides)
    return {"type": "modal", "callback_id": View.SETUP.value, "state": {"values": values}}


def test_parse_setup_reads_a_realistic_view_state() -> None:
    """Every field round-trips; whitespace is trimmed and duplicate approvers dropped."""
    form = parse_setup(_state())
    assert form == SetupForm(
        tenant_id="1111-AA",
        client_id="2222",
        client_secret="s3cr3t",
        cadence_days="14",
        report_channel="C0REPORTS",
        approvers=(APPROVER, "U0SECOND"),
    )
    assert "s3cr3t" not in repr(form)


def test_parse_setup_blank_secret_and_cleared_selects() -> None:
    """A blank secret means "keep"; cleared selects read as None and ()."""
    form = parse_setup(
        _state(
            client_secret={"client_secret_input": {"type": "plain_text_input", "value": None}},
            report_channel={
                "report_channel_input": {
                    "type": "conversations_select",
                    "selected_conversation": None,
                }
            },
            approvers={"approvers_input": {"type": "multi_users_select", "selected_users": []}},
        )
    )
    assert form.client_secret is None
    assert form.report_channel is None
    assert form.approvers == ()


def test_parse_setup_reads_channels_select_too() -> None:
    """A channels_select answers with selected_channel; that works as well."""
    state = _state(
        report_channel={
            "report_channel_input": {"type": "channels_select", "selected_channel": "C0OTHER"}
        }
    )
    assert parse_setup(state).report_channel == "C0OTHER"


def test_parse_setup_of_an_empty_view_does_not_raise() -> None:
    """Missing blocks read as empty strings; validation, not parsing, complains."""
    form = parse_setup({})
    assert form.tenant_id == form.client_id == form.cadence_days == ""
    assert form.client_secret is None


def test_parse_setup_reads_what_setup_modal_builds() -> None:
    """Each input's block id and action id pair is one parse_setup reads."""
    view = setup_modal(connection(), TEAM)
    values = {
        b["block_id"]: {b["element"]["action_id"]: {"value": f"v-{b['block_id']}"}}
        for b in view["blocks"]
        if b["type"] == "input"
    }
    form = parse_setup({"state": {"values": values}})
    assert form.tenant_id == "v-tenant_id"
    assert form.client_id == "v-client_id"
    assert form.client_secret == "v-client_secret"
    assert form.cadence_days == "v-cadence_days"


def test_setup_errors_map_fields_to_block_ids() -> None:
    """Core's field names become the modal's block ids, with the rule as a sentence."""
    errors = setup_errors(
        [
            FieldProblem("tenant_id", RULE_GUID),
            FieldProblem("client_id", RULE_GUID),
            FieldProblem("client_secret", RULE_NOT_EMPTY),
            FieldProblem("cadence_days", RULE_CADENCE),
        ]
    )
    assert errors == {
        SetupBlock.TENANT_ID.value: "Must be a GUID like 00000000-0000-0000-0000-000000000000",
        SetupBlock.CLIENT_ID.value: "Must be a GUID like 00000000-0000-0000-0000-000000000000",
        SetupBlock.CLIENT_SECRET.value: "Must not be empty",
        SetupBlock.CADENCE_DAYS.value: "Must be a whole number from 1 to 100",
    }


def test_setup_errors_keep_unknown_fields_and_stay_short() -> None:
    """An unknown field lands on the first input; every message fits 150 characters."""
    errors = setup_errors(
        [FieldProblem("atlassian_site", "x" * 400), FieldProblem("tenant_id", RULE_GUID)]
    )
    assert list(errors) == [SetupBlock.TENANT_ID.value]
    assert errors[SetupBlock.TENANT_ID.value].startswith("Atlassian_site: xxx")
    assert len(errors[SetupBlock.TENANT_ID.value]) <= 150


def test_connection_check_message_success() -> None:
    """A working connection says so and lists each step."""
    check = ConnectionCheck(
        True,
        (
            CheckStep("Microsoft sign-in", True, "Signed in."),
            CheckStep("Microsoft Graph", True, "Graph lets the app read users."),
        ),
    )
    msg = connection_check_message(check, tenant_id="11111111-2222-3333-4444-555555555555")
    assert msg.text.startswith("Every connection works")
    joined = "\n".join(texts(msg.blocks))
    assert ":white_check_mark: *Microsoft Graph*" in joined
    assert_message_fits(msg)


def test_connection_check_message_failure_escapes_and_marks_skipped() -> None:
    """Failures are escaped, skipped steps marked as such, and the text says what to do."""
    check = ConnectionCheck(
        False,
        (
            CheckStep("Microsoft sign-in", False, "AADSTS7000215 <!channel> bad secret"),
            CheckStep("Microsoft Graph", False, SKIPPED),
        ),
    )
    msg = connection_check_message(check, tenant_id="<!here>")
    joined = "\n".join(texts(msg.blocks))
    assert ":x: *Microsoft sign-in*: AADSTS7000215 &lt;!channel&gt; bad secret" in joined
    assert ":heavy_minus_sign: *Microsoft Graph*: skipped" in joined
    assert "Not every connection works yet" in msg.text
    assert "&lt;!here&gt;" in msg.text
    assert_no_pings(msg.blocks, msg.text)
