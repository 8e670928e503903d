"""A plan with every section and every kind of value, for the tests that pin its forms."""

from __future__ import annotations

from core.sync import Attr, Create, FieldChange, Inactivation, Plan, Update
from core.sync.plan import (
    InactivationReason,
    ManagerGap,
    MissingManager,
    PlanStats,
    PlanWarning,
    Unmatched,
    UnmatchedReason,
    WarningCode,
)

PINNED_WARNING_CODES = tuple(WarningCode)[:7]
"""The codes the pinned forms were written with. A code added later must not change
them: it round-trips in ``test_every_warning_code_round_trips`` instead."""


def golden_plan() -> Plan:
    """Every section, every enum member, ``None`` values, manager changes, non-ASCII text."""
    create_values = tuple((attr, f"value of {attr.value}") for attr in Attr)
    return Plan(
        creates=(
            Create("u-zoe", "Zoë Ångström", create_values),
            Create(
                "u-bo",
                "Bo",
                ((Attr.FULL_NAME, "Bo"), (Attr.JOB_TITLE, None), (Attr.MANAGER, "u-zoe")),
            ),
        ),
        updates=(
            Update(
                "101",
                "ENTRA-9",
                "u-cy",
                "Cy",
                (
                    FieldChange(Attr.JOB_TITLE, None, "CTO"),
                    FieldChange(Attr.DEPARTMENT, "R&D", None),
                    FieldChange(Attr.MANAGER, "u-zoe", "u-bo"),
                ),
            ),
            Update("102", "ENTRA-10", "u-di", "Di", ()),
        ),
        inactivations=tuple(
            Inactivation(
                str(200 + n),
                f"ENTRA-{20 + n}",
                f"u-gone-{n}",
                f"Gone {n}",
                reason,
                (FieldChange(Attr.ACTIVE, "true", "false"),)
                + ((FieldChange(Attr.MANAGER, "u-cy", None),) if n == 0 else ()),
            )
            for n, reason in enumerate(InactivationReason)
        ),
        unmatched=tuple(
            Unmatched(
                f"acc-{n}",
                f"Account {n}",
                None if reason is UnmatchedReason.EMAIL_HIDDEN else f"a{n}@example.com",
                reason,
                "" if n % 2 else f'detail {n} "quoted"',
            )
            for n, reason in enumerate(UnmatchedReason)
        ),
        missing_managers=tuple(
            MissingManager(
                f"u-m{n}",
                f"Report {n}",
                f"mgr-{n}",
                None if reason is ManagerGap.NOT_FOUND else f"Manager {n}",
                reason,
            )
            for n, reason in enumerate(ManagerGap)
        ),
        warnings=tuple(
            PlanWarning(code, f"subject {n}", f"message {code.value}")
            for n, code in enumerate(PINNED_WARNING_CODES)
        ),
        stats=PlanStats(atlassian_accounts=12, directory_users=34, owned_employees=5),
        manager_names=(("u-zoe", "Zoë Ångström"), ("u-bo", "Bo"), ("u-cy", "Cy")),
    )
