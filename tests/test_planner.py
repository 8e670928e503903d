"""Planner rules for matching, ownership and desired values (rules 1 to 5)."""

from __future__ import annotations

from dataclasses import replace

from core.sync import (
    GRAPH_USER_TYPE,
    Attr,
    EmployeeRecord,
    FieldChange,
    ManagerRef,
    Plan,
    SyncPolicy,
    employee_record,
)
from core.sync.matching import object_key_order
from core.sync.models import ATTR_ORDER
from core.sync.plan import (
    InactivationReason,
    ManagerGap,
    MissingManager,
    PlanWarning,
    Unmatched,
    UnmatchedReason,
    WarningCode,
)
from tests.test_planner_support import account, employee, plan_for, user


def reasons(plan: Plan) -> dict[str, UnmatchedReason]:
    """Unmatched reasons by account id."""
    return {u.account_id: u.reason for u in plan.unmatched}


# -- rule 1: the email index ---------------------------------------------------------


def test_plan_matches_upn_and_smtp_alias_case_insensitively() -> None:
    """An account email matches a user's UPN or smtp: proxy address, ignoring case."""
    directory = [
        user("alice", mail=None, upn="Alice.Smith@corp.example.com"),
        user("bob", mail="bob@example.com", proxies=("SMTP:bob@example.com", "smtp:B@Old.com")),
        user("carol", proxies=("x500:/o=carol@other.com",)),
    ]
    accounts = [
        account("alice", "alice.smith@CORP.example.com"),
        account("bob", "b@old.com"),
        account("carol", "carol@other.com"),
    ]
    plan = plan_for(accounts, directory)
    assert {c.entra_user_id for c in plan.creates} == {"u-alice", "u-bob"}
    assert reasons(plan) == {"acc-carol": UnmatchedReason.NO_DIRECTORY_USER}


def test_plan_ambiguous_email_is_unmatched() -> None:
    """Two directory users answering to one address: unmatched as AMBIGUOUS, never a guess."""
    directory = [user("alice"), user("alicia", proxies=("smtp:alice@example.com",))]
    plan = plan_for([account("alice")], directory)
    assert plan.creates == ()
    assert reasons(plan) == {"acc-alice": UnmatchedReason.AMBIGUOUS}
    assert "u-alice" in plan.unmatched[0].detail
    assert "u-alicia" in plan.unmatched[0].detail


# -- rule 2: which accounts are synced -----------------------------------------------


def test_plan_skips_inactive_accounts_without_employee() -> None:
    """An inactive account with no Employee yet is neither created nor reported."""
    plan = plan_for([account("alice", active=False)], [user("alice")])
    assert plan.creates == ()
    assert plan.unmatched == ()
    assert plan.stats.atlassian_accounts == 0


def test_plan_hidden_email_is_unmatched() -> None:
    """An active account whose email is hidden is unmatched as EMAIL_HIDDEN."""
    plan = plan_for([account("alice", None)], [user("alice")])
    assert reasons(plan) == {"acc-alice": UnmatchedReason.EMAIL_HIDDEN}


def test_plan_unknown_email_is_unmatched() -> None:
    """An email that no directory user answers to is unmatched as NO_DIRECTORY_USER."""
    plan = plan_for([account("alice")], [user("bob")])
    assert reasons(plan) == {"acc-alice": UnmatchedReason.NO_DIRECTORY_USER}


def test_plan_shared_email_is_unmatched_and_warned_once() -> None:
    """Active accounts sharing an email are unmatched unless already linked; one warning."""
    linked = account("alice")
    second = account("alice2", "alice@example.com")
    third = account("alice3", "alice@example.com")
    inactive = account("alice4", "alice@example.com", active=False)
    plan = plan_for([linked, second, third, inactive], [user("alice")], [employee("E-1", "alice")])
    assert reasons(plan) == {
        "acc-alice2": UnmatchedReason.SHARED_EMAIL,
        "acc-alice3": UnmatchedReason.SHARED_EMAIL,
    }
    assert [w.code for w in plan.warnings] == [WarningCode.DUPLICATE_EMAIL]
    assert plan.is_empty


def test_plan_case_variant_email_gets_its_own_warning() -> None:
    """Shared emails that differ only in case are warned as CASE_VARIANT_EMAIL."""
    accounts = [account("alice"), account("alice2", "Alice@Example.com")]
    plan = plan_for(accounts, [user("alice")])
    assert set(reasons(plan).values()) == {UnmatchedReason.SHARED_EMAIL}
    assert [w.code for w in plan.warnings] == [WarningCode.CASE_VARIANT_EMAIL]


def test_plan_two_accounts_reaching_one_user_by_different_addresses_are_unmatched() -> None:
    """Two accounts whose different emails reach one directory user are both unmatched."""
    directory = [user("alice", proxies=("smtp:a.smith@example.com",))]
    accounts = [account("alice"), account("asmith", "a.smith@example.com")]
    plan = plan_for(accounts, directory)
    assert plan.creates == ()
    assert set(reasons(plan).values()) == {UnmatchedReason.SHARED_EMAIL}


# -- rule 3: hard matches --------------------------------------------------------------


def test_plan_hard_match_by_account_id_wins_over_email() -> None:
    """An Employee linked by account id keeps its directory user when the email moves."""
    moved = account("alice", "bob@example.com")
    plan = plan_for([moved], [user("alice"), user("bob")], [employee("E-1", "alice")])
    assert plan.is_empty
    assert plan.unmatched == ()


def test_plan_hard_match_survives_hidden_email() -> None:
    """A hidden email neither unlinks an Employee nor blanks its stored Email."""
    directory = [user("alice", mail=None)]
    plan = plan_for([account("alice", None)], directory, [employee("E-1", "alice")])
    assert plan.is_empty
    assert plan.unmatched == ()


def test_plan_newcomer_takes_over_employee_of_same_entra_user() -> None:
    """A new account whose email finds a user with an unlinked Employee updates that Employee."""
    old = employee("E-1", "alice", active="false", ATLASSIAN_ACCOUNT_ID="acc-old", JIRA_USER=None)
    accounts = [account("alice"), account("old", "gone@example.com", active=False)]
    plan = plan_for(accounts, [user("alice")], [old])
    assert plan.creates == ()
    assert [u.changes for u in plan.updates] == [
        (
            FieldChange(Attr.ATLASSIAN_ACCOUNT_ID, "acc-old", "acc-alice"),
            FieldChange(Attr.JIRA_USER, None, "acc-alice"),
            FieldChange(Attr.ACTIVE, "false", "true"),
        )
    ]


def test_plan_already_linked_directory_user_is_unmatched() -> None:
    """A newcomer whose email finds a user already linked to another active account is unmatched."""
    accounts = [account("alice"), account("alice2", "alice@corp.example.com")]
    plan = plan_for(accounts, [user("alice")], [employee("E-1", "alice")])
    assert reasons(plan) == {"acc-alice2": UnmatchedReason.ALREADY_LINKED}
    assert "acc-alice" in plan.unmatched[0].detail
    assert plan.is_empty


# -- rule 4: ownership -------------------------------------------------------------------


def test_plan_never_changes_unowned_employee() -> None:
    """An Employee without an Entra User ID gets no change, however stale it is."""
    unowned = employee("E-1", "alice", ENTRA_USER_ID=None, ATLASSIAN_ACCOUNT_ID="acc-x")
    stale = employee("E-2", "bob", ENTRA_USER_ID=None, DEPARTMENT="Sales")
    plan = plan_for([account("x", "x@example.com", active=False)], [user("bob")], [unowned, stale])
    assert plan.is_empty
    assert plan.stats.owned_employees == 0


def test_plan_skips_create_when_unowned_employee_holds_account() -> None:
    """A create whose account id an unowned Employee already holds is skipped with a warning."""
    unowned = employee("E-7", "alice", ENTRA_USER_ID=None)
    plan = plan_for([account("alice")], [user("alice")], [unowned])
    assert plan.creates == ()
    assert [w.code for w in plan.warnings] == [WarningCode.UNOWNED_OBJECT_CONFLICT]
    assert "E-7" in plan.warnings[0].message


def set_aside(record: EmployeeRecord, stored: str = "not-a-guid") -> EmployeeRecord:
    """``record`` as the Assets client reads it when its Entra User ID was typed over."""
    values: dict[Attr, str | None] = {a: v for a, v in record.values if a is not Attr.ENTRA_USER_ID}
    return employee_record(
        record.object_id, record.object_key, values, unusable_entra_user_id=stored
    )


UNUSABLE = (
    "Employee ENTRA-1 has Entra User ID 'not-a-guid', which is not a directory object id "
    "(a GUID); it is left as it is, and so is any Manager pointing to it. Put the "
    "person's Object ID from Entra ID back in Assets."
)


def test_plan_leaves_an_employee_with_an_unusable_entra_user_id_alone_and_warns() -> None:
    """No change, no second Employee for its account, one warning naming key and value."""
    ada = set_aside(employee("ENTRA-1", "ada", JOB_TITLE="Stale"))
    plan = plan_for([account("ada")], [user("ada")], [ada])
    assert plan.is_empty
    assert plan.unmatched == ()
    assert plan.warnings == (PlanWarning(WarningCode.UNUSABLE_ENTRA_USER_ID, "Ada", UNUSABLE),)
    assert plan.stats.owned_employees == 0


def test_plan_keeps_the_manager_fields_that_point_to_a_set_aside_employee() -> None:
    """Bob's Manager (ENTRA-1) stays; a newcomer under Ada is made without a Manager, and
    neither is reported as a missing manager link."""
    ada = set_aside(employee("ENTRA-1", "ada"))
    bob = employee("ENTRA-2", "bob", manager_key="ENTRA-1", manager_account="acc-ada")
    directory = [user("ada"), user("bob", manager="ada"), user("cy", manager="ada")]
    plan = plan_for([account("ada"), account("bob"), account("cy")], directory, [ada, bob])
    assert plan.updates == ()
    assert plan.inactivations == ()
    (create,) = plan.creates
    assert (create.label, create.get(Attr.MANAGER), create.get(Attr.MANAGER_ACCOUNT_ID)) == (
        "Cy",
        None,
        None,
    )
    assert plan.missing_managers == ()
    assert [w.code for w in plan.warnings] == [WarningCode.UNUSABLE_ENTRA_USER_ID]


def test_plan_shortens_a_long_unusable_value_in_its_warning() -> None:
    ada = set_aside(employee("ENTRA-1", "ada"), stored="x" * 100)
    (warning,) = plan_for([account("ada")], [user("ada")], [ada]).warnings
    assert f"'{'x' * 57}...'" in warning.message


def test_plan_duplicate_owned_employees_use_lowest_key() -> None:
    """Two owned Employees for one Entra user: warn, sync the lowest key, leave the other."""
    first = employee("ENTRA-9", "alice", DEPARTMENT="Old")
    second = employee("ENTRA-10", "alice", DEPARTMENT="Older")
    plan = plan_for([account("alice")], [user("alice")], [second, first])
    assert [(u.object_key, u.changes[0].after) for u in plan.updates] == [
        ("ENTRA-9", "Engineering")
    ]
    assert [w.code for w in plan.warnings] == [WarningCode.DUPLICATE_OWNED_OBJECT]
    assert plan.stats.owned_employees == 2


def test_plan_account_held_by_two_owned_employees_syncs_lowest_key() -> None:
    """Two owned Employees holding one account id: warn, sync the lowest key only."""
    first = employee("ENTRA-2", "alice", DEPARTMENT="Old")
    other = employee("ENTRA-11", "alicia", ATLASSIAN_ACCOUNT_ID="acc-alice", DEPARTMENT="Old")
    directory = [user("alice"), user("alicia")]
    plan = plan_for([account("alice")], directory, [other, first])
    assert [u.object_key for u in plan.updates] == ["ENTRA-2"]
    assert plan.inactivations == ()
    assert [w.code for w in plan.warnings] == [WarningCode.DUPLICATE_OWNED_OBJECT]


def test_plan_keeps_the_fuller_of_two_entries_for_one_directory_user() -> None:
    """A user listed twice (full and as a bare manager entry) is read from the full entry."""
    bare = user("alice", mail=None, department=None, job_title=None)
    plan = plan_for([account("alice")], [user("alice"), bare])
    assert plan.creates[0].get(Attr.DEPARTMENT) == "Engineering"
    assert plan_for([account("alice")], [bare, user("alice")]) == plan


# -- rule 5: desired values ---------------------------------------------------------------


def test_plan_creates_employee_with_every_value_in_attribute_order() -> None:
    """A new match is a Create holding every attribute, in ATTR_ORDER, as strings or None."""
    directory = [user("alice", manager="bob", job_title="", department=None), user("bob")]
    plan = plan_for([account("alice", "Alice@Example.com"), account("bob")], directory)
    alice = next(c for c in plan.creates if c.entra_user_id == "u-alice")
    assert [attr for attr, _ in alice.values] == list(ATTR_ORDER)
    assert alice.label == "Alice"
    assert dict(alice.values) == {
        Attr.ENTRA_USER_ID: "u-alice",
        Attr.FULL_NAME: "Alice",
        Attr.EMAIL: "alice@example.com",
        Attr.JOB_TITLE: None,
        Attr.ATLASSIAN_ACCOUNT_ID: "acc-alice",
        Attr.JIRA_USER: "acc-alice",
        Attr.ACTIVE: "true",
        Attr.DEPARTMENT: None,
        Attr.MANAGER: "u-bob",
        Attr.MANAGER_ACCOUNT_ID: "acc-bob",
    }


def test_plan_email_falls_back_to_account_email_in_original_case() -> None:
    """Without a directory mail, Email is the account's address as spelt there."""
    plan = plan_for([account("alice", "Alice@Corp.Example.com")], [user("alice", mail=None)])
    assert plan.creates[0].get(Attr.EMAIL) == "Alice@Corp.Example.com"


def test_plan_creates_disabled_directory_user_as_inactive() -> None:
    """Active is "true" only when the account is active and the directory user enabled."""
    plan = plan_for([account("alice")], [user("alice", enabled=False)])
    assert plan.creates[0].get(Attr.ACTIVE) == "false"


def test_plan_update_lists_only_differing_fields() -> None:
    """An owned Employee gets an Update naming just the fields that differ."""
    stale = employee("E-1", "alice", DEPARTMENT="Sales", JOB_TITLE="")
    directory = [user("alice", job_title=None)]
    plan = plan_for([account("alice")], directory, [stale])
    assert len(plan.updates) == 1
    assert plan.updates[0].changes == (FieldChange(Attr.DEPARTMENT, "Sales", "Engineering"),)
    assert (plan.updates[0].object_id, plan.updates[0].label) == ("id-E-1", "Alice")


def test_plan_in_step_employee_needs_nothing() -> None:
    """An Employee whose values already match gets no change at all."""
    plan = plan_for([account("alice")], [user("alice")], [employee("E-1", "alice", active="True")])
    assert plan.is_empty
    assert plan.warnings == ()


def test_plan_reactivates_employee() -> None:
    """Active false->true for a returning user is an Update, not an inactivation."""
    plan = plan_for([account("alice")], [user("alice")], [employee("E-1", "alice", active="false")])
    assert plan.inactivations == ()
    assert plan.updates[0].changes == (FieldChange(Attr.ACTIVE, "false", "true"),)


def test_plan_compares_manager_through_object_key() -> None:
    """A stored Manager object key equals the manager's Entra id; a changed manager is listed."""
    directory = [user("alice", manager="bob"), user("bob"), user("carol", manager="alice")]
    employees = [
        employee("E-1", "alice", manager_key="E-2", manager_account="acc-bob"),
        employee("E-2", "bob"),
        employee("E-3", "carol", manager_key="E-2", manager_account="acc-bob"),
    ]
    plan = plan_for([account("alice"), account("bob"), account("carol")], directory, employees)
    assert [(u.object_key, u.changes) for u in plan.updates] == [
        (
            "E-3",
            (
                FieldChange(Attr.MANAGER, "u-bob", "u-alice"),
                FieldChange(Attr.MANAGER_ACCOUNT_ID, "acc-bob", "acc-alice"),
            ),
        )
    ]


def test_plan_unknown_manager_key_compares_as_none() -> None:
    """A Manager key naming no known or no owned Employee counts as no manager."""
    unowned = employee_record("id-E-5", "E-5", {Attr.FULL_NAME: "Someone"})
    employees = [
        employee("E-1", "alice", manager_key="E-404"),
        employee("E-2", "bob", manager_key="E-5"),
        unowned,
    ]
    plan = plan_for([account("alice"), account("bob")], [user("alice"), user("bob")], employees)
    assert plan.is_empty


def test_plan_guest_excluded_by_policy_is_not_created() -> None:
    """With include_guests off, a guest gets no Employee, only a GUEST warning."""
    plan = plan_for(
        [account("gina")], [user("gina", guest=True)], policy=SyncPolicy(include_guests=False)
    )
    assert plan.creates == ()
    assert [w.code for w in plan.warnings] == [WarningCode.GUEST]


# -- what Graph did not say ------------------------------------------------------------


def test_unknown_enabled_state_never_reactivates_a_disabled_employee() -> None:
    """accountEnabled withheld: Active stays "false"; the other known fields still sync."""
    withheld = replace(user("ann", job_title="Lead"), unknown=frozenset({Attr.ACTIVE}))
    stored = employee("ENTRA-1", "ann", active="false")
    plan = plan_for([account("ann")], [withheld], [stored])
    assert plan.inactivations == ()
    (update,) = plan.updates
    assert [c.attr for c in update.changes] == [Attr.JOB_TITLE]


def test_unknown_enabled_state_still_inactivates_for_a_gone_atlassian_account() -> None:
    """The Atlassian side alone decides it: the account is inactive, so the Employee is."""
    withheld = replace(user("ann"), unknown=frozenset({Attr.ACTIVE}))
    plan = plan_for([account("ann", active=False)], [withheld], [employee("ENTRA-1", "ann")])
    (inactivation,) = plan.inactivations
    assert inactivation.entra_user_id == withheld.id


def test_a_property_graph_left_out_is_not_cleared() -> None:
    withheld = replace(user("ann", department=None), unknown=frozenset({Attr.DEPARTMENT}))
    plan = plan_for([account("ann")], [withheld], [employee("ENTRA-1", "ann")])
    assert plan.is_empty


def test_a_newcomer_whose_enabled_state_is_unknown_waits_with_a_warning() -> None:
    withheld = replace(user("bob"), unknown=frozenset({Attr.ACTIVE}))
    plan = plan_for([account("bob")], [withheld])
    assert plan.creates == ()
    (warning,) = [w for w in plan.warnings if w.code is WarningCode.UNKNOWN_STATE]
    assert "created once it does" in warning.message


def test_plan_a_change_of_case_in_a_name_is_an_update() -> None:
    """Only Active is compared without case; a corrected capital is a real change."""
    plan = plan_for(
        [account("alice")], [user("alice")], [employee("ENTRA-1", "alice", FULL_NAME="ALICE")]
    )
    (update,) = plan.updates
    assert update.changes == (FieldChange(Attr.FULL_NAME, "ALICE", "Alice"),)


def test_object_keys_sort_by_number_within_a_prefix() -> None:
    """The oldest object wins a contest, so ENTRA-9 must come before ENTRA-10."""
    keys = ["ENTRA-10", "HR-ENTRA-10", "ENTRA", "ENTRA-9", "HR-ENTRA-9", "ENTRA-0", "ENTRA-X"]
    assert sorted(keys, key=object_key_order) == [
        "ENTRA",
        "ENTRA-0",
        "ENTRA-9",
        "ENTRA-10",
        "ENTRA-X",
        "HR-ENTRA-9",
        "HR-ENTRA-10",
    ]
    assert sorted(["10", "9"], key=object_key_order) == ["10", "9"]  # no prefix: plain text


# -- what the plan says about each change and each account it cannot link ---------------


def test_plan_updates_and_inactivations_name_the_person_and_object() -> None:
    employees = [employee("ENTRA-1", "alice", DEPARTMENT="Sales"), employee("ENTRA-2", "bob")]
    plan = plan_for([account("alice"), account("bob")], [user("alice")], employees)
    (update,) = plan.updates
    assert (update.object_id, update.object_key, update.entra_user_id, update.label) == (
        "id-ENTRA-1",
        "ENTRA-1",
        "u-alice",
        "Alice",
    )
    (gone,) = plan.inactivations
    assert (gone.object_id, gone.object_key, gone.entra_user_id, gone.label, gone.reason) == (
        "id-ENTRA-2",
        "ENTRA-2",
        "u-bob",
        "Bob",
        InactivationReason.DIRECTORY_GONE,
    )


def test_plan_an_employee_stored_inactive_in_capitals_is_not_inactivated_again() -> None:
    """Assets may answer "False": already inactive, so no inactivation."""
    plan = plan_for([account("bob")], [], [employee("ENTRA-2", "bob", active="False")])
    assert plan.inactivations == ()


def test_plan_keeps_the_stored_email_when_account_and_mail_are_gone() -> None:
    """The account vanished and Entra has no mail: Email stays as stored, not blanked."""
    stored = employee("ENTRA-1", "alice")
    plan = plan_for([], [user("alice", mail=None)], [stored])
    (gone,) = plan.inactivations
    assert gone.reason is InactivationReason.ATLASSIAN_GONE
    assert Attr.EMAIL not in {change.attr for change in gone.changes}


def test_plan_names_managers_from_the_directory_or_their_employee() -> None:
    """A manager who left Entra is named from their Employee; one without a name is left out."""
    nameless = replace(user("nora"), display_name="")
    directory = [user("alice", manager="bob"), user("bob"), user("carol", manager="nora"), nameless]
    employees = [
        employee("ENTRA-1", "alice", manager_key="ENTRA-9", manager_account="acc-dave"),
        employee("ENTRA-9", "dave", FULL_NAME="Dave Old"),
    ]
    accounts = [account("alice"), account("bob"), account("carol"), account("nora")]
    plan = plan_for(accounts, directory, employees)
    assert plan.manager_names == (("u-bob", "Bob"), ("u-dave", "Dave Old"))


def test_plan_unmatched_accounts_carry_name_email_and_why() -> None:
    directory = [user("alice"), user("alicia", proxies=("smtp:alice@example.com",))]
    accounts = [account("alice"), account("zed"), account("hidden", None)]
    plan = plan_for(accounts, directory)
    assert sorted(plan.unmatched, key=lambda u: u.account_id) == [
        Unmatched(
            "acc-alice",
            "Alice",
            "alice@example.com",
            UnmatchedReason.AMBIGUOUS,
            "directory users u-alice, u-alicia",
        ),
        Unmatched("acc-hidden", "Hidden", None, UnmatchedReason.EMAIL_HIDDEN, ""),
        Unmatched("acc-zed", "Zed", "zed@example.com", UnmatchedReason.NO_DIRECTORY_USER, ""),
    ]


def test_plan_two_accounts_claiming_one_user_say_how_many() -> None:
    directory = [user("alice", proxies=("smtp:ally@example.com",))]
    plan = plan_for([account("alice"), account("ally")], directory)
    assert {u.detail for u in plan.unmatched} == {"2 active accounts' emails point to u-alice"}
    assert {u.reason for u in plan.unmatched} == {UnmatchedReason.SHARED_EMAIL}


def test_plan_a_user_whose_employee_is_left_alone_is_not_linked_again() -> None:
    """Duplicates lose to the lowest key; a newcomer for a left-alone user is unmatched."""
    kept = employee("ENTRA-2", "alice")
    left = employee("ENTRA-11", "bob", ATLASSIAN_ACCOUNT_ID="acc-alice")
    plan = plan_for([account("alice"), account("bob")], [user("alice"), user("bob")], [left, kept])
    (unmatched,) = plan.unmatched
    assert (unmatched.account_id, unmatched.reason) == ("acc-bob", UnmatchedReason.ALREADY_LINKED)
    assert unmatched.detail == "Bob (u-bob) is linked to an Employee left alone"


def test_plan_warnings_for_an_excluded_guest_and_an_unowned_holder_in_full() -> None:
    guests = plan_for(
        [account("gina")], [user("gina", guest=True)], policy=SyncPolicy(include_guests=False)
    )
    assert guests.warnings == (
        PlanWarning(
            WarningCode.GUEST,
            "Gina",
            "guest u-gina not synced: guests are excluded by the sync policy",
        ),
    )
    unowned = employee("E-7", "alice", ENTRA_USER_ID=None)
    held = plan_for([account("alice")], [user("alice")], [unowned])
    assert held.warnings == (
        PlanWarning(
            WarningCode.UNOWNED_OBJECT_CONFLICT,
            "Alice",
            "account acc-alice not linked: Employee E-7, which the sync does not own, "
            "already holds it",
        ),
    )


def test_plan_of_two_entries_keeps_the_one_with_more_filled_fields_and_aliases() -> None:
    """Each filled field and each alias counts one: three aliases beat mail and department."""
    two_fields = user("alice", job_title=None, department="Sales")
    three_aliases = user(
        "alice",
        mail=None,
        department=None,
        job_title=None,
        proxies=("smtp:a@x.com", "smtp:b@x.com", "smtp:alice@example.com"),
    )
    for directory in ([two_fields, three_aliases], [three_aliases, two_fields]):
        plan = plan_for([account("alice")], directory)
        assert plan.creates[0].get(Attr.DEPARTMENT) is None


def test_plan_findings_of_a_whole_organisation_in_full_and_in_order() -> None:
    """Warnings, missing managers, manager names and updates, each exact and sorted."""
    nameless_ref = ManagerRef("u-dan", GRAPH_USER_TYPE, None)
    directory = [
        replace(user("cat", manager="dan"), manager=nameless_ref),
        replace(user("abe", manager="dan"), manager=nameless_ref),
        user("dan"),  # no Atlassian account
        user("ann", manager="bea"),
        user("bea", manager="ann"),
        user("aaa", manager="ann"),  # leads into the cycle, is not part of it
        user("sam", manager="sam"),
        user("zed", mail=None, guest=True),
        user("ivy", guest=True, manager="dan", enabled=False),  # not synced: no findings
        replace(user("amy"), display_name="Zara Lee"),
        replace(user("bob"), display_name="Zara Lee"),
        user("kit", manager="amy"),
        user("lou", manager="bob"),
    ]
    accounts = [
        *(account(h) for h in ("cat", "abe", "ann", "bea", "aaa", "sam", "ivy", "amy", "bob")),
        account("zed", "zed@corp.example.com"),
        account("kit"),
        account("lou"),
    ]
    employees = [
        employee(
            "ENTRA-3", "lou", JOB_TITLE="Old", manager_key="ENTRA-1", manager_account="acc-amy"
        ),
        employee(
            "ENTRA-4", "kit", JOB_TITLE="Old", manager_key="ENTRA-2", manager_account="acc-bob"
        ),
        employee("ENTRA-1", "amy", FULL_NAME="Zara Lee"),
        employee("ENTRA-2", "bob", FULL_NAME="Zara Lee"),
    ]
    plan = plan_for(accounts, directory, employees)
    assert plan.warnings == (
        PlanWarning(WarningCode.MANAGER_CYCLE, "Ann", "manager cycle: Ann -> Bea -> Ann"),
        PlanWarning(
            WarningCode.MANAGER_CYCLE,
            "Sam",
            "u-sam is their own manager in Entra ID; Manager left empty",
        ),
        PlanWarning(WarningCode.GUEST, "Zed", "guest user u-zed synced"),
        PlanWarning(
            WarningCode.NO_MAIL,
            "Zed",
            "u-zed has no mail in Entra ID; Email is the Atlassian account's",
        ),
    )
    no_account = ManagerGap.NO_ATLASSIAN_ACCOUNT
    assert plan.missing_managers == (
        MissingManager("u-abe", "Abe", "u-dan", "Dan", no_account),
        MissingManager("u-cat", "Cat", "u-dan", "Dan", no_account),
    )
    assert plan.manager_names == (
        ("u-ann", "Ann"),
        ("u-bea", "Bea"),
        ("u-amy", "Zara Lee"),
        ("u-bob", "Zara Lee"),
    )
    assert [(u.label, u.object_key) for u in plan.updates] == [
        ("Kit", "ENTRA-4"),
        ("Lou", "ENTRA-3"),
    ]
