"""The App Home tab: a dashboard first (pending previews, runs), settings behind buttons.

Each person gets their own view: Run Manual Sync only for approvers, Create Schema and
Settings only for admins, because a button that always answers "not allowed" is noise.
The listener still checks permissions on every click.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.blocks.escape import channel_mention, clip, plural, relative_text, slack_date, user_mention
from bot.blocks.message import (
    MAX_VIEW_BLOCKS,
    ROWS_SHOWN,
    Block,
    actions,
    button,
    context,
    divider,
    fields_section,
    fit_blocks,
    header,
    lines_text,
    section,
)
from bot.blocks.runs import run_line
from bot.ids import Action
from core.config import TeamSettings
from core.runs import StatusReport
from core.store import PreviewView
from core.sync import WRITE_SECTIONS, Plan
from core.version import DISTRIBUTION

APPROVERS_SHOWN = 20
SCHEDULE_LIMIT = 1000


def home_view(
    *,
    user_id: str,
    report: StatusReport,
    pending: Sequence[PreviewView],
    team: TeamSettings,
    is_admin: bool,
    is_approver: bool,
    now: datetime,
    schedule: str | None = None,
) -> dict[str, Any]:
    """The Home tab for ``user_id``, ready for ``views.publish``.

    ``schedule`` is the plain-text schedule line (next check, whether it will sync, any
    quarantine); it sits near the top because a failing schedule is the first thing
    anyone opening the tab should learn.
    """
    blocks: list[Block] = [
        header("Entra ID → Assets sync"),
        context(_role_line(user_id, is_admin=is_admin, is_approver=is_approver)),
    ]
    if schedule:
        blocks.append(section(f":calendar: *Scheduled sync*: {clip(schedule, SCHEDULE_LIMIT)}"))
    blocks += [
        actions(*_buttons(is_admin=is_admin, is_approver=is_approver)),
        divider(),
        section(_pending_text(pending, now)),
        divider(),
        fields_section(
            [
                f"*Last manual sync*\n{run_line(report.last_manual, now)}",
                f"*Last scheduled sync*\n{run_line(report.last_scheduled, now)}",
                "*Current run*\n" + ("\n".join(run_line(r, now) for r in report.running) or "none"),
            ]
        ),
    ]
    recent = [f"• {run_line(run, now)}" for run in report.recent[:ROWS_SHOWN]]
    if recent:
        blocks.append(section(lines_text("*Recent runs*", recent)))
    blocks += [divider(), section(_configuration_text(report, team))]
    blocks.append(context(f"Updated {slack_date(now)} · {DISTRIBUTION} {report.version}"))
    return {"type": "home", "blocks": fit_blocks(blocks, MAX_VIEW_BLOCKS, keep_last=0)}


def _role_line(user_id: str, *, is_admin: bool, is_approver: bool) -> str:
    """Why this person sees the buttons they see."""
    roles = [r for r, on in (("an admin", is_admin), ("an approver", is_approver)) if on]
    who = user_mention(user_id, unknown="you")
    if not roles:
        return (
            f"Hi {who}. You can generate previews; approvers decide on them and admins "
            "change the setup."
        )
    return f"Hi {who}. You are {' and '.join(roles)} for this sync."


def _buttons(*, is_admin: bool, is_approver: bool) -> list[Block]:
    buttons = [button("Generate Preview", Action.NEW_PREVIEW, "home", style="primary")]
    if is_approver:
        buttons.append(button("Run Manual Sync", Action.RUN_SYNC, "home"))
    if is_admin:
        buttons.append(button("Create Schema", Action.CREATE_SCHEMA, "home"))
        buttons.append(button("Settings", Action.OPEN_SETTINGS, "home"))
    buttons.append(button("Explain a Person", Action.OPEN_EXPLAIN, "home"))
    return buttons


def _pending_text(pending: Sequence[PreviewView], now: datetime) -> str:
    """Previews awaiting a decision; the buttons are on each preview's channel message."""
    if not pending:
        return "*Pending previews*\nNone waiting for approval."
    rows = [
        f"• *#{p.id}* by {user_mention(p.requested_by)}: "
        f"{plural(p.plan.write_count, 'change')} ({_writes(p.plan)}) · expires "
        f"{slack_date(p.expires_at)} ({relative_text(p.expires_at, now)})"
        for p in pending[:ROWS_SHOWN]
    ]
    return lines_text(
        f"*Pending previews* ({len(pending):,})", rows, total=len(pending), where="pending"
    )


def _writes(plan: Plan) -> str:
    """``2 creates, 1 update, 0 inactivations``."""
    return ", ".join(plural(len(s.items(plan)), s.one, s.many) for s in WRITE_SECTIONS)


def _configuration_text(report: StatusReport, team: TeamSettings) -> str:
    """The setup without secrets: enough to spot a wrong tenant or a missing approver."""
    conn = report.connection
    lines = ["*Configuration*"]
    if conn is None:
        lines.append("Entra connection: *not configured*; an admin sets it up under Settings.")
    else:
        lines += [
            f"Tenant ID: `{clip(conn.tenant_id, 64)}`",
            f"Client ID: `{clip(conn.client_id, 64)}`",
            "Client secret: " + ("stored (never shown)" if conn.has_secret else "*missing*"),
            f"Scheduled sync: every {plural(conn.cadence_days, 'day')}",
        ]
    lines.append(
        "Report channel: " + channel_mention(team.report_channel, unknown="not configured")
    )
    approvers = [user_mention(a) for a in team.approvers[:APPROVERS_SHOWN]]
    hidden = len(team.approvers) - len(approvers)
    listed = ", ".join(approvers) + (f" and {hidden:,} more" if hidden > 0 else "")
    lines.append("Approvers: " + (listed or "*none*; nobody can approve previews yet"))
    return "\n".join(lines)
