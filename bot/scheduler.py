"""The daily scheduled check in the ``serve`` process, and what it says in Slack.

One APScheduler :class:`BackgroundScheduler` runs three jobs: the daily check at the
configured local time, a one-off catch-up when the process starts while a sync is
due (a bot that was down at check time should not wait another day), and the sweep
that strips the buttons off expired previews. Whether a check syncs, holds or does
nothing is decided in :mod:`core.runs.scheduled`; this module only reports the outcome
to the team's report channel, and never lets an exception kill the scheduler thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks import (
    REPORT_CSV_REMEDY,
    Message,
    held_message,
    quarantine_alert_message,
    schedule_line,
    scheduled_failure_message,
    scheduled_report_message,
)
from bot.housekeeping import SWEEP_MINUTES, sweep
from bot.publishing import Posted, attach_csv, post_message, publish_preview
from core.runs import FailureCause, ScheduledKind, ScheduledOutcome, ScheduledSync, SyncService
from core.sync import Plan

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

DAILY_JOB_ID = "daily-check"
CATCH_UP_JOB_ID = "catch-up-check"
SWEEP_JOB_ID = "close-expired-previews"
MISFIRE_GRACE_SECONDS = 3600
"""A check delayed by up to an hour (a busy or suspended host) still runs."""

SILENT = frozenset({ScheduledKind.NOT_DUE, ScheduledKind.NOT_CONFIGURED, ScheduledKind.BUSY})
"""Outcomes that post nothing: a daily "nothing was due" would teach people to ignore us."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def start_scheduler(
    service: SyncService,
    client: WebClient,
    *,
    clock: Clock | None = None,
    paused: bool = False,
) -> BackgroundScheduler:
    """Start the daily check, a catch-up run when one is due, and the expiry sweep.

    The caller shuts the scheduler down when serving stops. ``paused`` starts it
    without running anything, so a test can inspect the jobs without racing them.
    """
    zone = ZoneInfo(service.settings.check_timezone)
    scheduler = BackgroundScheduler(timezone=zone)
    _add_daily_check(scheduler, service, client, clock, zone)
    _log_schedule(service, clock)
    if _sync_due(service, clock):
        _add_catch_up(scheduler, service, client, clock, zone)
    _add_sweep(scheduler, service, client, clock)
    scheduler.start(paused=paused)
    return scheduler


def _add_daily_check(
    scheduler: BackgroundScheduler,
    service: SyncService,
    client: WebClient,
    clock: Clock | None,
    zone: ZoneInfo,
) -> None:
    """Every day at the configured time; the cadence decides whether the check syncs.

    ``coalesce`` folds checks missed while the process was suspended into one run, and
    ``max_instances=1`` keeps a slow sync from overlapping the next day's check.
    """
    at = service.settings.check_time
    trigger = CronTrigger(hour=at.hour, minute=at.minute, timezone=zone)
    _add_check(scheduler, trigger, DAILY_JOB_ID, "Daily scheduled check", (service, client, clock))


def _add_catch_up(
    scheduler: BackgroundScheduler,
    service: SyncService,
    client: WebClient,
    clock: Clock | None,
    zone: ZoneInfo,
) -> None:
    """One run right away. ``run_check`` checks due-ness and the run lease again, so two
    processes starting together, or the daily job firing too, still sync only once."""
    name = "Catch-up scheduled check at start-up"
    _add_check(
        scheduler, DateTrigger(timezone=zone), CATCH_UP_JOB_ID, name, (service, client, clock)
    )


def _add_check(
    scheduler: BackgroundScheduler,
    trigger: CronTrigger | DateTrigger,
    job_id: str,
    name: str,
    target: tuple[SyncService, WebClient, Clock | None],
) -> None:
    service, client, clock = target
    scheduler.add_job(
        run_scheduled_check,
        trigger,
        args=(service, client),
        kwargs={"clock": clock},
        id=job_id,
        name=name,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=MISFIRE_GRACE_SECONDS,
        replace_existing=True,
    )


def _add_sweep(
    scheduler: BackgroundScheduler, service: SyncService, client: WebClient, clock: Clock | None
) -> None:
    """Expired and interrupted previews lose their buttons even when nobody clicks them."""
    scheduler.add_job(
        sweep,
        "interval",
        minutes=SWEEP_MINUTES,
        args=(service, client, clock or _utc_now),
        id=SWEEP_JOB_ID,
        name="Close expired and interrupted previews",
        max_instances=1,
        coalesce=True,
        replace_existing=True,
    )


def _log_schedule(service: SyncService, clock: Clock | None) -> None:
    """Say at start-up when the next check is, and why it would hold rather than apply."""
    try:
        status = ScheduledSync(service, clock=clock).status()
    except Exception:
        log.exception("Could not read the schedule")
        return
    if status.holds:
        log.warning("Schedule: %s", status.summary)
    else:
        log.info("Schedule: %s", status.summary)


def _sync_due(service: SyncService, clock: Clock | None) -> bool:
    """Whether a start-up catch-up is needed; a broken store must not stop ``serve``."""
    try:
        return ScheduledSync(service, clock=clock).status().due
    except Exception:
        log.exception("Could not tell whether a scheduled sync is due; the daily check will")
        return False


def schedule_summary(service: SyncService, *, clock: Clock | None = None) -> str | None:
    """The schedule line for ``/entra status`` and App Home, or None if it cannot be read.

    Those surfaces answer even when the store or the settings are broken; the schedule
    line is then left out rather than taking the whole answer down with it.
    """
    try:
        return schedule_line(ScheduledSync(service, clock=clock).status())
    except Exception:
        log.exception("Could not read the schedule")
        return None


# -- one check -------------------------------------------------------------------------


def run_scheduled_check(
    service: SyncService, client: WebClient, *, clock: Clock | None = None
) -> ScheduledOutcome:
    """Run one scheduled check and report it; never raises, so the scheduler lives on.

    An unexpected error in the check itself becomes a FAILED outcome and is reported
    like any other failure: a silent scheduler is the worst way to fail.
    """
    try:
        outcome = ScheduledSync(service, clock=clock).run_check(once_per_check=True)
    except Exception as exc:
        log.exception("The scheduled check failed unexpectedly")
        error = str(exc) or type(exc).__name__
        outcome = ScheduledOutcome(ScheduledKind.FAILED, error=error, cause=FailureCause.OTHER)
    try:
        report_outcome(service, client, outcome, now=(clock or _utc_now)())
    except Exception:
        log.exception("Could not report the scheduled check (%s)", outcome.kind.value)
    return outcome


def report_outcome(
    service: SyncService,
    client: WebClient,
    outcome: ScheduledOutcome,
    *,
    now: datetime,
) -> None:
    """Post ``outcome`` to the report channel.

    Silent outcomes are only logged. Without a report channel nothing is posted: the
    run history (``/entra status``) and App Home still show what happened.
    """
    detail = f" ({outcome.error})" if outcome.error else ""
    log.info("Scheduled check: %s%s", outcome.kind.value, detail)
    if outcome.kind in SILENT:
        return
    channel = service.team_settings().report_channel
    if not channel:
        log.warning(
            "Scheduled check %s, but no report channel is set, so nothing was posted; "
            "an admin sets one with /entra setup",
            outcome.kind.value,
        )
        return
    reporter = _Reporter(service, client, channel, now)
    if outcome.kind is ScheduledKind.HELD:
        reporter.held(outcome)
    elif outcome.kind is ScheduledKind.FAILED:
        reporter.failed(outcome)
    else:
        reporter.report(outcome)


class _Reporter:
    """Posts to one channel; each Slack refusal is logged and the rest still goes out."""

    def __init__(
        self, service: SyncService, client: WebClient, channel: str, now: datetime
    ) -> None:
        self._service = service
        self._client = client
        self._channel = channel
        self._now = now

    def report(self, outcome: ScheduledOutcome) -> None:
        """NO_CHANGES is one line; a run that wrote gets its CSV of changes in the thread."""
        posted = self._post(scheduled_report_message(outcome))
        plan = outcome.plan if outcome.plan is not None else _result_plan(outcome)
        if posted is None or plan is None or outcome.kind is ScheduledKind.NO_CHANGES:
            return
        run = outcome.run_id if outcome.run_id is not None else "latest"
        filename, title = f"entra-scheduled-sync-{run}.csv", f"Scheduled sync #{run}: every change"
        attach_csv(self._client, posted, plan, filename, title, remedy=REPORT_CSV_REMEDY)

    def held(self, outcome: ScheduledOutcome) -> None:
        """Post the held plan as a preview with Approve / Reject, like one a person asked for."""
        preview = outcome.preview
        if preview is None:
            log.error("Scheduled check held a plan but stored no preview; nothing to post")
            return
        plan = outcome.plan if outcome.plan is not None else preview.plan
        message = held_message(preview, plan, outcome.hold_reasons, now=self._now)
        try:
            publish_preview(
                self._client, self._service, preview, message, channel=self._channel, now=self._now
            )
        except SlackApiError as exc:
            self._refused(exc)

    def failed(self, outcome: ScheduledOutcome) -> None:
        """Why it failed and what to do; the quarantine alert once per failure streak."""
        self._post(scheduled_failure_message(outcome))
        if outcome.alert is not None:
            self._post(quarantine_alert_message(outcome.alert))

    def _post(self, message: Message) -> Posted | None:
        """Where the message landed, or None when Slack refused it."""
        try:
            return post_message(self._client, self._channel, message)
        except SlackApiError as exc:
            self._refused(exc)
            return None

    def _refused(self, exc: SlackApiError) -> None:
        error = exc.response.get("error")
        log.warning("Could not post the scheduled report to %s: %s", self._channel, error)


def _result_plan(outcome: ScheduledOutcome) -> Plan | None:
    return outcome.result.plan if outcome.result is not None else None
