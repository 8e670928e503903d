"""What a Slack request can and cannot do to the bot: its body never reaches the log,
and the same request delivered twice (a Slack retry, a replay) runs once.

Everything goes through the real app: over real HTTP via :mod:`bot.server` for the
log checks, and through ``app.dispatch`` with signed bodies for the repeats.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from urllib.parse import quote_plus

import httpx
import pytest

from bot.ids import Action, SetupBlock, SetupInput, View
from bot.server import SlackHttpServer
from tests.bot.harness import (
    action_body,
    command_body,
    new_trigger_id,
    signed_headers,
    signed_request,
    view_submission_body,
)
from tests.bot.scenario import ADMIN, ALICE, BOB, CHANNEL, Bot

# Only letters, digits and dashes, so it reads the same in the form-encoded body.
SECRET = "Leak-Canary-2f9c1d7e-client-secret-value"


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every record at every level, from every logger that exists (Bolt's included).

    Bolt copies the root level into its loggers when the app is built, so each
    existing logger is set to DEBUG too; ``caplog`` puts them all back afterwards.
    """
    caplog.set_level(logging.DEBUG)
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger):
            caplog.set_level(logging.DEBUG, logger=name)
    return caplog


@pytest.fixture
def served(bot: Bot) -> Iterator[SlackHttpServer]:
    with SlackHttpServer(bot.app, host="127.0.0.1", port=0) as server:
        yield server


def setup_values(secret: str) -> dict[str, object]:
    def text(value: str) -> dict[str, str]:
        return {"type": "plain_text_input", "value": value}

    return {
        SetupBlock.TENANT_ID: {SetupInput.TENANT_ID: text("0f1c2d3e-4a5b-4c6d-8e9f-a0b1c2d3e4f5")},
        SetupBlock.CLIENT_ID: {SetupInput.CLIENT_ID: text("7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d")},
        SetupBlock.CLIENT_SECRET: {SetupInput.CLIENT_SECRET: text(secret)},
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


def assert_secret_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    assert caplog.records, "nothing was logged at all: the capture is not working"
    for record in caplog.records:
        shown = record.getMessage() + (record.exc_text or "")
        assert SECRET not in shown, f"{record.name} logged the secret"
        assert quote_plus(SECRET) not in shown
    assert SECRET not in caplog.text


def refused_headers(body: str, case: str) -> dict[str, str]:
    if case == "stale":
        return signed_headers(body, timestamp=int(time.time()) - 6 * 60)
    if case == "forged":
        return signed_headers(body, secret="a-guessed-signing-secret")
    headers = signed_headers(body)
    del headers["x-slack-signature"]
    return headers


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("stale", "stale timestamp"),
        ("forged", "the signature does not match"),
        ("unsigned", "no signature or timestamp header"),
    ],
)
def test_a_refused_setup_submission_never_logs_the_secret(
    bot: Bot,
    served: SlackHttpServer,
    debug_logs: pytest.LogCaptureFixture,
    case: str,
    reason: str,
) -> None:
    """The setup form with a secret and a bad signature: 401, one line with the reason only."""
    body = view_submission_body(View.SETUP, setup_values(SECRET), user_id=ADMIN)
    assert SECRET in body
    before = bot.service.connection()
    response = httpx.post(served.events_url, content=body, headers=refused_headers(body, case))
    assert response.status_code == 401
    assert_secret_never_logged(debug_logs)
    (refusal,) = [r for r in debug_logs.records if "Refused a Slack request" in r.getMessage()]
    assert reason in refusal.getMessage()
    assert refusal.levelno == logging.WARNING
    assert bot.service.connection() == before  # nothing was saved


def test_an_accepted_setup_submission_never_logs_the_secret(
    bot: Bot, served: SlackHttpServer, debug_logs: pytest.LogCaptureFixture
) -> None:
    """The same form correctly signed is handled, and the secret is still in no record."""
    body = view_submission_body(View.SETUP, setup_values(SECRET), user_id=ADMIN)
    response = httpx.post(served.events_url, content=body, headers=signed_headers(body))
    assert response.status_code == 200
    bot.listeners.drain()
    bot.worker.drain()
    assert_secret_never_logged(debug_logs)


# -- the same request twice ------------------------------------------------------------


def preview_runs(bot: Bot) -> int:
    return sum(1 for run in bot.service.history(50) if run.kind == "preview")


def test_a_preview_command_delivered_twice_runs_once(bot: Bot) -> None:
    """Two identical ``/entra preview`` bodies (same trigger): one preview, one message."""
    body = command_body("preview", user_id=ALICE, response_url=bot.fake.new_response_url())
    first = bot.dispatch(body)
    second = bot.dispatch(body)
    assert (first.status, second.status) == (200, 200)
    assert "Generating preview" in first.body
    assert second.body == ""  # acked quietly
    assert preview_runs(bot) == 1
    assert len(bot.posted_previews()) == 1
    assert len(bot.service.pending_previews()) == 1


def test_a_slack_retry_of_a_sync_command_does_not_sync_again(bot: Bot) -> None:
    """Slack's retry (X-Slack-Retry-Num) of an approver's ``/entra sync``: one run, one apply."""
    body = command_body("sync", user_id=BOB, response_url=bot.fake.new_response_url())
    bot.dispatch(body)
    creates = len(bot.writes())
    assert creates > 0
    retry = signed_request(body)
    retry.headers["x-slack-retry-num"] = ["1"]
    retry.headers["x-slack-retry-reason"] = ["http_timeout"]
    assert bot.app.dispatch(retry).status == 200
    bot.listeners.drain()
    bot.worker.drain()
    assert len(bot.writes()) == creates
    assert [run.kind for run in bot.service.history(50)] == ["manual"]


def test_a_new_preview_click_replayed_runs_once(bot: Bot) -> None:
    """A Generate Preview click sent twice with its trigger: one preview."""
    trigger = new_trigger_id()
    url = bot.fake.new_response_url()
    body = action_body(
        Action.NEW_PREVIEW,
        "new",
        user_id=ALICE,
        channel_id=CHANNEL,
        response_url=url,
        trigger_id=trigger,
    )
    bot.dispatch(body)
    bot.dispatch(body)
    assert preview_runs(bot) == 1


def test_different_triggers_are_different_requests(bot: Bot) -> None:
    """Two people (or one person twice) asking with their own triggers each get a preview."""
    bot.command("preview", user=ALICE)
    bot.command("preview", user=ALICE)
    assert preview_runs(bot) == 2
