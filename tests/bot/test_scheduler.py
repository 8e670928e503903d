"""The scheduled check in Slack: what each outcome posts, on the sandbox with a fake clock.

Checks are run by calling :func:`run_scheduled_check` directly, so nothing waits on
APScheduler's timing; one test only inspects the jobs :func:`start_scheduler` sets up.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import time
from time import monotonic, sleep
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from bot.blocks import REPORT_CSV_REMEDY, escape_mrkdwn
from bot.blocks.scheduled import ALERT_NOTE
from bot.config import REQUIRED_BOT_SCOPES
from bot.ids import Action
from bot.scheduler import (
    CATCH_UP_JOB_ID,
    DAILY_JOB_ID,
    MISFIRE_GRACE_SECONDS,
    SWEEP_JOB_ID,
    run_scheduled_check,
    start_scheduler,
)
from core.config import TeamSettings
from core.runs import FailureCause, ScheduledKind, ScheduledOutcome, ScheduledSync, cause_fix
from core.runs.guard_rails import FIRST_SYNC, NO_REPORT_CHANNEL
from core.sandbox.faults import Fault
from core.store import PreviewStatus, RunView
from core.sync import Attr
from tests.bot.scenario import ADMIN, ALICE, BOB, CAROL, CHANNEL, Bot, action_ids
from tests.bot.test_blocks_support import assert_no_pings, texts

LIVE = {Action.APPROVE.value, Action.REJECT.value}


def _check(bot: Bot) -> ScheduledOutcome:
    return run_scheduled_check(bot.service, bot.app.client, clock=bot.clock)


def _posts(bot: Bot) -> list[dict[str, Any]]:
    return [c.params for c in bot.fake.calls("chat.postMessage")]


def _text(params: dict[str, Any]) -> str:
    """Every text in a posted message, blocks and fallback, unescaped by JSON."""
    return "\n".join([*texts(params.get("blocks", [])), str(params.get("text", ""))])


def _first_sync(bot: Bot) -> None:
    """An approver applies the first sync, then a scheduled check finds nothing to do.

    The scheduler never applies an installation's first sync; the test starts after it.
    """
    assert bot.service.sync(BOB).applied is not None
    assert _check(bot).kind is ScheduledKind.NO_CHANGES
    bot.fake.reset()
    bot.sandbox.request_log.clear()


def _retitle_someone(bot: Bot) -> None:
    """One change for the next check to write: an active Employee's job title."""
    employee = next(
        e for e in bot.sandbox.employees() if e["attributes"].get(Attr.ACTIVE.value) == "true"
    )
    bot.sandbox.set_job_title(employee["attributes"][Attr.ENTRA_USER_ID.value], "Night Auditor")


def _active_account_ids(bot: Bot) -> list[str]:
    return [
        e["attributes"][Attr.ATLASSIAN_ACCOUNT_ID.value]
        for e in bot.sandbox.employees()
        if e["attributes"].get(Attr.ACTIVE.value) == "true"
    ]


def test_the_first_check_of_an_installation_waits_for_an_approver(bot: Bot) -> None:
    """Nothing applied by a person yet: the check posts the plan to approve, writes nothing."""
    outcome = _check(bot)
    assert outcome.kind is ScheduledKind.HELD
    assert outcome.hold_reasons == (FIRST_SYNC,)
    assert bot.writes() == []
    (post,) = _posts(bot)
    assert post["channel"] == CHANNEL
    assert action_ids(post["blocks"]) >= LIVE
    assert "No sync has been applied by a person yet" in _text(post)
    assert outcome.preview is not None
    view = bot.service.preview_view(outcome.preview.id)
    assert view is not None and view.message_ts
    bot.click(Action.APPROVE, str(view.id), BOB, view.message_ts)
    assert len(bot.sandbox.employees()) == 38


def test_a_check_that_writes_posts_one_report_with_the_csv_in_its_thread(bot: Bot) -> None:
    """A due check applies what changed and reports once, every change in the CSV."""
    _first_sync(bot)
    _retitle_someone(bot)
    bot.clock.advance(days=7)
    outcome = _check(bot)
    assert outcome.kind is ScheduledKind.APPLIED
    (post,) = _posts(bot)
    assert post["channel"] == CHANNEL
    text = _text(post)
    assert "Scheduled sync applied" in text
    assert "*Updates*\n1" in text
    assert "*Failed*\n0" in text
    assert "requests (" in text
    complete = bot.fake.last("files.completeUploadExternal").params
    assert complete["channel_id"] == CHANNEL
    assert complete.get("thread_ts")
    (csv_bytes,) = bot.fake.uploads.values()
    assert csv_bytes.decode().startswith("section,subject,id,field,before,after,reason")
    assert "Night Auditor" in csv_bytes.decode()
    assert_no_pings(post.get("blocks", []))


def test_a_report_whose_csv_is_refused_says_so_in_its_thread(bot: Bot) -> None:
    """The app was installed without channels:join, so the bot cannot join the public
    report channel: the report is posted, the file refused (not_in_channel), and the
    thread says why and where this run is listed."""
    _first_sync(bot)
    _retitle_someone(bot)
    bot.fake.set_scopes(set(REQUIRED_BOT_SCOPES) - {"channels:join"})
    bot.clock.advance(days=7)
    assert _check(bot).kind is ScheduledKind.APPLIED
    report, note = _posts(bot)
    assert "The thread holds the CSV file of every change, or, if Slack refused it, why." in (
        _text(report)
    )
    assert note.get("thread_ts") and "thread_ts" not in report
    assert "`not_in_channel`" in note["text"]
    assert note["text"].endswith(REPORT_CSV_REMEDY)


def test_rerun_the_same_day_posts_nothing(bot: Bot) -> None:
    """A second check before the cadence has passed is not due: no post, no write."""
    _first_sync(bot)
    bot.clock.advance(hours=3)
    assert _check(bot).kind is ScheduledKind.NOT_DUE
    assert _posts(bot) == []
    assert bot.writes() == []


def test_a_week_later_without_changes_posts_one_line(bot: Bot) -> None:
    """Seven days on, an unchanged directory gets a single one-line message and no file."""
    _first_sync(bot)
    bot.clock.advance(days=7)
    outcome = _check(bot)
    assert outcome.kind is ScheduledKind.NO_CHANGES
    assert outcome.plan is not None
    stats = outcome.plan.stats
    (post,) = _posts(bot)
    assert post["text"].startswith(
        f"Scheduled sync: nothing to change. Read {stats.atlassian_accounts} Atlassian "
        f"accounts and {stats.directory_users} directory users with "
    )
    assert len(post["blocks"]) == 1
    assert "\n" not in post["text"]
    assert bot.fake.calls("files.completeUploadExternal") == []
    assert bot.writes() == []


def test_mass_inactivation_is_held_then_applied_by_an_approver(bot: Bot) -> None:
    """The guard holds the plan: a preview names the rule, nothing is written until Bob."""
    _first_sync(bot)
    active = _active_account_ids(bot)
    leavers = active[:30]
    for account_id in leavers:
        bot.sandbox.deactivate_account(account_id)
    bot.clock.advance(days=7)
    outcome = _check(bot)
    assert outcome.kind is ScheduledKind.HELD
    assert outcome.hold_reasons
    assert outcome.preview is not None
    assert bot.writes() == []
    (post,) = _posts(bot)
    text = _text(post)
    assert action_ids(post["blocks"]) >= LIVE
    for reason in outcome.hold_reasons:
        assert escape_mrkdwn(" ".join(reason.split())) in text
    assert "Approving applies this plan even though it breaches the guard" in text
    view = bot.service.preview_view(outcome.preview.id)
    assert view is not None
    assert view.channel == CHANNEL
    assert view.message_ts
    assert bot.fake.last("files.completeUploadExternal").params["thread_ts"] == view.message_ts

    bot.click(Action.APPROVE, str(view.id), BOB, view.message_ts)
    decided = bot.service.preview_view(view.id)
    assert decided is not None
    assert decided.status is PreviewStatus.APPLIED
    assert len(_active_account_ids(bot)) == len(active) - len(leavers)
    final = bot.fake.calls("chat.update")[-1].params
    assert final["ts"] == view.message_ts
    assert not LIVE & action_ids(final["blocks"])


def test_held_preview_supersedes_an_open_one(bot: Bot) -> None:
    """A person's open preview loses its buttons when the scheduler holds a newer plan."""
    _first_sync(bot)
    for account_id in _active_account_ids(bot)[:30]:
        bot.sandbox.deactivate_account(account_id)
    bot.clock.advance(days=7)
    bot.command("preview", user=ALICE)
    (older,) = bot.service.pending_previews()
    outcome = _check(bot)
    assert outcome.kind is ScheduledKind.HELD
    closed = [c.params for c in bot.fake.calls("chat.update") if c.params["ts"] == older.message_ts]
    assert closed
    assert not LIVE & action_ids(closed[-1]["blocks"])


def test_failures_report_the_fix_and_alert_once_after_the_third(bot: Bot) -> None:
    """Each failed day says why and what to do; the third in a row adds one alert."""
    bot.sandbox.add_fault(Fault(service="graph", status=403, times=100))
    fix = escape_mrkdwn(cause_fix(FailureCause.PERMISSION))
    per_day: list[list[dict[str, Any]]] = []
    outcomes: list[ScheduledOutcome] = []
    for _ in range(4):
        bot.fake.reset()
        outcomes.append(_check(bot))
        per_day.append(_posts(bot))
        bot.clock.advance(days=1)
    assert [o.kind for o in outcomes] == [ScheduledKind.FAILED] * 4
    assert [o.cause for o in outcomes] == [FailureCause.PERMISSION] * 4
    assert [len(posts) for posts in per_day] == [1, 1, 2, 1]
    for posts in per_day:
        assert "Scheduled sync failed" in _text(posts[0])
        assert fix in _text(posts[0])
        assert_no_pings(posts[0]["blocks"])
    assert [o.alert is not None for o in outcomes] == [False, False, True, False]
    alert = _text(per_day[2][1])
    assert "3 scheduled runs in a row failed" in alert
    assert "permission errors" in alert
    assert fix in alert
    assert ALERT_NOTE in alert
    assert bot.writes() == []


def test_unexpected_errors_are_reported_not_raised(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug in the check becomes a failure message; the scheduler thread lives on."""

    def explode(self: ScheduledSync, *, once_per_check: bool = False) -> ScheduledOutcome:
        raise RuntimeError("boom <!channel>")

    monkeypatch.setattr(ScheduledSync, "run_check", explode)
    outcome = _check(bot)
    assert outcome.kind is ScheduledKind.FAILED
    (post,) = _posts(bot)
    assert "boom &lt;!channel&gt;" in _text(post)
    assert_no_pings(post["blocks"])


def test_slack_refusing_the_report_does_not_raise(bot: Bot) -> None:
    """The sync still happens; a refused post is logged, not thrown at the scheduler."""
    _first_sync(bot)
    _retitle_someone(bot)
    bot.clock.advance(days=7)
    bot.fake.fail_next("chat.postMessage", error="channel_not_found", status=200)
    assert _check(bot).kind is ScheduledKind.APPLIED
    assert len(bot.writes()) == 1
    assert bot.fake.calls("files.completeUploadExternal") == []


def test_without_a_report_channel_the_check_holds_and_says_why(bot: Bot) -> None:
    """Nobody would see its report: the plan waits, nothing is written or posted."""
    _first_sync(bot)
    bot.service.save_team_settings(TeamSettings(None, (BOB, CAROL)), ADMIN)
    _retitle_someone(bot)
    bot.clock.advance(days=7)
    assert NO_REPORT_CHANNEL in ScheduledSync(bot.service, clock=bot.clock).status().summary
    outcome = _check(bot)
    assert outcome.kind is ScheduledKind.HELD
    assert outcome.hold_reasons == (NO_REPORT_CHANNEL,)
    assert _posts(bot) == []
    assert bot.writes() == []
    bot.open_home(ALICE)
    home = bot.fake.last("views.publish").params["view"]
    assert "No report channel is set" in "\n".join(texts(home["blocks"]))


def test_status_and_home_show_the_schedule(bot: Bot) -> None:
    """``/entra status`` and App Home carry the schedule summary from the core."""
    summary = ScheduledSync(bot.service, clock=bot.clock).status().summary
    shown = escape_mrkdwn(" ".join(summary.split()))[:150]
    status = json.loads(bot.command("status").body)
    assert shown in "\n".join(texts(status["blocks"]))
    bot.open_home(ALICE)
    home = bot.fake.last("views.publish").params["view"]
    assert shown in "\n".join(texts(home["blocks"][:4]))


def test_start_scheduler_registers_the_daily_check_and_a_catch_up(bot: Bot) -> None:
    """The configured time and zone, one instance, coalesced, a grace time; due: catch up."""
    bot.service.settings = dataclasses.replace(
        bot.service.settings, check_time=time(3, 30), check_timezone="Europe/Berlin"
    )
    scheduler = start_scheduler(bot.service, bot.app.client, clock=bot.clock, paused=True)
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
        daily = jobs[DAILY_JOB_ID]
        assert isinstance(daily.trigger, CronTrigger)
        fields = {f.name: str(f) for f in daily.trigger.fields}
        assert (fields["hour"], fields["minute"]) == ("3", "30")
        assert daily.trigger.timezone == ZoneInfo("Europe/Berlin")
        assert daily.max_instances == 1
        assert daily.coalesce is True
        assert daily.misfire_grace_time == MISFIRE_GRACE_SECONDS
        assert isinstance(jobs[CATCH_UP_JOB_ID].trigger, DateTrigger)
        assert SWEEP_JOB_ID in jobs
    finally:
        scheduler.shutdown(wait=False)
    assert bot.writes() == []


def test_start_scheduler_skips_the_catch_up_when_nothing_is_due(bot: Bot) -> None:
    """Right after a sync, a restart does not schedule another one."""
    _first_sync(bot)
    scheduler = start_scheduler(bot.service, bot.app.client, clock=bot.clock, paused=True)
    try:
        ids = {job.id for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown(wait=False)
    assert ids == {DAILY_JOB_ID, SWEEP_JOB_ID}


def _scheduled_runs(bot: Bot) -> list[RunView]:
    return [run for run in bot.service.history(50) if run.kind.value == "scheduled"]


def _wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = monotonic() + timeout
    while not condition():
        assert monotonic() < deadline, "timed out"
        sleep(0.05)


def test_a_missed_check_runs_once_at_start_up_and_not_again_on_restart(bot: Bot) -> None:
    """A process that was down at check time syncs once when it starts; a restart does not."""
    assert bot.service.sync(BOB).applied is not None  # a person's first sync
    first = start_scheduler(bot.service, bot.app.client, clock=bot.clock)
    try:
        _wait_for(lambda: any(r.status.value != "running" for r in _scheduled_runs(bot)))
    finally:
        first.shutdown(wait=True)
    assert [r.status.value for r in _scheduled_runs(bot)] == ["succeeded"]
    assert len(bot.sandbox.employees()) == 38
    second = start_scheduler(bot.service, bot.app.client, clock=bot.clock)
    try:
        assert CATCH_UP_JOB_ID not in {job.id for job in second.get_jobs()}
    finally:
        second.shutdown(wait=True)
    assert len(_scheduled_runs(bot)) == 1
