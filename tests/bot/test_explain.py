"""``/entra explain`` through the real Bolt app: a private reply within Block Kit's limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.blocks import explanation_message, limit_problems
from bot.blocks.message import MAX_MESSAGE_BLOCKS, MAX_SECTION_TEXT
from core.runs import PersonReport
from core.store import PersonWrite, RunKind, RunStatus, RunView
from core.sync import (
    AccountFacts,
    Attr,
    ChangeFacts,
    ChangeKind,
    ChangeOutcome,
    Choice,
    EmployeeFacts,
    Explanation,
    FieldChange,
    ManagerFacts,
    NotFound,
    OutcomeStatus,
    UserFacts,
)
from tests.bot.scenario import BOB, Bot


def _reply(bot: Bot) -> dict[str, object]:
    calls = bot.fake.calls("response_url")
    assert calls, "no private reply"
    return calls[-1].params


def test_explain_answers_privately_with_blocks(bot: Bot) -> None:
    assert bot.service.sync(BOB).applied is not None
    account_id = bot.sandbox.org.notes["alias_only_accounts"][0]
    bot.sandbox.request_log.clear()
    response = bot.command(f"explain {account_id}")
    assert response.status == 200
    reply = _reply(bot)
    assert reply.get("response_type") == "ephemeral"
    blocks = reply["blocks"]
    assert isinstance(blocks, list)
    assert limit_problems(blocks, max_blocks=MAX_MESSAGE_BLOCKS) == []
    shown = json.dumps(blocks)
    name = bot.sandbox.atlassian_accounts[account_id].display_name
    assert f"Explain: {name}" in shown
    assert "smtp alias, in other letter case" in shown
    assert "*Next sync*: nothing" in shown
    assert "run #" in shown  # the create the first sync made
    assert bot.writes() == []  # explaining writes nothing


def test_explain_of_an_ambiguous_email_names_both(bot: Bot) -> None:
    account_id = bot.sandbox.org.notes["ambiguous_account"][0]
    email = bot.sandbox.atlassian_accounts[account_id].email
    bot.command(f"explain {email}")
    shown = json.dumps(_reply(bot)["blocks"])
    for user_id in bot.sandbox.org.notes["ambiguous_users"]:
        assert user_id in shown


def test_explain_without_a_person_says_what_to_give(bot: Bot) -> None:
    response = bot.command("explain")
    assert "is empty" in response.body and "/entra explain" in response.body
    assert bot.fake.calls("response_url") == []


def test_explain_nobody(bot: Bot) -> None:
    bot.command("explain nobody@nowhere.example")
    assert "Nobody matches" in json.dumps(_reply(bot))


def _huge_report() -> PersonReport:
    """Every list far longer, and every value far wider, than any message can hold."""
    wide = "x" * 5000
    changes = tuple(FieldChange(Attr.JOB_TITLE, wide, wide + "y") for _ in range(40))
    answer = Explanation(
        query=wide,
        accounts=tuple(AccountFacts(f"acc-{i}", wide, wide, True, "visible") for i in range(60)),
        users=tuple(UserFacts(f"u-{i}", wide, wide, wide, False, True, (wide,)) for i in range(60)),
        employees=tuple(EmployeeFacts(f"ENTRA-{i}", False, (("Active", wide),)) for i in range(60)),
        managers=tuple(ManagerFacts(f"m-{i}", wide, None, None, wide) for i in range(60)),
        changes=tuple(ChangeFacts("update", wide, "ENTRA-1", changes, wide) for _ in range(60)),
        rules=tuple(wide + str(i) for i in range(200)),
    )
    run = RunView(
        id=1, kind=RunKind.MANUAL, requested_by=wide, started_at=datetime(2026, 1, 1, tzinfo=UTC),
        finished_at=None, status=RunStatus.SUCCEEDED, counts={}, requests={}, error=None,
        fingerprint=None,
    )  # fmt: skip
    outcome = ChangeOutcome(
        ChangeKind.UPDATE, "u-1", wide, OutcomeStatus.FAILED, "ENTRA-1", wide, changes
    )
    history = tuple(PersonWrite(run, outcome) for _ in range(300))
    return PersonReport(answer, history, {"graph": 3}, 1.0)


def test_the_largest_explanation_fits_block_kit() -> None:
    message = explanation_message(_huge_report())
    assert limit_problems(message.blocks, max_blocks=MAX_MESSAGE_BLOCKS) == []
    assert len(message.text) <= MAX_SECTION_TEXT


def test_many_choices_fit_block_kit() -> None:
    choices = tuple(Choice("n" * 500, "a" * 500, "d" * 500) for _ in range(500))
    report = PersonReport(NotFound("x" * 500, choices), (), {}, 0.0)
    message = explanation_message(report)
    assert limit_problems(message.blocks, max_blocks=MAX_MESSAGE_BLOCKS) == []
    assert "500 people match" in message.text
