"""``/entra sync <person>`` through the real Bolt app on the sandbox."""

from __future__ import annotations

import json

from bot.blocks import limit_problems
from bot.blocks.message import MAX_MESSAGE_BLOCKS
from bot.ids import Action
from core.sandbox import Fault
from core.store import PreviewStatus, RunKind
from tests.bot.scenario import ALICE, BOB, CAROL, Bot


def _job_title(bot: Bot, user_id: str) -> str | None:
    for e in bot.sandbox.employees():
        if e["attributes"].get("Entra User ID") == user_id:
            title: str | None = e["attributes"].get("Job Title")
            return title
    raise AssertionError("no Employee")


def _changed(bot: Bot) -> tuple[str, str]:
    """After a whole sync, one person's job title changes in Entra: (user id, email)."""
    assert bot.service.sync(BOB).applied is not None
    user_id = bot.sandbox.org.notes["alias_only_users"][1]
    bot.sandbox.set_job_title(user_id, "Chief Tester")
    other = bot.sandbox.org.notes["alias_only_users"][0]
    bot.sandbox.set_job_title(other, "Someone Else's Change")
    return user_id, bot.sandbox.directory_users[user_id].mail or ""


def test_an_approver_applies_one_person_at_once(bot: Bot) -> None:
    user_id, email = _changed(bot)
    bot.sandbox.reset_counts()
    response = bot.command(f"sync {email}", user=BOB)
    assert response.status == 200 and "Syncing" in response.body
    assert _job_title(bot, user_id) == "Chief Tester"
    other = bot.sandbox.org.notes["alias_only_users"][0]
    assert _job_title(bot, other) != "Someone Else's Change"
    reply = bot.fake.calls("response_url")[-1].params
    blocks = reply["blocks"]
    assert limit_problems(blocks, max_blocks=MAX_MESSAGE_BLOCKS) == []
    shown = json.dumps(blocks)
    assert "1 applied, 0 failed" in shown and "Chief Tester" in shown
    # A running bot has its workspace and (after the whole sync) its Graph token already.
    assert sum(bot.sandbox.requests.values()) <= 10 + 1  # the reads, and the one write


def test_anyone_else_gets_a_one_person_preview_an_approver_applies(bot: Bot) -> None:
    user_id, email = _changed(bot)
    bot.command(f"sync {email}", user=ALICE)
    assert _job_title(bot, user_id) != "Chief Tester"
    message = bot.posted_previews()[-1]
    assert "Chief Tester" in json.dumps(message["blocks"])
    assert "one person's changes" in json.dumps(message["blocks"])
    (pending,) = bot.service.pending_previews()
    assert pending.person is not None and user_id in pending.person.entra_user_ids
    assert pending.plan.write_count == 1
    bot.click(Action.APPROVE, str(pending.id), BOB, pending.message_ts or "")
    assert _job_title(bot, user_id) == "Chief Tester"
    other = bot.sandbox.org.notes["alias_only_users"][0]
    assert _job_title(bot, other) != "Someone Else's Change"  # only that person's share
    view = bot.service.preview_view(pending.id)
    assert view is not None and view.status is PreviewStatus.APPLIED


def test_a_one_person_preview_does_not_supersede_a_whole_one(bot: Bot) -> None:
    _, email = _changed(bot)
    bot.command("preview", user=ALICE)
    bot.command(f"sync {email}", user=ALICE)
    assert len(bot.service.pending_previews()) == 2


def test_a_name_is_refused_with_the_rule(bot: Bot) -> None:
    bot.sandbox.reset_counts()
    bot.command("sync Nora Newhire", user=BOB)
    assert "email or an Atlassian account id" in json.dumps(
        bot.fake.calls("response_url")[-1].params
    )
    assert sum(bot.sandbox.requests.values()) == 0


def test_while_another_run_holds_the_lease_both_are_told(bot: Bot) -> None:
    _, email = _changed(bot)
    held = bot.service.lease.acquire(CAROL, RunKind.MANUAL)
    try:
        bot.command(f"sync {email}", user=BOB)
        bot.command(f"sync {email}", user=ALICE)
    finally:
        held.release()
    replies = [json.dumps(c.params) for c in bot.fake.calls("response_url")[-2:]]
    assert all("already running" in r for r in replies), replies
    assert bot.posted_previews() == []


def test_a_failed_read_is_said_privately(bot: Bot) -> None:
    _, email = _changed(bot)
    bot.sandbox.add_fault(Fault(service="graph", status=500, times=50))
    bot.command(f"sync {email}", user=BOB)
    bot.command(f"sync {email}", user=ALICE)
    bot.command(f"explain {email}", user=ALICE)
    replies = [json.dumps(c.params) for c in bot.fake.calls("response_url")[-3:]]
    assert "The sync of" in replies[0] and "failed" in replies[0]
    assert "The preview of" in replies[1] and "failed" in replies[1]
    assert "The explanation failed" in replies[2]
    assert bot.posted_previews() == []
