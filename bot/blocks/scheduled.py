"""Messages of the daily scheduled check: its report, a held plan, a failure, an alert.

Nobody asked for a scheduled run, so each message has to stand on its own in the
report channel: what happened, what it changed, and what a person should do now.
Everything that comes from outside (directory names, error text, hold reasons) is
escaped, and every builder keeps within Slack's limits whatever the plan's size.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from bot.blocks.attachments import REPORT_ROWS_NOTE
from bot.blocks.escape import (
    clip,
    duration_text,
    escape_mrkdwn,
    plural,
    slack_date,
    user_mention,
)
from bot.blocks.message import (
    ROWS_SHOWN,
    Block,
    Message,
    context,
    fields_section,
    lines_text,
    message,
    section,
)
from bot.blocks.preview import preview_message
from bot.blocks.runs import failures_block, plan_count_fields
from core.runs import (
    SCHEDULER,
    FailureCause,
    QuarantineAlert,
    ScheduledKind,
    ScheduledOutcome,
    ScheduleStatus,
    cause_fix,
    requests_text,
    when,
)
from core.store import PreviewView
from core.sync import Plan

GUARD_NOTE = (
    "Approving applies this plan even though it breaches the guard; rejecting leaves "
    "Assets as it is, and the next scheduled check plans again."
)
ALERT_NOTE = (
    "Scheduled syncs will keep trying daily; this alert is not repeated until the cause "
    "changes or a sync succeeds."
)
REASONS_LIMIT = 1500
"""Characters of hold reasons: the banner must leave room for the preview under it."""
ERROR_LIMIT = 1500

CAUSE_WORDS: dict[FailureCause, str] = {
    FailureCause.AUTHENTICATION: "authentication",
    FailureCause.PERMISSION: "permission",
    FailureCause.SERVER: "server",
    FailureCause.TRANSPORT: "network",
    FailureCause.CONFIGURATION: "configuration",
    FailureCause.OTHER: "unexpected",
}
QUARANTINE_EMOJI = ":rotating_light:"
_REPORTED = (ScheduledKind.NO_CHANGES, ScheduledKind.APPLIED, ScheduledKind.PARTIAL)


def cause_words(cause: FailureCause | None) -> str:
    """The cause as an adjective for "… failures" ("permission", "network")."""
    if cause is None:
        return CAUSE_WORDS[FailureCause.OTHER]
    return CAUSE_WORDS.get(cause, escape_mrkdwn(cause.value))


def schedule_line(status: ScheduleStatus) -> str:
    """The schedule in one plain-text line for ``/entra status`` and App Home.

    Plain on purpose: both surfaces escape and shorten it, so it carries no markup but
    an emoji. The core's summary already says when the next check is and whether it
    will sync; a quarantine gets a siren up front, and is spelled out when the summary
    does not name it, because a schedule that keeps failing is the news on this line.
    """
    summary = " ".join(status.summary.split())
    if status.quarantined is None:
        return summary
    if "quarantin" not in summary.lower():
        summary += (
            f" Quarantined: scheduled syncs keep failing with "
            f"{cause_words(status.quarantined)} errors."
        )
    return f"{QUARANTINE_EMOJI} {summary}"


def scheduled_report_message(outcome: ScheduledOutcome) -> Message:
    """The report of a scheduled run that read everything: nothing to do, or what it wrote.

    Only NO_CHANGES, APPLIED and PARTIAL have a report; the other kinds have their own
    builders (held, failed) or post nothing (not due, not configured, busy).
    """
    if outcome.kind is ScheduledKind.NO_CHANGES:
        return _no_changes_message(outcome)
    if outcome.kind not in _REPORTED:
        raise ValueError(f"a {outcome.kind.value} outcome has no scheduled report")
    return _applied_message(outcome)


def _no_changes_message(outcome: ScheduledOutcome) -> Message:
    """One line: a quiet day should cost the channel one line, not a dashboard."""
    took = duration_text(outcome.seconds)
    total = sum(outcome.requests.values())
    plan = _plan_of(outcome)
    if plan is None:
        line = f"Scheduled sync: nothing to change ({plural(total, 'request')} in {took})."
    else:
        stats = plan.stats
        line = (
            "Scheduled sync: nothing to change. "
            f"Read {plural(stats.atlassian_accounts, 'Atlassian account')} and "
            f"{plural(stats.directory_users, 'directory user')} with "
            f"{plural(total, 'request')} in {took}."
        )
    return message(line, [section(line)])


def _applied_message(outcome: ScheduledOutcome) -> Message:
    """Counts, the first failures with their reasons, duration and requests per service."""
    result = outcome.result
    applied = result.applied if result is not None else None
    written, failed = (applied.succeeded, applied.failed) if applied else (0, 0)
    partial = outcome.kind is ScheduledKind.PARTIAL or failed > 0
    emoji, headline = (
        (":warning:", "Scheduled sync applied with failures")
        if partial
        else (":white_check_mark:", "Scheduled sync applied")
    )
    run = f" (run #{outcome.run_id})" if outcome.run_id is not None else ""
    lead = (
        f"{emoji} *{headline}*{run}: {plural(written, 'change')} written, {failed:,} failed, "
        f"in {duration_text(outcome.seconds)}."
    )
    blocks: list[Block] = [section(lead), _counts(_plan_of(outcome), written, failed)]
    failures = failures_block(applied.outcomes) if applied else None
    if failures is not None:
        blocks.append(failures)
    blocks.append(context(f"{_requests(outcome.requests)} · {REPORT_ROWS_NOTE}"))
    text = f"{headline}{run}: {written:,} written, {failed:,} failed."
    return message(text, blocks)


def _counts(plan: Plan | None, written: int, failed: int) -> Block:
    """Eight counts in one grid: what the plan held and what became of it."""
    outcome = [f"*Applied*\n{written:,}", f"*Failed*\n{failed:,}"]
    return fields_section([*plan_count_fields(plan), *outcome])


def _requests(requests: Mapping[str, int]) -> str:
    """``12 requests (assets 8, graph 4)``: the cost of a run, per service."""
    return escape_mrkdwn(requests_text(dict(requests)))


def _plan_of(outcome: ScheduledOutcome) -> Plan | None:
    if outcome.plan is not None:
        return outcome.plan
    return outcome.result.plan if outcome.result is not None else None


def held_message(
    preview: PreviewView, plan: Plan, reasons: Sequence[str], *, now: datetime
) -> Message:
    """A plan the guard held: which rule held it, what approving means, then the preview.

    The preview part (counts, rows, Approve / Reject) is the normal preview message, so
    approvers decide a held plan exactly as they decide one a person asked for.
    """
    preview_part = preview_message(preview, plan, now=now)
    rows = [f"• {clip(reason, 500)}" for reason in reasons[:ROWS_SHOWN]]
    banner = lines_text(
        f":raised_hand: *{_held_sync(preview)} held for approval*: the plan breaches the "
        "guard, so nothing was written.",
        rows,
        total=len(reasons),
        limit=REASONS_LIMIT,
    )
    blocks = [section(f"{banner}\n{GUARD_NOTE}"), *preview_part.blocks]
    held_by = "; ".join(" ".join(r.split()).rstrip(".") for r in reasons) or "the guard"
    text = f"{_held_sync(preview)} held by {escape_mrkdwn(held_by)}. {preview_part.text}"
    return message(text, blocks)


def _held_sync(preview: PreviewView) -> str:
    """Whose sync was held: the scheduler's, a Slack user's, or one from the command line."""
    who = preview.requested_by
    if who == SCHEDULER:
        return "Scheduled sync"
    if who.startswith("cli:"):
        return f"Sync by {escape_mrkdwn(who.removeprefix('cli:'))} from the command line"
    return f"Sync by {user_mention(who)}"


def scheduled_failure_message(outcome: ScheduledOutcome) -> Message:
    """Why the scheduled run failed (escaped) and the one thing to do about it."""
    cause = outcome.cause or FailureCause.OTHER
    error = outcome.error or "no reason given"
    run = f" (run #{outcome.run_id})" if outcome.run_id is not None else ""
    applied = outcome.result.applied if outcome.result is not None else None
    written = applied.succeeded if applied else 0
    changed = (
        f"Written before it stopped: {plural(written, 'change')}."
        if written
        else "Nothing was changed in Assets."
    )
    lines = [
        f":x: *Scheduled sync failed*{run}: {clip(error, ERROR_LIMIT)}",
        f"*What to do* ({cause_words(cause)} problem): {escape_mrkdwn(cause_fix(cause))}",
        f"{changed} The next scheduled check tries again; `/entra status` shows the runs.",
    ]
    blocks: list[Block] = [section("\n".join(lines))]
    failures = failures_block(applied.outcomes) if applied else None
    if failures is not None:
        blocks.append(failures)
    text = f"Scheduled sync failed: {escape_mrkdwn(' '.join(error.split()))}"
    return message(text, blocks)


def quarantine_alert_message(alert: QuarantineAlert) -> Message:
    """The one alert of a failure streak: the cause, since when, how many runs, the fix."""
    cause = cause_words(alert.cause)
    runs = plural(alert.failures, "scheduled run")
    lines = [
        f":rotating_light: *Scheduled syncs keep failing: {cause} errors*",
        f"{runs} in a row failed, since {slack_date(alert.since)}.",
        f"Last error: {clip(alert.last_error or 'no reason given', ERROR_LIMIT)}",
        f"*Fix:* {escape_mrkdwn(alert.fix)}",
    ]
    text = (
        f"Scheduled syncs keep failing with {cause} errors: {alert.failures:,} runs in a row "
        f"since {when(alert.since)}. {escape_mrkdwn(alert.fix)}"
    )
    return message(text, [section("\n".join(lines)), context(ALERT_NOTE)])
