"""The preview message: what a sync would change, Approve / Reject, and every way it ends.

One summary (counts, the first rows of each list, who asked, expiry, fingerprint)
heads the message in every state, so the thread keeps its meaning after a decision;
only the footer changes: buttons while pending, the outcome afterwards. A plan of any
size fits: the message shows the first rows, and points at the thread for the rest
(the CSV file, or the note saying why Slack refused it: :mod:`bot.blocks.attachments`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from bot.blocks.attachments import PREVIEW_ROWS_NOTE, ROWS_WHERE
from bot.blocks.escape import clip, duration_text, plural, relative_text, slack_date, user_mention
from bot.blocks.message import (
    ROWS_SHOWN,
    Block,
    Message,
    actions,
    button,
    confirm_dialog,
    context,
    divider,
    header,
    lines_text,
    message,
    section,
)
from bot.blocks.runs import counts_fields, counts_phrase, failures_block, result_summary
from bot.ids import Action
from core.runs import Decision, DecisionKind, requests_text
from core.store import PreviewStatus, PreviewView
from core.sync import (
    CREATES,
    INACTIVATIONS,
    MISSING_MANAGERS,
    SECTIONS,
    UNMATCHED,
    UPDATES,
    WARNINGS,
    WRITE_SECTIONS,
    Attr,
    Create,
    FieldChange,
    Inactivation,
    MissingManager,
    Plan,
    PlanWarning,
    Section,
    Unmatched,
    Update,
)

FINGERPRINT_SHOWN = 16  # as many as the CLI prints, so the two can be compared
SECTION_LIMIT = 1800
"""Characters per list: six lists stay well under Slack's ~13k aggregate message cap."""
CHANGES_SHOWN = 3


def preview_csv_filename(preview_id: int) -> str:
    """The name of the CSV the listener attaches: it carries every row the message omits."""
    return f"entra-preview-{preview_id}.csv"


def preview_message(preview: PreviewView, plan: Plan, *, now: datetime) -> Message:
    """A pending preview: the summary, then Approve / Reject (or "Nothing to change")."""
    blocks = _summary(preview, plan, now=now, pending=True)
    if plan.is_empty:
        blocks.append(
            context(
                ":white_check_mark: *Nothing to change*: Assets already matches the "
                "directory, so there is nothing to approve."
            )
        )
        text = f"Preview #{preview.id}: nothing to change. {counts_phrase(plan.counts())}."
        return message(text, blocks)
    blocks.append(actions(_approve_button(preview, plan), _reject_button(preview)))
    text = f"Preview #{preview.id} awaits approval: {counts_phrase(plan.counts())}."
    return message(text, blocks)


def _approve_button(preview: PreviewView, plan: Plan) -> Block:
    *others, last = [plural(len(s.items(plan)), s.one, s.many) for s in WRITE_SECTIONS]
    writes = f"{', '.join(others)} and {last}"
    dialog = confirm_dialog(
        f"Apply preview #{preview.id}?",
        f"This writes {writes} to Assets. Assets and the directory are read again "
        "first; if anything changed since this preview, nothing is applied.",
        confirm="Apply",
    )
    return button("Approve", Action.APPROVE, str(preview.id), style="primary", confirm=dialog)


def _reject_button(preview: PreviewView) -> Block:
    return button("Reject", Action.REJECT, str(preview.id), style="danger")


def _new_preview_button() -> Block:
    return button("New preview", Action.NEW_PREVIEW, "new")


def decided_message(
    preview: PreviewView, plan: Plan, decision: Decision, *, now: datetime
) -> Message:
    """The preview after a click: the buttons give way to who decided and what happened.

    Kinds that leave the preview as it was (DENIED, BUSY) or only report its state
    (ALREADY_DECIDED, NOT_FOUND) render the preview's own status, so calling this for
    them never strips the buttons off a preview that is still pending.
    """
    kind = decision.kind
    who = user_mention(decision.actor)
    at = slack_date(preview.decided_at or now)
    footer: list[Block]
    if kind in (DecisionKind.APPLIED, DecisionKind.PARTIAL):
        footer = _applied_footer(decision, who, at)
        text = _applied_text(preview, decision)
    elif kind is DecisionKind.FAILED:
        footer = _failed_footer(decision, who, at)
        text = f"Preview #{preview.id} was approved but the sync failed; nothing more was applied."
    elif kind is DecisionKind.REJECTED:
        footer = [context(f":no_entry_sign: *Rejected* by {who} {at}; nothing was applied.")]
        text = f"Preview #{preview.id} was rejected; nothing was applied."
    elif kind is DecisionKind.STALE:
        footer = _closed_footer(PreviewStatus.STALE, preview, now, actor=decision.actor)
        text = f"Preview #{preview.id} is out of date; nothing was applied."
    elif kind in (DecisionKind.EXPIRED, DecisionKind.SUPERSEDED):
        status = PreviewStatus(kind.value)
        footer = _closed_footer(status, preview, now)
        text = f"Preview #{preview.id} {status.value}; nothing was applied."
    else:
        return closed_message(preview, plan, preview.status, now=now)
    return message(text, [*_summary(preview, plan, now=now, pending=False), *footer])


def closed_message(
    preview: PreviewView, plan: Plan, status: PreviewStatus, *, now: datetime
) -> Message:
    """The preview in ``status`` without a click to report: expiry, superseding, or a refresh.

    PENDING gives the live message back, buttons included.
    """
    if status is PreviewStatus.PENDING:
        return preview_message(preview, plan, now=now)
    footer = _closed_footer(status, preview, now)
    text = f"Preview #{preview.id}: {_STATUS_WORDS.get(status, status.value)}."
    return message(text, [*_summary(preview, plan, now=now, pending=False), *footer])


_STATUS_WORDS = {
    PreviewStatus.APPROVED: "approved, applying now",
    PreviewStatus.APPLYING: "approved, applying now",
    PreviewStatus.APPLIED: "applied",
    PreviewStatus.REJECTED: "rejected, nothing was applied",
    PreviewStatus.STALE: "out of date, nothing was applied",
    PreviewStatus.EXPIRED: "expired, nothing was applied",
    PreviewStatus.SUPERSEDED: "replaced by a newer preview, nothing was applied",
    PreviewStatus.FAILED: "approved but the sync failed",
}


def _closed_footer(
    status: PreviewStatus, preview: PreviewView, now: datetime, *, actor: str | None = None
) -> list[Block]:
    """One outcome line per status; dead ends also offer a fresh preview."""
    who = user_mention(actor or preview.decided_by)
    at = slack_date(preview.decided_at or now)
    new = actions(_new_preview_button())
    applying = f":arrows_counterclockwise: *Approved* by {who} {at}; applying now."
    lines = {
        PreviewStatus.APPROVED: applying,
        PreviewStatus.APPLYING: applying,
        PreviewStatus.APPLIED: f":white_check_mark: *Applied*, approved by {who} {at}.",
        PreviewStatus.REJECTED: f":no_entry_sign: *Rejected* by {who} {at}; nothing was applied.",
        PreviewStatus.STALE: (
            f":hourglass: *Out of date*: Assets or the directory changed after this preview, "
            f"so nothing was applied when {who} approved it. Generate a new preview to see "
            "the changes as they are now."
        ),
        PreviewStatus.EXPIRED: (
            f":hourglass: *Expired* {slack_date(preview.expires_at)} without a decision; "
            "nothing was applied."
        ),
        PreviewStatus.SUPERSEDED: (
            ":arrows_counterclockwise: *Superseded* by a newer preview; nothing was applied "
            "from this one."
        ),
        PreviewStatus.FAILED: (
            f":x: *Not applied*: approved by {who} {at}, but the sync failed. "
            "`/entra status` shows the run."
        ),
    }
    line = lines.get(status, f"This preview is {clip(status.value, 40)}.")
    offers_new = status in (
        PreviewStatus.STALE,
        PreviewStatus.EXPIRED,
        PreviewStatus.SUPERSEDED,
        PreviewStatus.FAILED,
    )
    return [section(line), new] if offers_new else [context(line)]


def _applied_footer(decision: Decision, who: str, at: str) -> list[Block]:
    result = decision.result
    partial = decision.kind is DecisionKind.PARTIAL
    emoji, word = (":warning:", "Partly applied") if partial else (":white_check_mark:", "Applied")
    if result is None:
        return [context(f"{emoji} *{word}*, approved by {who} {at}.")]
    written, failed = result_summary(result)
    blocks: list[Block] = [
        section(
            f"{emoji} *{word}*, approved by {who} {at}: {plural(written, 'change')} written, "
            f"{failed:,} failed, in {duration_text(result.seconds)}."
        )
    ]
    failures = failures_block(result.applied.outcomes) if result.applied else None
    if failures is not None:
        blocks.append(failures)
    blocks.append(context(f"Run #{result.run_id} · {requests_text(result.requests)}"))
    return blocks


def _applied_text(preview: PreviewView, decision: Decision) -> str:
    if decision.result is None:
        return f"Preview #{preview.id} was applied."
    written, failed = result_summary(decision.result)
    return f"Preview #{preview.id} was applied: {written:,} changes written, {failed:,} failed."


def _failed_footer(decision: Decision, who: str, at: str) -> list[Block]:
    reason = clip(decision.reason or "no reason given", 1500)
    blocks: list[Block] = [section(f":x: *Not applied*: approved by {who} {at}, but {reason}")]
    result = decision.result
    failures = failures_block(result.applied.outcomes) if result and result.applied else None
    if failures is not None:
        blocks.append(failures)
    blocks.append(actions(_new_preview_button()))
    return blocks


# -- the summary every state shares ------------------------------------------------------


def _summary(preview: PreviewView, plan: Plan, *, now: datetime, pending: bool) -> list[Block]:
    """Header, who/when, counts, the first rows of each non-empty list."""
    facts = [
        f"Requested by {user_mention(preview.requested_by)} {slack_date(preview.created_at)}",
    ]
    if pending:
        facts.append(
            f"expires {slack_date(preview.expires_at)} ({relative_text(preview.expires_at, now)})"
        )
    facts.append(f"fingerprint `{clip(preview.fingerprint[:FINGERPRINT_SHOWN], 32)}`")
    blocks: list[Block] = [
        header(f"Preview #{preview.id}: Entra ID → Assets"),
        context(" · ".join(facts)),
        counts_fields(plan),
    ]
    lists = [section(text) for text in _lists(plan)]
    if lists:
        blocks += [divider(), *lists]
    stats = plan.stats
    read = (
        f"Read {plural(stats.atlassian_accounts, 'Atlassian account')}, "
        f"{plural(stats.directory_users, 'directory user')} and "
        f"{plural(stats.owned_employees, 'Employee')}."
    )
    every = f" {PREVIEW_ROWS_NOTE}" if lists else ""
    blocks.append(context(read + every))
    return blocks


def _lists(plan: Plan) -> list[str]:
    """The first rows of each non-empty list, each list as one section's text."""
    return [
        lines_text(
            f"*{s.title}* ({len(items):,})",
            [_ROWS[s](plan, item) for item in items[:ROWS_SHOWN]],
            total=len(items),
            where=ROWS_WHERE,
            limit=SECTION_LIMIT,
        )
        for s in SECTIONS
        if (items := s.items(plan))
    ]


def _create_row(plan: Plan, create: Create) -> str:
    details = [
        create.get(Attr.EMAIL),
        create.get(Attr.JOB_TITLE),
        create.get(Attr.DEPARTMENT),
    ]
    manager = create.get(Attr.MANAGER)
    shown = [clip(d, 80) for d in details if d]
    if manager:
        shown.append("manager " + clip(plan.manager_name(manager) or manager, 80))
    return f"• *{clip(create.label, 80)}*" + (" · " + " · ".join(shown) if shown else "")


def _update_row(plan: Plan, update: Update) -> str:
    return f"• *{clip(update.label, 80)}* ({clip(update.object_key, 30)}): " + _changes(
        plan, update.changes
    )


def _inactivation_row(_: Plan, inactivation: Inactivation) -> str:
    return (
        f"• *{clip(inactivation.label, 80)}* ({clip(inactivation.object_key, 30)}): "
        f"{clip(inactivation.reason.value)}"
    )


def _unmatched_row(_: Plan, unmatched: Unmatched) -> str:
    return (
        f"• *{clip(unmatched.display_name, 80)}* ({clip(unmatched.email or 'email hidden', 80)}): "
        f"{clip(unmatched.reason.value)}"
        + (f" ({clip(unmatched.detail, 120)})" if unmatched.detail else "")
    )


def _missing_manager_row(_: Plan, gap: MissingManager) -> str:
    return (
        f"• *{clip(gap.label, 80)}*: manager {clip(gap.manager_name or gap.manager_id, 80)}: "
        f"{clip(gap.reason.value)}"
    )


def _warning_row(_: Plan, warning: PlanWarning) -> str:
    return f"• *{clip(warning.subject, 80)}*: {clip(warning.message, 200)}"


_ROWS: dict[Section[Any], Callable[[Plan, Any], str]] = {
    CREATES: _create_row,
    UPDATES: _update_row,
    INACTIVATIONS: _inactivation_row,
    UNMATCHED: _unmatched_row,
    MISSING_MANAGERS: _missing_manager_row,
    WARNINGS: _warning_row,
}
"""How one item of each section reads in the preview message."""


def _changes(plan: Plan, changes: Iterable[FieldChange]) -> str:
    listed = list(changes)
    shown = [
        f"{clip(c.attr.value, 40)}: {_value(plan, c, c.before)} → {_value(plan, c, c.after)}"
        for c in listed[:CHANGES_SHOWN]
    ]
    more = f" (+{len(listed) - CHANGES_SHOWN} more)" if len(listed) > CHANGES_SHOWN else ""
    return "; ".join(shown) + more


def _value(plan: Plan, change: FieldChange, value: str | None) -> str:
    """A before/after value; Manager values are Entra ids, shown as the manager's name."""
    if change.attr is Attr.MANAGER:
        value = plan.manager_name(value)
    return "_(empty)_" if value in (None, "") else clip(value, 60)
