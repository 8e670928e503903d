"""``/entra`` subcommands through the real Bolt app, with signed requests."""

from __future__ import annotations

import json
import time

from bot.ids import Action, SetupBlock, SetupInput
from tests.bot.harness import command_body, signed_request
from tests.bot.scenario import ADMIN, ALICE, BOB, CHANNEL, Bot, ack_text, action_ids, text_of


def test_help_lists_every_subcommand_privately(bot: Bot) -> None:
    """Empty input answers with help: every subcommand with an example."""
    response = bot.command("")
    assert response.status == 200
    body = json.loads(response.body)
    help_text = json.dumps(body)
    for word in ("setup", "schema", "preview", "sync", "status"):
        assert f"/entra {word}" in help_text
    assert body.get("response_type", "ephemeral") == "ephemeral"


def test_unknown_subcommand_gets_help(bot: Bot) -> None:
    """An unknown word is answered with the same help, not an error."""
    assert "/entra preview" in ack_text(bot.command("frobnicate"))


def test_forged_signature_is_refused(bot: Bot) -> None:
    """A request signed with another secret gets 401 and runs nothing."""
    body = command_body("preview", response_url=bot.fake.new_response_url())
    response = bot.app.dispatch(signed_request(body, secret="not-the-secret"))
    assert response.status == 401
    bot.worker.drain()
    assert bot.fake.calls("chat.postMessage") == []


def test_replayed_request_is_refused(bot: Bot) -> None:
    """A correctly signed request older than five minutes gets 401."""
    body = command_body("preview", response_url=bot.fake.new_response_url())
    response = bot.app.dispatch(signed_request(body, timestamp=int(time.time()) - 301))
    assert response.status == 401


def test_setup_is_for_admins_only(bot: Bot) -> None:
    """A member gets told who may run setup; no modal opens."""
    response = bot.command("setup", user=ALICE)
    assert response.status == 200
    assert "Only Slack workspace admins" in bot.replies()[-1]
    assert bot.fake.calls("views.open") == []


def test_setup_opens_the_modal_without_the_secret(bot: Bot) -> None:
    """An admin gets the modal at once; the stored secret is never sent back to Slack."""
    assert bot.command("setup", user=ADMIN).status == 200
    view = bot.fake.last("views.open").params["view"]
    assert view["callback_id"] == "entra_setup"
    secret_block = next(b for b in view["blocks"] if b.get("block_id") == SetupBlock.CLIENT_SECRET)
    assert "initial_value" not in secret_block["element"]
    assert "sandbox-client-secret" not in json.dumps(view)


def test_workspace_owner_counts_as_admin(bot: Bot) -> None:
    """Slack workspace owners may run setup even when not listed in the environment."""
    bot.fake.set_user("U0OWNER", is_owner=True)
    bot.command("setup", user="U0OWNER")
    assert len(bot.fake.calls("views.open")) == 1


def _form(**overrides: object) -> dict[str, object]:
    values: dict[SetupBlock, dict[SetupInput, dict[str, object]]] = {
        SetupBlock.TENANT_ID: {
            SetupInput.TENANT_ID: {
                "type": "plain_text_input",
                "value": "0f1c2d3e-4a5b-4c6d-8e9f-a0b1c2d3e4f5",
            }
        },
        SetupBlock.CLIENT_ID: {
            SetupInput.CLIENT_ID: {
                "type": "plain_text_input",
                "value": "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d",
            }
        },
        SetupBlock.CLIENT_SECRET: {
            SetupInput.CLIENT_SECRET: {"type": "plain_text_input", "value": "sandbox-client-secret"}
        },
        SetupBlock.CADENCE_DAYS: {SetupInput.CADENCE_DAYS: {"type": "number_input", "value": "3"}},
        SetupBlock.REPORT_CHANNEL: {
            SetupInput.REPORT_CHANNEL: {
                "type": "conversations_select",
                "selected_conversation": "C0REPORTS",
            }
        },
        SetupBlock.APPROVERS: {
            SetupInput.APPROVERS: {"type": "multi_users_select", "selected_users": [BOB]}
        },
    }
    for block, value in overrides.items():
        element = next(iter(values[SetupBlock(block)].values()))
        element["value"] = value
    return {str(k): {str(a): e for a, e in v.items()} for k, v in values.items()}


def test_setup_errors_come_back_on_their_blocks(bot: Bot) -> None:
    """Bad tenant, client and cadence are each named on their own block; nothing is stored."""
    before = bot.service.store.connection()
    response = bot.submit(
        "entra_setup", _form(tenant_id="nope", client_id="x", cadence_days="0"), user=ADMIN
    )
    body = json.loads(response.body)
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {"tenant_id", "client_id", "cadence_days"}
    assert bot.service.store.connection() == before
    assert bot.service.team_settings().report_channel == CHANNEL


def test_valid_setup_is_saved_and_tested_privately(bot: Bot) -> None:
    """A valid form is stored and the connection test result arrives in the admin's DM."""
    response = bot.submit("entra_setup", _form(), user=ADMIN)
    assert response.status == 200
    connection = bot.service.store.connection()
    assert connection is not None
    assert connection.cadence_days == 3
    assert bot.service.team_settings().approvers == (BOB,)
    dm = bot.fake.wait_for("chat.postMessage")[-1].params
    assert dm["channel"] == ADMIN
    text = text_of(dm)
    assert "sandbox-client-secret" not in text
    assert "Every connection works" in text  # Microsoft, Jira and Assets were all tried
    for step in ("Microsoft Graph", "Jira users", "Assets workspace", "Assets schemas"):
        assert step in text


def test_setup_with_a_bad_secret_reports_the_fix(bot: Bot) -> None:
    """The background connection test translates Microsoft's refusal into what to fix."""
    bot.submit("entra_setup", _form(client_secret="wrong-secret"), user=ADMIN)
    dm = text_of(bot.fake.wait_for("chat.postMessage")[-1].params)
    assert "Certificates" in dm
    assert "wrong-secret" not in dm


def test_status_shows_the_dashboard_privately(bot: Bot) -> None:
    """Status answers at once with last syncs and history."""
    body = json.loads(bot.command("status").body)
    assert "Last manual sync" in json.dumps(body)


def test_schema_from_slack_is_idempotent(bot: Bot) -> None:
    """/entra schema on a complete schema reports nothing to add and writes nothing."""
    bot.command("schema", user=ADMIN)
    assert "nothing to add" in bot.replies()[-1]
    assert bot.writes() == []


def test_schema_from_slack_names_an_entra_user_id_that_is_not_unique(bot: Bot) -> None:
    bot.sandbox.set_unique("Entra User ID", False)
    bot.command("schema", user=ADMIN)
    reply = bot.replies()[-1]
    assert "nothing to add" in reply
    assert "Note: Entra User ID is not unique" in reply
    assert bot.writes() == []


def test_preview_posts_summary_buttons_and_csv(bot: Bot) -> None:
    """Preview acks at once, then posts counts, Approve/Reject and the CSV in the thread."""
    assert ack_text(bot.command("preview")) == "Generating preview..."
    (message,) = bot.posted_previews()
    assert message["channel"] == CHANNEL
    assert {Action.APPROVE.value, Action.REJECT.value} <= action_ids(message["blocks"])
    assert len(message["blocks"]) <= 50
    complete = bot.fake.last("files.completeUploadExternal").params
    assert complete["channel_id"] == CHANNEL
    assert complete.get("thread_ts")
    (csv_bytes,) = bot.fake.uploads.values()
    assert csv_bytes.decode().count("\ncreate,") > 38
    assert bot.writes() == []


def test_display_names_cannot_ping_anyone(bot: Bot) -> None:
    """A directory name like <!channel> is escaped in the preview message."""
    bot.sandbox.hire("<!channel> Mallory", "Engineering", "Intern", None)
    bot.command("preview")
    (message,) = bot.posted_previews()
    rendered = json.dumps(message["blocks"]) + message["text"]
    assert "<!channel>" not in rendered


def test_sync_from_an_approver_runs_now_with_progress(bot: Bot) -> None:
    """An approver's /entra sync posts one message, updates it, and ends with the report."""
    bot.command("sync", user=BOB)
    posted = bot.fake.calls("chat.postMessage")
    assert len(posted) == 1
    updates = bot.fake.calls("chat.update")
    assert updates
    assert all(u.params["ts"] == updates[0].params["ts"] for u in updates)
    assert len(bot.sandbox.employees()) == 38


def test_sync_from_a_member_posts_a_preview_instead(bot: Bot) -> None:
    """A non-approver's /entra sync is turned into a preview for approval, and says so."""
    assert "not an approver" in ack_text(bot.command("sync", user=ALICE))
    assert len(bot.posted_previews()) == 1
    assert bot.writes() == []


def test_an_approvers_mass_inactivation_waits_for_a_second_approver(bot: Bot) -> None:
    """/entra sync that would retire 30 people is held; Bob cannot self-approve; Carol can."""
    bot.command("sync", user=BOB)
    active = [
        e["attributes"]["Atlassian Account ID"]
        for e in bot.sandbox.employees()
        if e["attributes"].get("Active") == "true"
    ]
    for account_id in active[:30]:
        bot.sandbox.deactivate_account(account_id)
    bot.sandbox.request_log.clear()
    bot.command("sync", user=BOB)
    assert bot.writes() == []
    (held,) = bot.service.pending_previews()
    assert held.message_ts
    shown = bot.fake.calls("chat.update")[-1].params
    assert shown["ts"] == held.message_ts
    assert {Action.APPROVE.value, Action.REJECT.value} <= action_ids(shown["blocks"])
    bot.click(Action.APPROVE, str(held.id), BOB, held.message_ts)
    assert bot.writes() == []
    bot.click(Action.APPROVE, str(held.id), "U0CAROL", held.message_ts)
    still_active = [e for e in bot.sandbox.employees() if e["attributes"].get("Active") == "true"]
    assert len(still_active) == len(active) - 30
