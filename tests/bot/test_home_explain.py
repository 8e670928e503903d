"""The App Home's Explain a Person: button, modal, answer by direct message."""

from __future__ import annotations

import json

from bot.blocks import explain_modal, limit_problems, view_problems
from bot.blocks.message import MAX_MESSAGE_BLOCKS
from bot.ids import EXPLAIN_BLOCK, EXPLAIN_INPUT, Action, View
from tests.bot.scenario import ALICE, BOB, Bot, action_ids


def _typed(text: str) -> dict[str, dict[str, dict[str, str]]]:
    return {EXPLAIN_BLOCK: {EXPLAIN_INPUT: {"type": "plain_text_input", "value": text}}}


def test_the_home_tab_offers_explain_to_everyone(bot: Bot) -> None:
    bot.open_home(ALICE)
    view = bot.fake.last("views.publish").params["view"]
    assert Action.OPEN_EXPLAIN.value in action_ids(view["blocks"])


def test_the_button_opens_the_modal(bot: Bot) -> None:
    bot.click(Action.OPEN_EXPLAIN.value, "home", ALICE)
    view = bot.fake.last("views.open").params["view"]
    assert view["callback_id"] == View.EXPLAIN.value
    assert view_problems(view) == []
    assert view_problems(explain_modal()) == []


def test_submitting_explains_by_direct_message(bot: Bot) -> None:
    assert bot.service.sync(BOB).applied is not None
    account_id = bot.sandbox.org.notes["guest_accounts"][0]
    response = bot.submit(View.EXPLAIN.value, _typed(account_id), ALICE)
    assert response.status == 200
    sent = bot.fake.last("chat.postMessage").params
    assert sent["channel"] == ALICE
    assert limit_problems(sent["blocks"], max_blocks=MAX_MESSAGE_BLOCKS) == []
    assert "guest user" in json.dumps(sent["blocks"])


def test_an_empty_box_is_an_error_on_the_box(bot: Bot) -> None:
    response = bot.submit(View.EXPLAIN.value, _typed("   "), ALICE)
    body = json.loads(response.body)
    assert body["response_action"] == "errors"
    assert "is empty" in body["errors"][EXPLAIN_BLOCK]
    assert len(body["errors"][EXPLAIN_BLOCK]) <= 150
