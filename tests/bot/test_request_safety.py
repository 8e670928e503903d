"""What a Slack request can and cannot do to the bot: its body never reaches the log.

Everything goes through the real app, over real HTTP via :mod:`bot.server`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from urllib.parse import quote_plus

import httpx
import pytest

from bot.ids import SetupBlock, SetupInput, View
from bot.server import SlackHttpServer
from tests.bot.harness import signed_headers, view_submission_body
from tests.bot.scenario import ADMIN, BOB, Bot

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
