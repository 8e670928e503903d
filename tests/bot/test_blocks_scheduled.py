"""Messages of the scheduled check: limits at 20,000 changes, escaping, and their wording."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.blocks import (
    escape_mrkdwn,
    held_message,
    home_view,
    quarantine_alert_message,
    schedule_line,
    scheduled_failure_message,
    scheduled_report_message,
    status_message,
    view_problems,
)
from bot.blocks.scheduled import ALERT_NOTE, GUARD_NOTE
from bot.ids import Action
from core.config import TeamSettings
from core.runs import (
    FailureCause,
    QuarantineAlert,
    ScheduledKind,
    ScheduledOutcome,
    ScheduleStatus,
    cause_fix,
)
from core.sync import Plan
from core.sync.plan import PlanStats
from tests.bot.test_blocks_support import (
    HOSTILE,
    NOW,
    action_ids,
    assert_message_fits,
    assert_no_pings,
    big_plan,
    preview_view,
    status_report,
    sync_result,
    texts,
)

REQUESTS = {"graph": 12, "assets": 30}
HOSTILE_TEXT = " ".join(HOSTILE)


def _joined(blocks: list[dict[str, object]]) -> str:
    return "\n".join(texts(blocks))


def _applied(plan: Plan, *, ok: int = 3, failed: int = 0) -> ScheduledOutcome:
    result = sync_result(plan, ok=ok, failed=failed)
    kind = ScheduledKind.PARTIAL if failed else ScheduledKind.APPLIED
    return ScheduledOutcome(
        kind=kind, run_id=41, plan=plan, result=result, requests=REQUESTS, seconds=184.2
    )


def _status(*, quarantined: FailureCause | None = None, summary: str = "") -> ScheduleStatus:
    return ScheduleStatus(
        next_check=NOW + timedelta(hours=14),
        due=True,
        cadence_days=7,
        last_success=NOW - timedelta(days=8),
        quarantined=quarantined,
        summary=summary or "Next check 2025-03-04 02:00 UTC: a sync is due and will run.",
    )


def test_no_changes_is_one_line() -> None:
    """A quiet day costs the channel one line: what was read, how many requests, how long."""
    plan = Plan(stats=PlanStats(45, 40, 38))
    outcome = ScheduledOutcome(
        kind=ScheduledKind.NO_CHANGES, run_id=9, plan=plan, requests=REQUESTS, seconds=2.5
    )
    msg = scheduled_report_message(outcome)
    assert msg.text == (
        "Scheduled sync: nothing to change. Read 45 Atlassian accounts and 40 directory "
        "users with 42 requests in 2.5 s."
    )
    assert len(msg.blocks) == 1
    assert "\n" not in _joined(msg.blocks)
    assert_message_fits(msg)


def test_applied_report_of_twenty_thousand_changes_fits_slack_limits() -> None:
    """Counts, the first failures with reasons, duration and requests, within every limit."""
    plan = big_plan()
    msg = scheduled_report_message(_applied(plan, ok=19_000, failed=40))
    assert_message_fits(msg)
    assert_no_pings(msg.blocks, msg.text)
    joined = _joined(msg.blocks)
    assert "*Creates*\n3,333" in joined
    assert "*Applied*\n19,000" in joined
    assert "*Failed*\n40" in joined
    assert "40 changes failed" in joined
    assert "… and 35 more" in joined
    assert "Assets said &lt;!channel&gt; no" in joined
    assert "42 requests (assets 30, graph 12)" in joined
    assert "3 min 4 s" in joined
    assert "CSV file of every change" in joined
    assert "applied with failures" in msg.text


def test_applied_report_without_failures() -> None:
    """A clean run says how much it wrote and lists no failures."""
    msg = scheduled_report_message(_applied(big_plan(60), ok=30))
    assert msg.text == "Scheduled sync applied (run #41): 30 written, 0 failed."
    assert "failed*" not in _joined(msg.blocks)
    assert_message_fits(msg)


def test_report_refuses_outcomes_it_does_not_render() -> None:
    """Held and failed outcomes have their own builders; using the wrong one is a bug."""
    with pytest.raises(ValueError, match="held"):
        scheduled_report_message(ScheduledOutcome(kind=ScheduledKind.HELD))


def test_held_message_names_the_rule_and_keeps_the_buttons_at_twenty_thousand() -> None:
    """The banner says which rule held the plan and what approving means; Approve stays."""
    plan = big_plan()
    reasons = ("3,333 inactivations is more than 10% of 23,000 Employees <!channel>",)
    msg = held_message(preview_view(plan), plan, reasons, now=NOW)
    assert_message_fits(msg)
    assert_no_pings(msg.blocks, msg.text)
    banner = texts(msg.blocks[0])[0]
    assert "held for approval" in banner
    assert escape_mrkdwn(reasons[0]) in banner
    assert GUARD_NOTE in banner
    assert "Approving applies this plan even though it breaches the guard" in banner
    assert escape_mrkdwn(reasons[0]) in msg.text
    assert {Action.APPROVE.value, Action.REJECT.value} <= set(action_ids(msg.blocks[-1]))


def test_held_message_with_many_long_reasons_still_fits() -> None:
    """However many rules fire, the banner is capped and the buttons survive."""
    plan = big_plan()
    reasons = tuple(f"rule {i} {HOSTILE_TEXT} " + "x" * 900 for i in range(30))
    msg = held_message(preview_view(plan), plan, reasons, now=NOW)
    assert_message_fits(msg)
    assert_no_pings(msg.blocks, msg.text)
    assert "more" in texts(msg.blocks[0])[0]
    assert Action.APPROVE.value in action_ids(msg.blocks[-1])


def test_failure_message_escapes_the_error_and_says_what_to_do() -> None:
    """The reason is shown, never sent as a mention, and the cause's fix follows it."""
    outcome = ScheduledOutcome(
        kind=ScheduledKind.FAILED,
        run_id=12,
        error=f"Graph answered 403 {HOSTILE_TEXT} " + "y" * 5000,
        cause=FailureCause.PERMISSION,
    )
    msg = scheduled_failure_message(outcome)
    assert_message_fits(msg)
    assert_no_pings(msg.blocks, msg.text)
    joined = _joined(msg.blocks)
    assert "Scheduled sync failed* (run #12)" in joined
    assert "Graph answered 403 &lt;!channel&gt;" in joined
    assert escape_mrkdwn(cause_fix(FailureCause.PERMISSION)) in joined
    assert "Nothing was changed in Assets" in joined


def test_failure_without_a_cause_still_offers_a_fix() -> None:
    """An unexpected error gets the generic advice rather than none."""
    msg = scheduled_failure_message(ScheduledOutcome(kind=ScheduledKind.FAILED))
    assert escape_mrkdwn(cause_fix(FailureCause.OTHER)) in _joined(msg.blocks)
    assert "no reason given" in msg.text


@pytest.mark.parametrize("cause", list(FailureCause))
def test_quarantine_alert_names_cause_streak_and_fix(cause: FailureCause) -> None:
    """One alert per streak: the cause, how many runs since when, the fix, no repetition."""
    alert = QuarantineAlert(
        cause=cause,
        failures=3,
        since=NOW - timedelta(days=2),
        last_error=f"{HOSTILE_TEXT} " + "z" * 4000,
        fix=cause_fix(cause),
    )
    msg = quarantine_alert_message(alert)
    assert_message_fits(msg)
    assert_no_pings(msg.blocks, msg.text)
    joined = _joined(msg.blocks)
    assert "3 scheduled runs in a row failed, since <!date^" in joined
    assert escape_mrkdwn(alert.fix) in joined
    assert ALERT_NOTE in joined
    assert (
        "Scheduled syncs will keep trying daily; this alert is not repeated until the cause "
        "changes or a sync succeeds."
    ) in joined
    assert "3 runs in a row since 2025-03-01 12:00:00 UTC" in msg.text


def test_schedule_line_is_the_summary_with_a_siren_when_quarantined() -> None:
    """Plain text for both surfaces; a quarantine leads with a siren and is always named."""
    summary = "Next check 2025-03-04 02:00 UTC: a sync is due and will run."
    assert schedule_line(_status()) == summary
    line = schedule_line(_status(quarantined=FailureCause.PERMISSION))
    assert line == (
        f":rotating_light: {summary} Quarantined: scheduled syncs keep failing with "
        "permission errors."
    )
    named = f"{summary} Quarantined: 3 scheduled syncs in a row failed (permission)."
    line = schedule_line(_status(quarantined=FailureCause.PERMISSION, summary=named))
    assert line == f":rotating_light: {named}"


def test_schedule_is_shown_escaped_on_status_and_home() -> None:
    """``/entra status`` and App Home show the line near the top, escaped, within limits."""
    line = schedule_line(_status(summary="Next check soon <!channel>"))
    status = status_message(status_report(), next_check=line, now=NOW)
    assert "Next check soon &lt;!channel&gt;" in _joined(status.blocks)
    assert_no_pings(status.blocks)
    view = home_view(
        user_id="U0VIEWER",
        report=status_report(),
        pending=[],
        team=TeamSettings("C0OPS", ("U0APPROVE",)),
        is_admin=False,
        is_approver=False,
        now=NOW,
        schedule=line,
    )
    assert view_problems(view) == []
    assert_no_pings(view["blocks"])
    assert "Next check soon &lt;!channel&gt;" in texts(view["blocks"][2])[0]
