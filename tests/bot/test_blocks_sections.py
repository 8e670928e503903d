"""Every plan section in the Slack preview and the scheduled report: titles, order, rows."""

from __future__ import annotations

from bot.blocks import home_view, preview_message, scheduled_report_message
from bot.blocks.runs import counts_phrase
from core.config import TeamSettings
from core.runs import ScheduledKind, ScheduledOutcome
from tests.bot.test_blocks_support import NOW, preview_view, status_report, sync_result, texts
from tests.test_plan_support import golden_plan

COUNTS_GRID = (
    "*Creates*\n2",
    "*Updates*\n2",
    "*Inactivations*\n4",
    "*Unmatched accounts*\n5",
    "*Missing manager links*\n3",
    "*Warnings*\n7",
)
LISTS = (
    (
        "*Creates* (2)\n"
        "• *Zoë Ångström* · value of Email · value of Job Title · value of Department · "
        "manager value of Manager\n"
        "• *Bo* · manager Zoë Ångström"
    ),
    (
        "*Updates* (2)\n"
        "• *Cy* (ENTRA-9): Job Title: _(empty)_ → CTO; Department: R&amp;D → _(empty)_; "
        "Manager: Zoë Ångström → Bo\n"
        "• *Di* (ENTRA-10): "
    ),
    (
        "*Inactivations* (4)\n"
        "• *Gone 0* (ENTRA-20): Atlassian account inactive\n"
        "• *Gone 1* (ENTRA-21): Atlassian account no longer exists\n"
        "• *Gone 2* (ENTRA-22): directory account disabled\n"
        "• *Gone 3* (ENTRA-23): directory user deleted or not found"
    ),
    (
        "*Unmatched Atlassian accounts* (5)\n"
        "• *Account 0* (email hidden): email hidden by profile visibility (detail 0 "
        '"quoted")\n'
        "• *Account 1* (a1@example.com): no directory user with this email\n"
        "• *Account 2* (a2@example.com): several directory users answer to this email "
        '(detail 2 "quoted")\n'
        "• *Account 3* (a3@example.com): email shared by several Atlassian accounts\n"
        "• *Account 4* (a4@example.com): directory user already linked to another Atlassian "
        'account (detail 4 "quoted")'
    ),
    (
        "*Missing manager links* (3)\n"
        "• *Report 0*: manager Manager 0: manager has no Atlassian account\n"
        "• *Report 1*: manager Manager 1: manager is an organisational contact\n"
        "• *Report 2*: manager mgr-2: manager not found in the directory"
    ),
    (
        "*Warnings* (7)\n"
        "• *subject 0*: message duplicate_email\n"
        "• *subject 1*: message case_variant_email\n"
        "• *subject 2*: message guest\n"
        "• *subject 3*: message duplicate_owned_object\n"
        "• *subject 4*: message unowned_object_conflict\n"
        "… and 2 more (see the thread)"
    ),
)
PREVIEW_TEXT = (
    "Preview #7 awaits approval: 2 creates, 2 updates, 4 inactivations, 5 unmatched "
    "accounts, 3 missing manager links, 7 warnings."
)


def test_preview_shows_the_counts_grid_then_each_section_in_order() -> None:
    plan = golden_plan()
    msg = preview_message(preview_view(plan), plan, now=NOW)
    shown = texts(msg.blocks)
    assert shown[2:8] == list(COUNTS_GRID)
    assert shown[8:14] == list(LISTS)
    assert msg.text == PREVIEW_TEXT


def test_approving_names_the_three_kinds_of_write() -> None:
    plan = golden_plan()
    shown = texts(preview_message(preview_view(plan), plan, now=NOW).blocks)
    assert (
        "This writes 2 creates, 2 updates and 4 inactivations to Assets. Assets and the "
        "directory are read again first; if anything changed since this preview, nothing "
        "is applied."
    ) in shown


def test_home_lists_a_pending_preview_by_its_writes() -> None:
    plan = golden_plan()
    view = home_view(
        user_id="U0VIEWER",
        report=status_report(),
        pending=[preview_view(plan)],
        team=TeamSettings("C0OPS", ("U0APPROVE",)),
        is_admin=False,
        is_approver=False,
        now=NOW,
    )
    (pending,) = [t for t in texts(view["blocks"]) if t.startswith("*Pending previews*")]
    assert pending.split("\n")[1].startswith(
        "• *#7* by <@U0REQUEST>: 8 changes (2 creates, 2 updates, 4 inactivations) · expires "
    )


def test_counts_phrase_names_every_section_even_when_empty() -> None:
    assert counts_phrase({"updates": 1}) == (
        "0 creates, 1 update, 0 inactivations, 0 unmatched accounts, "
        "0 missing manager links, 0 warnings"
    )


def test_scheduled_report_counts_every_section_then_the_outcome() -> None:
    plan = golden_plan()
    outcome = ScheduledOutcome(
        kind=ScheduledKind.APPLIED,
        run_id=41,
        plan=plan,
        result=sync_result(plan),
        requests={"graph": 1},
        seconds=1.0,
    )
    grid = texts(scheduled_report_message(outcome).blocks)[1:9]
    assert grid == [*COUNTS_GRID, "*Applied*\n3", "*Failed*\n0"]
