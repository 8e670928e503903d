"""Status, sync progress, sync report, busy reply and App Home builders."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.blocks import (
    busy_message,
    home_view,
    status_message,
    sync_failed_message,
    sync_progress_message,
    sync_report_message,
    view_problems,
)
from bot.ids import Action
from core.config import TeamSettings
from core.runs import SyncResult
from core.store import RunKind, RunStatus
from core.sync import ApplyResult, Plan
from tests.bot.test_blocks_support import (
    APPROVER,
    NOW,
    REQUESTER,
    action_ids,
    assert_message_fits,
    assert_no_pings,
    big_plan,
    preview_view,
    run_view,
    small_plan,
    status_report,
    sync_result,
    texts,
)

TEAM = TeamSettings("C0REPORTS", (APPROVER, "U0SECOND"))


def _joined(blocks: list[dict[str, object]]) -> str:
    return "\n".join(texts(blocks))


def test_status_message_covers_every_part_within_limits() -> None:
    """Last manual, last scheduled, current run, recent history and next check, all fitting."""
    msg = status_message(status_report(), next_check="Tue 4 March, 06:00 UTC", now=NOW)
    joined = _joined(msg.blocks)
    for label in ("Last manual sync", "Last scheduled sync", "Current run", "Recent runs"):
        assert label in joined
    assert "Tue 4 March, 06:00 UTC" in joined
    assert "running for 99 h 0 min" in joined
    assert re.search(r"… and 2\d more", joined)
    assert "11111111-2222-3333-4444-555555555555" in joined
    assert_message_fits(msg)
    assert_no_pings(msg.blocks, msg.text)


def test_status_message_unconfigured_and_idle() -> None:
    """No connection and no runs read as "not configured", "never" and "not scheduled"."""
    report = status_report(runs=0, configured=False)
    msg = status_message(report, next_check=None, now=NOW)
    joined = _joined(msg.blocks)
    assert "*not configured*" in joined
    assert "never" in joined
    assert "not scheduled" in joined
    assert "Last manual sync: never" in msg.text


def test_progress_shows_step_and_fraction() -> None:
    """Progress names the actor and step, with a bar and a percentage once totals are known."""
    msg = sync_progress_message(APPROVER, "Applying changes", 50, 200)
    joined = _joined(msg.blocks)
    assert f"<@{APPROVER}>" in joined
    assert "50 of 200 changes (25%)" in joined
    assert "(50/200)" in msg.text


def test_progress_without_actor_or_total() -> None:
    """An empty actor and a zero total still give a valid message, without a bar."""
    msg = sync_progress_message("", "Reading <!channel> accounts", 0, 0)
    assert len(msg.blocks) == 1
    assert_no_pings(msg.blocks, msg.text)
    assert_message_fits(msg)


def test_sync_report_with_failures_lists_the_first_reasons() -> None:
    """Counts, failures with the first five reasons, duration and requests."""
    plan = big_plan()
    msg = sync_report_message(sync_result(plan, ok=100, failed=30), APPROVER)
    joined = _joined(msg.blocks)
    assert "100 changes written, 30 failed" in joined
    assert "*30 changes failed*" in joined
    assert "… and 25 more" in joined
    assert "3 min 4 s" in joined
    assert "42 requests (assets 30, graph 12)" in joined
    assert "run #41" in msg.text
    assert_message_fits(msg)
    assert_no_pings(msg.blocks, msg.text)


def test_sync_report_without_changes_is_one_line() -> None:
    """A run that changed nothing says so in a single section."""
    result = SyncResult(5, Plan(), RunStatus.SUCCEEDED, ApplyResult(()), {"graph": 3}, 2.5)
    msg = sync_report_message(result, APPROVER)
    assert len(msg.blocks) == 1
    assert "nothing to change" in msg.blocks[0]["text"]["text"]
    assert "\n" not in msg.blocks[0]["text"]["text"]


def test_sync_report_of_the_scheduler() -> None:
    """A scheduled run has no Slack user: the report names the scheduler as text."""
    msg = sync_report_message(sync_result(small_plan()), "scheduler")
    assert "by scheduler" in _joined(msg.blocks)
    assert_no_pings(msg.blocks)


def test_sync_failed_message_escapes_the_error() -> None:
    """A read error is shown escaped, with what was (not) changed."""
    msg = sync_failed_message(APPROVER, "Graph said <!channel>")
    assert "Graph said &lt;!channel&gt;" in _joined(msg.blocks)
    assert_no_pings(msg.blocks, msg.text)


def test_busy_message_names_holder_and_start() -> None:
    """ "Already running, started by X at T" with a Slack date in blocks, UTC in text."""
    holder = run_view(4, status=RunStatus.RUNNING, kind=RunKind.SCHEDULED)
    msg = busy_message(holder)
    joined = _joined(msg.blocks)
    assert f"A sync is already running, started by <@{REQUESTER}> at <!date^" in joined
    assert msg.text.startswith(f"A sync is already running, started by <@{REQUESTER}> at 2025-")
    assert "scheduled sync" in msg.text


def test_home_view_for_admin_approver_has_every_button() -> None:
    """Admins who approve see Generate Preview, Run Manual Sync, Create Schema and Settings."""
    view = home_view(
        user_id=APPROVER,
        report=status_report(),
        pending=[preview_view(big_plan(60), preview_id=i) for i in range(1, 12)],
        team=TEAM,
        is_admin=True,
        is_approver=True,
        now=NOW,
    )
    assert view["type"] == "home"
    assert action_ids(view["blocks"]) == [
        Action.NEW_PREVIEW.value,
        Action.RUN_SYNC.value,
        Action.CREATE_SCHEMA.value,
        Action.OPEN_SETTINGS.value,
        Action.OPEN_EXPLAIN.value,
    ]
    joined = _joined(view["blocks"])
    assert "*Pending previews* (11)" in joined
    assert "… and 6 more pending" in joined
    assert "<#C0REPORTS>" in joined
    assert f"<@{APPROVER}>, <@U0SECOND>" in joined
    assert "every 7 days" in joined
    assert "stored (never shown)" in joined
    assert len(view["blocks"]) <= 100
    assert view_problems(view) == []
    assert_no_pings(view["blocks"])


def test_home_view_hides_admin_and_approver_buttons() -> None:
    """Someone who is neither admin nor approver only gets Generate Preview."""
    view = home_view(
        user_id="U0NOBODY",
        report=status_report(runs=0, configured=False),
        pending=[],
        team=TeamSettings(),
        is_admin=False,
        is_approver=False,
        now=NOW,
    )
    assert action_ids(view["blocks"]) == [Action.NEW_PREVIEW.value, Action.OPEN_EXPLAIN.value]
    joined = _joined(view["blocks"])
    assert "*not configured*" in joined
    assert "Report channel: not configured" in joined
    assert "Approvers: *none*" in joined
    assert "None waiting for approval" in joined


def test_home_view_for_approver_who_is_not_admin() -> None:
    """Approvers may run a sync but see no admin buttons."""
    view = home_view(
        user_id=APPROVER,
        report=status_report(),
        pending=[],
        team=TEAM,
        is_admin=False,
        is_approver=True,
        now=NOW,
    )
    assert action_ids(view["blocks"]) == [
        Action.NEW_PREVIEW.value,
        Action.RUN_SYNC.value,
        Action.OPEN_EXPLAIN.value,
    ]


def test_home_view_with_many_approvers_stays_small() -> None:
    """Hundreds of approvers are listed up to a cap, the rest counted."""
    team = TeamSettings("C0REPORTS", tuple(f"U{i:08d}" for i in range(500)))
    view = home_view(
        user_id=APPROVER,
        report=status_report(),
        pending=[],
        team=team,
        is_admin=True,
        is_approver=True,
        now=NOW + timedelta(days=3),
    )
    assert "and 480 more" in _joined(view["blocks"])
    assert view_problems(view) == []
