"""The CLI's text preview and the CSV export of a plan, pinned for every section."""

from __future__ import annotations

import csv
import io

import pytest

from core.sync import Attr, Create, Plan, plan_csv, plan_text
from tests.test_plan_support import golden_plan

PLAN_TEXT = (
    "Preview",
    "  Creates                             2",
    "  Updates                             2",
    "  Inactivations                       4",
    "  Unmatched Atlassian accounts        5",
    "  Missing manager links               3",
    "  Warnings                            7",
    "",
    "Creates:",
    "  + Zoë Ångström <value of Email>",
    "  + Bo <>",
    "",
    "Updates:",
    (
        "  ~ Cy (ENTRA-9): Job Title: (empty) -> CTO; Department: R&D -> (empty); "
        "Manager: Zoë Ångström -> Bo"
    ),
    "  ~ Di (ENTRA-10): ",
    "",
    "Inactivations:",
    "  - Gone 0 (ENTRA-20): Atlassian account inactive",
    "  - Gone 1 (ENTRA-21): Atlassian account no longer exists",
    "  ... and 2 more (use --csv for all)",
    "",
    "Unmatched Atlassian accounts:",
    "  ? Account 0 <hidden>: email hidden by profile visibility",
    "  ? Account 1 <a1@example.com>: no directory user with this email",
    "  ... and 3 more (use --csv for all)",
    "",
    "Missing manager links:",
    "  ! Report 0: manager Manager 0: manager has no Atlassian account",
    "  ! Report 1: manager Manager 1: manager is an organisational contact",
    "  ... and 1 more (use --csv for all)",
    "",
    "Warnings:",
    "  * subject 0: message duplicate_email",
    "  * subject 1: message case_variant_email",
    "  ... and 5 more (use --csv for all)",
    "",
    "Fingerprint 2f0beb710ce82e81",
)
PLAN_CSV = (
    "section,subject,id,field,before,after,reason",
    "create,Zoë Ångström,u-zoe,Entra User ID,,value of Entra User ID,",
    "create,Zoë Ångström,u-zoe,Name,,value of Name,",
    "create,Zoë Ångström,u-zoe,Email,,value of Email,",
    "create,Zoë Ångström,u-zoe,Job Title,,value of Job Title,",
    "create,Zoë Ångström,u-zoe,Atlassian Account ID,,value of Atlassian Account ID,",
    "create,Zoë Ångström,u-zoe,Jira User,,value of Jira User,",
    "create,Zoë Ångström,u-zoe,Active,,value of Active,",
    "create,Zoë Ångström,u-zoe,Department,,value of Department,",
    "create,Zoë Ångström,u-zoe,Manager,,value of Manager,",
    (
        "create,Zoë Ångström,u-zoe,Manager Atlassian Account ID,,"
        "value of Manager Atlassian Account ID,"
    ),
    "create,Bo,u-bo,Name,,Bo,",
    "create,Bo,u-bo,Job Title,,,",
    "create,Bo,u-bo,Manager,,Zoë Ångström,",
    "update,Cy,ENTRA-9,Job Title,(empty),CTO,",
    "update,Cy,ENTRA-9,Department,R&D,(empty),",
    "update,Cy,ENTRA-9,Manager,Zoë Ångström,Bo,",
    "inactivate,Gone 0,ENTRA-20,Active,true,false,Atlassian account inactive",
    "inactivate,Gone 0,ENTRA-20,Manager,Cy,(empty),Atlassian account inactive",
    "inactivate,Gone 1,ENTRA-21,Active,true,false,Atlassian account no longer exists",
    "inactivate,Gone 2,ENTRA-22,Active,true,false,directory account disabled",
    "inactivate,Gone 3,ENTRA-23,Active,true,false,directory user deleted or not found",
    "unmatched,Account 0,acc-0,email,,,email hidden by profile visibility",
    "unmatched,Account 1,acc-1,email,,a1@example.com,no directory user with this email",
    "unmatched,Account 2,acc-2,email,,a2@example.com,several directory users answer to this email",
    "unmatched,Account 3,acc-3,email,,a3@example.com,email shared by several Atlassian accounts",
    (
        "unmatched,Account 4,acc-4,email,,a4@example.com,"
        "directory user already linked to another Atlassian account"
    ),
    "missing_manager,Report 0,u-m0,manager,,Manager 0,manager has no Atlassian account",
    "missing_manager,Report 1,u-m1,manager,,Manager 1,manager is an organisational contact",
    "missing_manager,Report 2,u-m2,manager,,mgr-2,manager not found in the directory",
    "warning,subject 0,,duplicate_email,,,message duplicate_email",
    "warning,subject 1,,case_variant_email,,,message case_variant_email",
    "warning,subject 2,,guest,,,message guest",
    "warning,subject 3,,duplicate_owned_object,,,message duplicate_owned_object",
    "warning,subject 4,,unowned_object_conflict,,,message unowned_object_conflict",
    "warning,subject 5,,manager_cycle,,,message manager_cycle",
    "warning,subject 6,,no_mail,,,message no_mail",
)


def test_plan_text_lists_counts_then_each_section_in_order() -> None:
    """Counts first, then each non-empty section capped at ``limit`` rows, then the hash."""
    assert plan_text(golden_plan(), limit=2).split("\n") == list(PLAN_TEXT)


def test_plan_csv_has_one_row_per_change_or_finding() -> None:
    """Every row of every section, in section order, with manager ids shown as names."""
    assert plan_csv(golden_plan()) == "".join(f"{row}\r\n" for row in PLAN_CSV)


def _created(label: str, title: str = "Engineer") -> Plan:
    values = ((Attr.FULL_NAME, label), (Attr.JOB_TITLE, title))
    return Plan(creates=(Create("u-1", label, values),))


def test_a_name_cannot_rewrite_the_terminal() -> None:
    """Escape sequences, new lines and bidi overrides in a name print as visible codes."""
    text = plan_text(_created("Eve\x1b[2J\nApplied: nothing\u202e"))
    line = next(line for line in text.splitlines() if line.startswith("  + Eve"))
    assert line == "  + Eve\\u001b[2J\\u000aApplied: nothing\\u202e <>"
    assert "\x1b" not in text and "\u202e" not in text


@pytest.mark.parametrize(
    "start", ["=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20"]
)
def test_csv_cells_that_a_spreadsheet_would_run_are_quoted(start: str) -> None:
    rows = list(csv.reader(io.StringIO(plan_csv(_created("Mallory", f"{start}cmd|' /C calc'!A0")))))
    titles = [row for row in rows if row[3] == Attr.JOB_TITLE.value]
    assert titles and all(row[5].startswith("'" + start) for row in titles)


def test_ordinary_cells_are_left_alone() -> None:
    rows = list(csv.reader(io.StringIO(plan_csv(_created("Ann", "Engineer")))))
    assert any(row[5] == "Engineer" for row in rows)
