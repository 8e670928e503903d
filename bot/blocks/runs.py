"""Runs as people see them: status, live sync progress, the sync report, "already running".

Pure: the caller passes ``now``; dates go out as ``<!date>`` tokens so every reader
sees their own time zone. Run errors and failure reasons come from Assets, Graph or
the directory, so they are escaped like any directory data.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.blocks.escape import (
    clip,
    duration_text,
    escape_mrkdwn,
    plural,
    relative_text,
    slack_date,
    user_mention,
)
from bot.blocks.message import (
    ROWS_SHOWN,
    Block,
    Message,
    context,
    fields_section,
    header,
    lines_text,
    message,
    section,
)
from core.runs import StatusReport, SyncResult, requests_text, when
from core.store import RunKind, RunStatus, RunView
from core.sync import SECTIONS, WRITE_SECTIONS, ChangeOutcome, OutcomeStatus, Plan
from core.version import DISTRIBUTION

RECENT_RUNS_SHOWN = 10

STATUS_EMOJI = {
    RunStatus.RUNNING: ":arrows_counterclockwise:",
    RunStatus.SUCCEEDED: ":white_check_mark:",
    RunStatus.PARTIAL: ":warning:",
    RunStatus.FAILED: ":x:",
    RunStatus.INTERRUPTED: ":octagonal_sign:",
    RunStatus.CANCELLED: ":no_entry_sign:",
}
KIND_WORDS = {
    RunKind.PREVIEW: "preview",
    RunKind.MANUAL: "manual sync",
    RunKind.SCHEDULED: "scheduled sync",
}
# (counts key, singular, plural) of what a one-line run summary shows.
_RUN_COUNTS = (
    *((s.key, s.one, s.many) for s in WRITE_SECTIONS),
    ("applied", "written", "written"),
    ("failed", "failed", "failed"),
)


def counts_phrase(counts: dict[str, int]) -> str:
    """``3 creates, 1 update, 0 inactivations, …``: the six plan counts in words."""
    return ", ".join(plural(counts.get(s.key, 0), s.one, s.many) for s in SECTIONS)


def counts_fields(plan: Plan) -> Block:
    """The six plan counts as a two-column grid, the first thing a reviewer reads."""
    return fields_section(plan_count_fields(plan))


def plan_count_fields(plan: Plan | None) -> list[str]:
    """``*Creates*\n3`` and so on, one grid cell per section (zeros without a plan)."""
    counts = plan.counts() if plan is not None else {}
    return [f"*{s.label}*\n{counts.get(s.key, 0):,}" for s in SECTIONS]


def run_line(run: RunView | None, now: datetime) -> str:
    """One run on one line: kind, status, when, who, how long, what it counted."""
    if run is None:
        return "never"
    emoji = STATUS_EMOJI.get(run.status, "•")
    kind = KIND_WORDS.get(run.kind, escape_mrkdwn(run.kind.value))
    parts = [
        f"{emoji} #{run.id} {kind} {escape_mrkdwn(run.status.value)}",
        f"{slack_date(run.started_at)} ({relative_text(run.started_at, now)})",
        f"by {user_mention(run.requested_by)}",
    ]
    if run.finished_at is not None:
        parts.append(duration_text((run.finished_at - run.started_at).total_seconds()))
    elif run.status is RunStatus.RUNNING:
        parts.append("running for " + duration_text((now - run.started_at).total_seconds()))
    counts = ", ".join(
        plural(run.counts[key], one, many) for key, one, many in _RUN_COUNTS if run.counts.get(key)
    )
    if counts:
        parts.append(counts)
    line = " · ".join(parts)
    return line + (f"\n    _{clip(run.error, 200)}_" if run.error else "")


def status_message(report: StatusReport, *, next_check: str | None, now: datetime) -> Message:
    """``/entra status``: is it configured, when did it last run, is it running, what next."""
    recent = [f"• {run_line(run, now)}" for run in report.recent[:RECENT_RUNS_SHOWN]]
    current = "\n".join(run_line(run, now) for run in report.running) or "none"
    blocks: list[Block] = [
        header("Entra → Assets sync status"),
        section(connection_line(report)),
        fields_section(
            [
                f"*Last manual sync*\n{run_line(report.last_manual, now)}",
                f"*Last scheduled sync*\n{run_line(report.last_scheduled, now)}",
                f"*Current run*\n{current}",
                f"*Next scheduled check*\n{clip(next_check) if next_check else 'not scheduled'}",
            ]
        ),
    ]
    if recent:
        blocks.append(section(lines_text("*Recent runs*", recent, total=len(report.recent))))
    blocks.append(context(f"As of {slack_date(now)} · {DISTRIBUTION} {report.version}"))
    text = (
        f"Last manual sync: {_run_plain(report.last_manual)}. "
        f"Last scheduled sync: {_run_plain(report.last_scheduled)}. "
        f"Current run: {', '.join(_run_plain(r) for r in report.running) or 'none'}."
    )
    return message(text, blocks)


def connection_line(report: StatusReport) -> str:
    """The stored connection without its secret, or how to create one."""
    conn = report.connection
    if conn is None:
        return (
            ":grey_question: The Entra connection is *not configured*: "
            "an admin runs `/entra setup`."
        )
    return (
        f":link: Tenant `{clip(conn.tenant_id, 64)}` · client `{clip(conn.client_id, 64)}` · "
        f"scheduled sync every {plural(conn.cadence_days, 'day')}"
    )


def _run_plain(run: RunView | None) -> str:
    """A run for the notification text: plain words, no tokens, escaped."""
    if run is None:
        return "never"
    return escape_mrkdwn(f"#{run.id} {run.status.value} at {when(run.started_at)}")


def sync_progress_message(actor: str, step: str, done: int, total: int) -> Message:
    """The one message a running sync edits in place; ``total`` 0 means "no count yet"."""
    who = f" started by {user_mention(actor)}" if actor else ""
    lines = [f":arrows_counterclockwise: *Sync in progress*{who}", clip(step, 300)]
    blocks: list[Block] = [section("\n".join(lines))]
    text = f"Sync in progress: {escape_mrkdwn(step)}"
    if total > 0:
        done = max(0, min(done, total))
        percent = done * 100 // total
        blocks.append(context(f"`{_bar(done, total)}` {done:,} of {total:,} changes ({percent}%)"))
        text += f" ({done:,}/{total:,})"
    return message(text, blocks)


def _bar(done: int, total: int, width: int = 20) -> str:
    filled = done * width // total if total else 0
    return "█" * filled + "░" * (width - filled)


def failure_lines(outcomes: Sequence[ChangeOutcome], limit: int = ROWS_SHOWN) -> list[str]:
    """The first ``limit`` failed writes with their reasons, ready for :func:`lines_text`."""
    failed = [o for o in outcomes if o.status is OutcomeStatus.FAILED]
    return [
        f"• {o.kind.value} *{clip(o.label, 80)}*"
        + (f" ({clip(o.object_key, 30)})" if o.object_key else "")
        + f": {clip(o.detail or 'no reason given', 250)}"
        for o in failed[:limit]
    ]


def failures_block(outcomes: Sequence[ChangeOutcome]) -> Block | None:
    """A section listing the first failures, or None when every write succeeded."""
    total = sum(1 for o in outcomes if o.status is OutcomeStatus.FAILED)
    if not total:
        return None
    title = f":x: *{plural(total, 'change')} failed*"
    return section(lines_text(title, failure_lines(outcomes), total=total))


def result_summary(result: SyncResult) -> tuple[int, int]:
    """(written, failed) of a sync result; a run that wrote nothing counts zero of each."""
    applied = result.applied
    return (applied.succeeded, applied.failed) if applied else (0, 0)


def sync_report_message(result: SyncResult, actor: str) -> Message:
    """The report a finished sync leaves behind: counts, failures, duration, requests."""
    who = user_mention(actor, unknown="the scheduler")
    written, failed = result_summary(result)
    took = duration_text(result.seconds)
    footer = f"Run #{result.run_id} · {took} · {requests_text(result.requests)}"
    if result.status is RunStatus.CANCELLED:
        line = f":no_entry_sign: Sync #{result.run_id} by {who} was cancelled; nothing was written."
        return message(line, [section(line)])
    if result.plan.is_empty and not failed:
        line = (
            f":white_check_mark: Sync #{result.run_id} by {who}: nothing to change, "
            f"Assets already matches the directory ({took}, {requests_text(result.requests)})."
        )
        return message(line, [section(line)])
    emoji = STATUS_EMOJI.get(result.status, "•")
    headline = {
        RunStatus.SUCCEEDED: "Sync complete",
        RunStatus.PARTIAL: "Sync complete with failures",
        RunStatus.FAILED: "Sync failed",
    }.get(result.status, f"Sync {escape_mrkdwn(result.status.value)}")
    lead = (
        f"{emoji} *{headline}* (run #{result.run_id}, by {who}): "
        f"{plural(written, 'change')} written, {failed:,} failed."
    )
    blocks: list[Block] = [section(lead), counts_fields(result.plan)]
    failures = failures_block(result.applied.outcomes) if result.applied else None
    if failures is not None:
        blocks.append(failures)
    blocks.append(context(footer))
    text = f"{headline}: run #{result.run_id}, {written:,} written, {failed:,} failed, {took}."
    return message(text, blocks)


def sync_failed_message(actor: str, error: str) -> Message:
    """A sync that stopped before writing (a read error): the reason, escaped, and what next."""
    who = user_mention(actor, unknown="the scheduler")
    line = (
        f":x: *Sync by {who} failed* before writing anything: {clip(error, 1500)}\n"
        "Nothing was changed in Assets. `/entra status` shows the run history."
    )
    return message(f"Sync failed: {escape_mrkdwn(error)}", [section(line)])


def busy_message(holder: RunView) -> Message:
    """The reply when a run is already going: who holds it and since when, so people wait."""
    kind = KIND_WORDS.get(holder.kind, escape_mrkdwn(holder.kind.value))
    who = user_mention(holder.requested_by, unknown="the scheduler")
    line = (
        f":hourglass_flowing_sand: A sync is already running, started by {who} at "
        f"{slack_date(holder.started_at)} ({kind}, run #{holder.id}). "
        "Try again when it has finished."
    )
    text = (
        f"A sync is already running, started by {who} at {when(holder.started_at)} "
        f"({kind}, run #{holder.id}). Try again when it has finished."
    )
    return message(text, [section(line)])
