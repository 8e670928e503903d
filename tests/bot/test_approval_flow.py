"""Approve / Reject on a posted preview: who may click, what gets applied, what the message says."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from bot.housekeeping import sweep
from bot.ids import Action
from bot.publishing import refresh_previews
from core.cli import main
from core.cli.demo import sandbox_environ
from core.store import PreviewStatus, RunKind
from tests.bot.scenario import ALICE, BOB, CAROL, CHANNEL, Bot, action_ids, text_of


def _preview(bot: Bot, user: str = ALICE) -> tuple[str, str]:
    """Post a preview as ``user``; returns (preview id, message ts)."""
    bot.command("preview", user=user)
    message = bot.posted_previews()[-1]
    (pending,) = bot.service.pending_previews()
    assert pending.message_ts
    assert str(pending.id) in str(message["blocks"])
    return str(pending.id), pending.message_ts


def _final_update(bot: Bot) -> dict[str, Any]:
    return bot.fake.calls("chat.update")[-1].params


def _creates(bot: Bot) -> int:
    return sum(
        1 for _, method, path in bot.writes() if method == "POST" and "object/create" in path
    )


def test_approver_applies_exactly_the_previewed_plan(bot: Bot) -> None:
    """Bob approves Alice's preview: Employees are created; the outcome replaces the buttons."""
    preview_id, ts = _preview(bot)
    bot.click(Action.APPROVE, preview_id, BOB, ts)
    assert len(bot.sandbox.employees()) == 38
    final = _final_update(bot)
    assert final["ts"] == ts
    assert not {Action.APPROVE.value, Action.REJECT.value} & action_ids(final["blocks"])
    assert BOB in text_of(final)
    view = bot.service.preview_view(int(preview_id))
    assert view is not None
    assert view.status is PreviewStatus.APPLIED


def test_non_approver_is_told_who_can_approve(bot: Bot) -> None:
    """Alice's click changes nothing; she alone learns who the approvers are."""
    preview_id, ts = _preview(bot, user=BOB)
    bot.click(Action.APPROVE, preview_id, ALICE, ts)
    assert bot.writes() == []
    assert BOB in bot.replies()[-1]
    assert CAROL in bot.replies()[-1]
    assert bot.fake.calls("chat.update") == []


def test_requester_cannot_approve_their_own_preview(bot: Bot) -> None:
    """Bob asked for the preview, so Bob's approval is refused and nothing is written."""
    preview_id, ts = _preview(bot, user=BOB)
    bot.click(Action.APPROVE, preview_id, BOB, ts)
    assert bot.writes() == []
    assert "someone else must approve" in bot.replies()[-1]


def test_double_click_applies_once(bot: Bot) -> None:
    """Two approvers clicking at the same moment produce one apply; the loser is told."""
    preview_id, ts = _preview(bot)
    barrier = threading.Barrier(2)

    def click(user: str) -> None:
        barrier.wait()
        bot.click(Action.APPROVE, preview_id, user, ts)

    threads = [threading.Thread(target=click, args=(u,)) for u in (BOB, CAROL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    bot.worker.drain()
    assert _creates(bot) == 38
    (loser_reply,) = bot.replies()
    assert "being applied" in loser_reply or "already" in loser_reply


def test_second_click_after_apply_changes_nothing(bot: Bot) -> None:
    """A retried click on an applied preview writes nothing more."""
    preview_id, ts = _preview(bot)
    bot.click(Action.APPROVE, preview_id, BOB, ts)
    writes = len(bot.writes())
    bot.click(Action.APPROVE, preview_id, CAROL, ts)
    assert len(bot.writes()) == writes
    assert "already" in bot.replies()[-1]


def test_stale_preview_is_never_applied(bot: Bot) -> None:
    """The directory changed since the preview: nothing is written; a fresh preview is offered."""
    preview_id, ts = _preview(bot)
    view = bot.service.preview_view(int(preview_id))
    assert view is not None
    bot.sandbox.set_job_title(view.plan.creates[0].entra_user_id, "Chief Surprise Officer")
    bot.click(Action.APPROVE, preview_id, BOB, ts)
    assert bot.writes() == []
    final = _final_update(bot)
    assert Action.NEW_PREVIEW.value in action_ids(final["blocks"])
    assert Action.APPROVE.value not in action_ids(final["blocks"])
    after = bot.service.preview_view(int(preview_id))
    assert after is not None
    assert after.status is PreviewStatus.STALE


def test_expired_preview_loses_its_buttons(bot: Bot) -> None:
    """After 24 hours the preview cannot be approved; the message says it expired."""
    preview_id, ts = _preview(bot)
    bot.clock.advance(hours=25)
    bot.click(Action.APPROVE, preview_id, BOB, ts)
    assert bot.writes() == []
    final = _final_update(bot)
    assert "xpired" in text_of(final)
    assert Action.APPROVE.value not in action_ids(final["blocks"])


def test_new_preview_supersedes_the_pending_one(bot: Bot) -> None:
    """A second preview strips the first one's buttons, and the first can no longer apply."""
    first_id, first_ts = _preview(bot)
    _preview(bot)
    superseded = [u.params for u in bot.fake.calls("chat.update") if u.params["ts"] == first_ts]
    assert superseded
    assert Action.APPROVE.value not in action_ids(superseded[-1]["blocks"])
    bot.click(Action.APPROVE, first_id, BOB, first_ts)
    assert bot.writes() == []


def test_rejected_preview_shows_who_rejected(bot: Bot) -> None:
    """Reject closes the preview with the approver's name; a later approve does nothing."""
    preview_id, ts = _preview(bot)
    bot.click(Action.REJECT, preview_id, CAROL, ts)
    final = _final_update(bot)
    assert CAROL in text_of(final)
    assert "eject" in text_of(final)
    bot.click(Action.APPROVE, preview_id, BOB, ts)
    assert bot.writes() == []


def test_busy_sync_is_refused_with_the_holder(bot: Bot) -> None:
    """While a run is going, an approval says who started it and applies nothing."""
    preview_id, ts = _preview(bot)
    held = bot.service.lease.acquire(CAROL, RunKind.MANUAL)
    bot.click(Action.APPROVE, preview_id, BOB, ts)
    held.release()
    assert bot.writes() == []
    assert "already running" in bot.replies()[-1]


def test_decisions_are_audited(bot: Bot) -> None:
    """Denials and approvals both leave an audit record naming the actor."""
    preview_id, ts = _preview(bot)
    bot.click(Action.APPROVE, preview_id, ALICE, ts)
    bot.click(Action.APPROVE, preview_id, BOB, ts)
    actors = {(e.actor, e.action) for e in bot.service.store.audit_events()}
    assert (ALICE, "deny") in actors
    assert (BOB, "approve") in actors


def test_housekeeping_closes_expired_previews_nobody_clicked(bot: Bot) -> None:
    """The background sweep strips the buttons of a preview once it has expired."""
    preview_id, ts = _preview(bot)
    assert refresh_previews(bot.app.client, bot.service, bot.clock()) == 0
    bot.clock.advance(hours=25)
    assert refresh_previews(bot.app.client, bot.service, bot.clock()) == 1
    final = _final_update(bot)
    assert final["ts"] == ts
    assert Action.APPROVE.value not in action_ids(final["blocks"])
    view = bot.service.preview_view(int(preview_id))
    assert view is not None
    assert view.status is PreviewStatus.EXPIRED


def test_slack_refusing_progress_updates_does_not_stop_the_apply(bot: Bot) -> None:
    """The preview message was deleted mid-apply: every change is still written and recorded."""
    preview_id, ts = _preview(bot)
    for _ in range(3):
        bot.fake.fail_next("chat.update", error="message_not_found", status=200)
    bot.click(Action.APPROVE, preview_id, BOB, ts)
    assert len(bot.sandbox.employees()) == 38
    view = bot.service.preview_view(int(preview_id))
    assert view is not None
    assert view.status is PreviewStatus.APPLIED


def test_a_preview_left_applying_by_a_dead_process_shows_failed(bot: Bot) -> None:
    """Once the next run fails it, the sweep replaces "applying" with the failure, no buttons."""
    preview_id, ts = _preview(bot)
    store = bot.service.store
    assert store.transition_preview(
        int(preview_id), [PreviewStatus.PENDING], PreviewStatus.APPROVED, actor=BOB
    )
    assert store.transition_preview(
        int(preview_id), [PreviewStatus.APPROVED], PreviewStatus.APPLYING
    )
    bot.service.preview(CAROL)  # the next run takes the lease and fails the orphan
    assert refresh_previews(bot.app.client, bot.service, bot.clock()) == 1
    final = _final_update(bot)
    assert final["ts"] == ts
    assert "ailed" in text_of(final)
    assert Action.APPROVE.value not in action_ids(final["blocks"])


def test_a_plan_held_at_the_terminal_is_posted_and_a_second_approver_applies_it(
    bot: Bot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`entra-sync sync --yes` holds an empty directory read; the sweep shows it to approvers."""
    assert bot.service.sync(BOB).applied is not None  # the first sync: 38 Employees
    for user_id in list(bot.sandbox.directory_users):
        bot.sandbox.delete_user(user_id)
    for name, value in sandbox_environ(f"sqlite:///{tmp_path / 'bot.db'}").items():
        monkeypatch.setenv(name, value)
    assert main(["sync", "--yes"], transport=bot.sandbox.transport()) == 3
    sweep(bot.service, bot.app.client, bot.clock)
    posted = bot.posted_previews()[-1]
    assert posted["channel"] == CHANNEL
    assert "held" in text_of(posted)
    assert "Entra returned 0 users" in text_of(posted)
    (pending,) = bot.service.pending_previews()
    assert pending.held and pending.message_ts
    sweep(bot.service, bot.app.client, bot.clock)  # posted once, not at every sweep
    assert len(bot.posted_previews()) == 1
    bot.click(Action.APPROVE, str(pending.id), CAROL, pending.message_ts)
    assert all(e["attributes"]["Active"] == "false" for e in bot.sandbox.employees())
    view = bot.service.preview_view(pending.id)
    assert view is not None and view.status is PreviewStatus.APPLIED


def test_a_new_preview_closes_the_message_of_the_one_it_supersedes(bot: Bot) -> None:
    """The older preview's buttons go as soon as the newer one is posted, without a sweep."""
    first_id, first_ts = _preview(bot, ALICE)
    _preview(bot, CAROL)
    closing = [c.params for c in bot.fake.calls("chat.update") if c.params["ts"] == first_ts]
    assert closing, "the superseded preview's message was not edited"
    assert Action.APPROVE.value not in action_ids(closing[-1]["blocks"])
    assert "replaced" in text_of(closing[-1]) or "upersede" in text_of(closing[-1])
    assert refresh_previews(bot.app.client, bot.service, bot.clock()) == 0
    view = bot.service.preview_view(int(first_id))
    assert view is not None and view.status is PreviewStatus.SUPERSEDED
