"""Planner rules for inactivation, managers, warnings, stats and stability (rules 6 to 10)."""

from __future__ import annotations

import random

import pytest

from core.sync import AtlassianAccount, Attr, DirectoryUser, EmployeeRecord, FieldChange, Plan
from core.sync.plan import InactivationReason, ManagerGap, WarningCode
from tests.test_planner_support import account, apply, employee, plan_for, user

# -- rule 6: inactivation ----------------------------------------------------------------


def test_plan_inactivates_when_atlassian_account_inactive() -> None:
    """An owned Employee whose account went inactive is inactivated, not deleted."""
    plan = plan_for([account("alice", active=False)], [user("alice")], [employee("E-1", "alice")])
    assert [(i.reason, i.changes) for i in plan.inactivations] == [
        (InactivationReason.ATLASSIAN_INACTIVE, (FieldChange(Attr.ACTIVE, "true", "false"),))
    ]
    assert plan.creates == ()
    assert plan.updates == ()


def test_plan_inactivates_when_atlassian_account_gone() -> None:
    """An owned Employee whose account is absent from the accounts is ATLASSIAN_GONE."""
    plan = plan_for([], [user("alice")], [employee("E-1", "alice")])
    assert [i.reason for i in plan.inactivations] == [InactivationReason.ATLASSIAN_GONE]
    assert plan.inactivations[0].changes == (FieldChange(Attr.ACTIVE, "true", "false"),)


def test_plan_inactivates_when_directory_user_gone() -> None:
    """An owned Employee whose directory user is absent changes only Active."""
    stale = employee("E-1", "alice", DEPARTMENT="Sales")
    plan = plan_for([account("alice")], [], [stale])
    assert [(i.reason, i.changes) for i in plan.inactivations] == [
        (InactivationReason.DIRECTORY_GONE, (FieldChange(Attr.ACTIVE, "true", "false"),))
    ]


def test_plan_inactivates_disabled_directory_user_with_other_changes() -> None:
    """A disabled directory user is inactivated, with any other differing field included."""
    stale = employee("E-1", "alice", DEPARTMENT="Sales")
    plan = plan_for([account("alice")], [user("alice", enabled=False)], [stale])
    assert [(i.reason, i.changes) for i in plan.inactivations] == [
        (
            InactivationReason.DIRECTORY_DISABLED,
            (
                FieldChange(Attr.ACTIVE, "true", "false"),
                FieldChange(Attr.DEPARTMENT, "Sales", "Engineering"),
            ),
        )
    ]


@pytest.mark.parametrize(
    ("accounts", "directory", "reason"),
    [
        ([], [], InactivationReason.DIRECTORY_GONE),
        ([], [user("alice", enabled=False)], InactivationReason.DIRECTORY_DISABLED),
        ([account("alice", active=False)], [user("alice")], InactivationReason.ATLASSIAN_INACTIVE),
        (
            [account("alice", active=False)],
            [user("alice", enabled=False)],
            InactivationReason.DIRECTORY_DISABLED,
        ),
    ],
)
def test_plan_inactivation_reason_follows_precedence(
    accounts: list[AtlassianAccount], directory: list[DirectoryUser], reason: InactivationReason
) -> None:
    """Directory gone, then disabled, then Atlassian gone, then inactive decides the reason."""
    plan = plan_for(accounts, directory, [employee("E-1", "alice")])
    assert [i.reason for i in plan.inactivations] == [reason]


def test_plan_already_inactive_employee_is_left_alone() -> None:
    """An Employee already inactive, with nothing else changed, needs nothing."""
    employees = [employee("E-1", "alice", active="false"), employee("E-2", "bob", active="false")]
    plan = plan_for([account("alice", active=False)], [user("alice")], employees)
    assert plan.is_empty


def test_plan_already_inactive_employee_with_stale_fields_is_updated() -> None:
    """An already inactive Employee whose directory data changed gets a plain Update."""
    stale = employee("E-1", "alice", active="false", DEPARTMENT="Sales")
    plan = plan_for([account("alice", active=False)], [user("alice")], [stale])
    assert plan.inactivations == ()
    assert plan.updates[0].changes == (FieldChange(Attr.DEPARTMENT, "Sales", "Engineering"),)


# -- rule 7: manager links ---------------------------------------------------------------


def test_plan_links_manager_with_inactive_account() -> None:
    """A manager whose Employee is linked to an inactive account is still linked."""
    directory = [user("alice", manager="bob"), user("bob")]
    employees = [employee("E-2", "bob", active="false")]
    plan = plan_for([account("alice"), account("bob", active=False)], directory, employees)
    assert plan.creates[0].get(Attr.MANAGER) == "u-bob"
    assert plan.creates[0].get(Attr.MANAGER_ACCOUNT_ID) == "acc-bob"
    assert plan.missing_managers == ()


@pytest.mark.parametrize(
    ("directory", "gap"),
    [
        ([user("alice", manager="ext", contact_manager=True)], ManagerGap.CONTACT),
        ([user("alice", manager="bob")], ManagerGap.NOT_FOUND),
        ([user("alice", manager="bob"), user("bob")], ManagerGap.NO_ATLASSIAN_ACCOUNT),
    ],
)
def test_plan_reports_manager_it_cannot_link(
    directory: list[DirectoryUser], gap: ManagerGap
) -> None:
    """A set manager that is a contact, not found or without an account is a MissingManager."""
    plan = plan_for([account("alice")], directory)
    assert plan.creates[0].get(Attr.MANAGER) is None
    assert [(m.entra_user_id, m.label, m.reason) for m in plan.missing_managers] == [
        ("u-alice", "Alice", gap)
    ]
    assert plan.missing_managers[0].manager_name in {"Ext", "Bob"}


def test_plan_user_without_manager_is_not_missing_one() -> None:
    """A user with no manager at all is not a missing manager link."""
    plan = plan_for([account("alice")], [user("alice")])
    assert plan.missing_managers == ()


def test_plan_manager_gone_from_plan_is_unlinked() -> None:
    """A stored manager whose Employee lost its account is cleared and reported."""
    directory = [user("alice", manager="bob"), user("bob")]
    employees = [
        employee("E-1", "alice", manager_key="E-2", manager_account="acc-bob"),
        employee("E-2", "bob", active="false"),
    ]
    plan = plan_for([account("alice")], directory, employees)
    assert plan.updates[0].changes == (
        FieldChange(Attr.MANAGER, "u-bob", None),
        FieldChange(Attr.MANAGER_ACCOUNT_ID, "acc-bob", None),
    )
    assert [m.reason for m in plan.missing_managers] == [ManagerGap.NO_ATLASSIAN_ACCOUNT]


def test_plan_self_manager_is_not_linked_and_warned() -> None:
    """A user who is their own manager gets no Manager and one MANAGER_CYCLE warning."""
    plan = plan_for([account("alice")], [user("alice", manager="alice")])
    assert plan.creates[0].get(Attr.MANAGER) is None
    assert plan.missing_managers == ()
    assert [w.code for w in plan.warnings] == [WarningCode.MANAGER_CYCLE]


def test_plan_manager_cycle_is_linked_and_warned_once() -> None:
    """A two-person manager cycle is linked both ways and warned about exactly once."""
    directory = [
        user("alice", manager="bob"),
        user("bob", manager="alice"),
        user("carol", manager="alice"),
    ]
    plan = plan_for([account("alice"), account("bob"), account("carol")], directory)
    managers = {c.entra_user_id: c.get(Attr.MANAGER) for c in plan.creates}
    assert managers == {"u-alice": "u-bob", "u-bob": "u-alice", "u-carol": "u-alice"}
    cycles = [w for w in plan.warnings if w.code is WarningCode.MANAGER_CYCLE]
    assert [w.message for w in cycles] == ["manager cycle: Alice -> Bob -> Alice"]


def test_plan_longer_manager_cycle_is_warned_once() -> None:
    """A three-person cycle reached from several starting points is warned about once."""
    directory = [
        user("alice", manager="carol"),
        user("bob", manager="alice"),
        user("carol", manager="bob"),
        user("dave", manager="bob"),
    ]
    accounts = [account(h) for h in ("alice", "bob", "carol", "dave")]
    plan = plan_for(accounts, directory)
    assert [w.message for w in plan.warnings] == ["manager cycle: Alice -> Carol -> Bob -> Alice"]


# -- rule 8: warnings --------------------------------------------------------------------


def test_plan_warns_once_per_synced_guest() -> None:
    """Each guest who is synced gets one GUEST warning (by the default policy)."""
    directory = [user("gina", guest=True), user("gus", upn="gus_x.com#EXT#@corp.example.com")]
    plan = plan_for([account("gina"), account("gus")], directory)
    assert len(plan.creates) == 2
    assert [(w.code, w.subject) for w in plan.warnings] == [
        (WarningCode.GUEST, "Gina"),
        (WarningCode.GUEST, "Gus"),
    ]


def test_plan_warns_when_email_does_not_come_from_mail() -> None:
    """A synced user with no directory mail gets a NO_MAIL warning."""
    plan = plan_for([account("alice", "alice@corp.example.com")], [user("alice", mail=None)])
    assert [w.code for w in plan.warnings] == [WarningCode.NO_MAIL]


# -- rule 9: stats and manager names --------------------------------------------------------


def test_plan_counts_active_accounts_directory_and_owned_employees() -> None:
    """Stats count active accounts, every directory entry and owned Employees only."""
    accounts = [account("alice"), account("bob", active=False), account("carol")]
    unowned = employee("E-9", "dave", ENTRA_USER_ID=None)
    plan = plan_for(accounts, [user("alice"), user("bob")], [employee("E-1", "alice"), unowned])
    assert (
        plan.stats.atlassian_accounts,
        plan.stats.directory_users,
        plan.stats.owned_employees,
    ) == (2, 2, 1)


def test_plan_names_every_manager_a_change_mentions() -> None:
    """manager_names covers managers in creates and in before/after of Manager changes."""
    directory = [
        user("alice", manager="bob"),
        user("bob"),
        user("carol", manager="bob"),
        user("dave"),
    ]
    employees = [
        employee("E-2", "bob"),
        employee("E-3", "carol", manager_key="E-4", manager_account="acc-dave"),
        employee("E-4", "dave"),
    ]
    accounts = [account("alice"), account("bob"), account("carol"), account("dave")]
    plan = plan_for(accounts, directory, employees)
    assert plan.manager_names == (("u-bob", "Bob"), ("u-dave", "Dave"))


# -- rule 10: idempotence and fingerprint -------------------------------------------------------


def _organisation() -> tuple[list[AtlassianAccount], list[DirectoryUser], list[EmployeeRecord]]:
    """A small organisation that exercises every kind of change at once."""
    directory = [
        user("ceo", manager="ceo"),
        user("alice", manager="ceo"),
        user("bob", manager="alice", mail=None),
        user("carol", manager="bob", department="Sales"),
        user("dave", manager="ext", contact_manager=True, enabled=False),
        user("erin", manager="alice", guest=True),
        user("frank", manager="nobody"),
        user("gina", manager="frank"),
        user("hank", manager="ext", contact_manager=True, guest=True),
    ]
    accounts = [
        account("ceo"),
        account("alice"),
        account("bob", "bob@corp.example.com"),
        account("carol"),
        account("dave"),
        account("erin"),
        account("frank", active=False),
        account("gina"),
        account("hidden", None),
        account("hank"),
    ]
    employees = [
        employee("ENTRA-1", "ceo"),
        employee("ENTRA-2", "carol", manager_key="ENTRA-1", manager_account="acc-ceo"),
        employee("ENTRA-3", "dave"),
        employee("ENTRA-4", "frank"),
        employee("ENTRA-5", "gone"),
        employee("ENTRA-6", "erin", ENTRA_USER_ID=None),
    ]
    return accounts, directory, employees


def test_plan_is_empty_after_applying_it() -> None:
    """Applying a plan to the Employees and planning again yields no writes."""
    accounts, directory, employees = _organisation()
    first = plan_for(accounts, directory, employees)
    assert first.creates
    assert first.updates
    assert first.inactivations
    assert first.missing_managers
    applied = apply(first, employees)
    second = plan_for(accounts, directory, applied)
    assert second.is_empty, second.to_dict()
    assert second.missing_managers == first.missing_managers


def test_plan_fingerprint_is_stable_under_shuffling() -> None:
    """The same inputs in any order give an identical plan and fingerprint."""
    accounts, directory, employees = _organisation()
    expected = plan_for(accounts, directory, employees)
    rng = random.Random(7)
    for _ in range(20):
        for items in (accounts, directory, employees):
            rng.shuffle(items)
        shuffled = plan_for(accounts, directory, employees)
        assert shuffled == expected
        assert shuffled.fingerprint == expected.fingerprint
    assert Plan.from_dict(expected.to_dict()).fingerprint == expected.fingerprint


def test_plan_fingerprint_changes_when_a_value_changes() -> None:
    """A changed directory value changes the plan's fingerprint."""
    accounts, directory, employees = _organisation()
    before = plan_for(accounts, directory, employees)
    directory[3] = user("carol", manager="bob", department="Marketing")
    after = plan_for(accounts, directory, employees)
    assert after.fingerprint != before.fingerprint
