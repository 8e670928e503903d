"""Who may ask for a preview in Slack, and a routine preview next to a held plan.

The ``team`` fixture runs with the default ``ENTRA_SYNC_PREVIEW_REQUESTERS``
(approvers and admins); the shared ``bot`` fixture lets everyone ask.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.ids import Action
from core.config import TeamSettings
from core.store import PreviewStatus
from core.sync import Attr
from tests.bot.scenario import ADMIN, ALICE, BOB, CAROL, Bot, action_ids, running_bot
from tests.bot.slack_fake import FakeSlack

LIVE = {Action.APPROVE.value, Action.REJECT.value}
REFUSAL = "Only approvers (<@U0BOB>, <@U0CAROL>) and admins can ask for a preview; ask one of them."


@pytest.fixture
def team(tmp_path: Path, fake_slack: FakeSlack) -> Iterator[Bot]:
    """The real app with the default rule: approvers (Bob, Carol) and admins ask."""
    with running_bot(tmp_path, fake_slack) as running:
        yield running


def previews_asked(bot: Bot) -> int:
    return sum(1 for run in bot.service.history(50) if run.kind == "preview")


# -- who may ask for a preview ---------------------------------------------------------


def test_a_member_is_told_privately_who_can_ask_for_a_preview(team: Bot) -> None:
    """Default rule: Alice (no approver, no admin) gets one private line; nothing runs."""
    response = team.command("preview", user=ALICE)
    assert response.status == 200
    assert response.body == REFUSAL
    assert "\n" not in response.body
    assert previews_asked(team) == 0
    assert team.fake.calls("chat.postMessage") == []


def test_a_member_asking_for_a_sync_is_refused_the_same_way(team: Bot) -> None:
    """``/entra sync`` from a member used to post a preview instead; by default it is refused."""
    assert team.command("sync", user=ALICE).body == REFUSAL
    assert previews_asked(team) == 0
    assert team.writes() == []


def test_a_member_clicking_generate_preview_is_refused_privately(team: Bot) -> None:
    """The button on a stale preview or the App Home follows the same rule."""
    team.click(Action.NEW_PREVIEW, "new", ALICE)
    assert team.replies() == [REFUSAL]
    assert previews_asked(team) == 0


@pytest.mark.parametrize("user", [BOB, ADMIN], ids=["approver", "admin"])
def test_approvers_and_admins_may_ask_for_a_preview(team: Bot, user: str) -> None:
    """Bob is an approver; the admin is named in ENTRA_SYNC_ADMIN_USER_IDS."""
    assert "Generating preview" in team.command("preview", user=user).body
    assert previews_asked(team) == 1
    assert len(team.posted_previews()) == 1


def test_a_workspace_admin_may_ask_for_a_preview(team: Bot) -> None:
    """Slack workspace owners count as admins (asked of Slack, users.info)."""
    team.fake.set_user("U0OWNER", is_owner=True)
    team.command("preview", user="U0OWNER")
    assert previews_asked(team) == 1


def test_without_approvers_the_refusal_says_admins_only(team: Bot) -> None:
    """Before approvers are named, only admins can ask, and the line says how to fix it."""
    team.service.save_team_settings(TeamSettings(None, ()), ADMIN)
    response = team.command("preview", user=ALICE)
    assert response.body == (
        "Only admins can ask for a preview until approvers are named with /entra setup."
    )


def test_everyone_may_ask_when_the_setting_says_so(bot: Bot) -> None:
    """ENTRA_SYNC_PREVIEW_REQUESTERS=everyone: Alice's preview is posted for approvers."""
    assert "Generating preview" in bot.command("preview", user=ALICE).body
    assert "posting a preview for an approver" in bot.command("sync", user=ALICE).body
    assert previews_asked(bot) == 2


# -- a routine preview never takes a held plan away ------------------------------------


def held_plan(bot: Bot) -> tuple[int, str]:
    """Bob syncs once, 30 people leave, Bob syncs again: the guard rails hold the plan."""
    bot.command("sync", user=BOB)
    for employee in bot.sandbox.employees()[:30]:
        bot.sandbox.deactivate_account(employee["attributes"][Attr.ATLASSIAN_ACCOUNT_ID.value])
    bot.clock.advance(days=1)
    bot.fake.reset()
    bot.command("sync", user=BOB)
    (held,) = bot.service.pending_previews()
    assert held.held
    assert held.message_ts is not None
    return held.id, held.message_ts


def updates_of(bot: Bot, ts: str) -> list[dict[str, Any]]:
    return [c.params for c in bot.fake.calls("chat.update") if c.params["ts"] == ts]


def test_a_preview_leaves_the_held_plan_and_its_buttons_alone(team: Bot) -> None:
    """Carol asks for a preview while Bob's held plan waits: both stay decidable."""
    held_id, held_ts = held_plan(team)
    shown = updates_of(team, held_ts)
    assert shown and action_ids(shown[-1]["blocks"]) >= LIVE
    team.command("preview", user=CAROL)
    assert updates_of(team, held_ts) == shown  # the held message was not touched
    pending = team.service.pending_previews()
    assert [p.held for p in pending] == [False, True]
    assert pending[1].id == held_id
    team.click(Action.APPROVE, str(held_id), CAROL, held_ts)
    view = team.service.preview_view(held_id)
    assert view is not None and view.status is PreviewStatus.APPLIED


def test_a_newer_held_plan_closes_the_older_held_message(team: Bot) -> None:
    """Two held plans: the newer one (a fresher read) supersedes the older, whose buttons go."""
    older_id, older_ts = held_plan(team)
    team.command("sync", user=CAROL)
    newer = team.service.pending_previews()
    assert [p.held for p in newer] == [True]
    assert newer[0].id != older_id
    older = team.service.preview_view(older_id)
    assert older is not None and older.status is PreviewStatus.SUPERSEDED
    closed = updates_of(team, older_ts)
    assert closed and not LIVE & action_ids(closed[-1]["blocks"])
