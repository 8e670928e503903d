"""Guard rails: each rule, its boundary, and the messages people act on."""

from __future__ import annotations

from core.sync import (
    Attr,
    FieldChange,
    GuardPolicy,
    Inactivation,
    Plan,
    SourceCounts,
    Update,
    hold_reasons,
    incomplete_read_reason,
)
from core.sync.plan import InactivationReason, PlanStats

POLICY = GuardPolicy()  # 25 inactivations and 10 %, sources at 90 %
STEADY = SourceCounts(atlassian_accounts=1_000, directory_users=5_000)


def plan(inactivations: int, owned: int, accounts: int = 1_000, users: int = 5_000) -> Plan:
    return Plan(
        inactivations=tuple(
            Inactivation(
                f"o{i}", f"ENTRA-{i}", f"u{i}", f"Person {i}", InactivationReason.DIRECTORY_GONE, ()
            )
            for i in range(inactivations)
        ),
        stats=PlanStats(atlassian_accounts=accounts, directory_users=users, owned_employees=owned),
    )


def test_an_ordinary_plan_is_safe() -> None:
    assert hold_reasons(plan(3, 400), STEADY, STEADY, POLICY) == ()


def test_exactly_the_limits_are_still_safe() -> None:
    """Both limits are "more than": 25 inactivations, or exactly 10 %, apply unattended."""
    assert hold_reasons(plan(25, 100), STEADY, STEADY, POLICY) == ()  # 25 = 25 %, not > 25
    assert hold_reasons(plan(30, 300), STEADY, STEADY, POLICY) == ()  # 10 %, not > 10 %


def test_more_than_both_limits_is_held_naming_numbers_and_settings() -> None:
    (reason,) = hold_reasons(plan(26, 100), STEADY, STEADY, POLICY)
    assert reason.startswith("26 inactivations, 26% of the 100 Employees the sync owns")
    assert "ENTRA_SYNC_GUARD_MAX_INACTIVATIONS" in reason
    assert "ENTRA_SYNC_GUARD_MAX_INACTIVATION_PERCENT" in reason


def test_one_limit_alone_does_not_hold() -> None:
    """Many inactivations in a big site, or a big share of a tiny one, both apply."""
    assert hold_reasons(plan(40, 1_000), STEADY, STEADY, POLICY) == ()  # 4 %
    assert hold_reasons(plan(5, 10), STEADY, STEADY, POLICY) == ()  # 50 %, but only 5


def test_the_limits_come_from_the_policy() -> None:
    strict = GuardPolicy(max_inactivations=2, max_inactivation_percent=1.0)
    assert hold_reasons(plan(3, 100), STEADY, STEADY, strict)


def test_a_shrunken_directory_read_is_held() -> None:
    current = SourceCounts(atlassian_accounts=1_000, directory_users=100)
    (reason,) = hold_reasons(plan(0, 400), current, STEADY, POLICY)
    assert reason.startswith("Entra returned 100 users, 2% of the 5,000 read last time")
    assert "ENTRA_SYNC_GUARD_MIN_SOURCE_PERCENT" in reason


def test_a_shrunken_atlassian_read_is_held() -> None:
    current = SourceCounts(atlassian_accounts=899, directory_users=5_000)
    (reason,) = hold_reasons(plan(0, 400), current, STEADY, POLICY)
    assert reason.startswith("Atlassian returned 899 active accounts, 89.9% of the 1,000")


def test_exactly_the_source_minimum_is_safe() -> None:
    current = SourceCounts(atlassian_accounts=900, directory_users=4_500)  # 90 % each
    assert hold_reasons(plan(0, 400), current, STEADY, POLICY) == ()


def test_an_empty_read_is_always_held_even_without_history() -> None:
    """The very first run has nothing to compare with; zero users is still never applied."""
    for current in (SourceCounts(1_000, 0), SourceCounts(0, 5_000)):
        (reason,) = hold_reasons(plan(0, 400), current, None, POLICY)
        assert "returned 0" in reason and "400 Employees" in reason


def test_an_empty_read_before_anything_is_owned_is_safe() -> None:
    """A brand-new install with an empty directory has nothing to lose."""
    assert hold_reasons(plan(0, 0), SourceCounts(0, 0), None, POLICY) == ()


def test_an_empty_read_after_a_full_one_reports_the_drop() -> None:
    current = SourceCounts(atlassian_accounts=1_000, directory_users=0)
    reasons = hold_reasons(plan(400, 400), current, STEADY, POLICY)
    assert reasons[0].startswith("Entra returned 0 users, 0% of the 5,000 read last time")
    assert reasons[1].startswith("400 inactivations, 100% of the 400 Employees")
    assert len(reasons) == 2


# -- mass updates and clears ----------------------------------------------------------


def updates(count: int, owned: int, *, clear: Attr | None = None) -> Plan:
    """``count`` updates; with ``clear``, each one empties that attribute."""
    change = (
        FieldChange(clear, "Old value", None) if clear else FieldChange(Attr.JOB_TITLE, "a", "b")
    )
    return Plan(
        updates=tuple(
            Update(f"o{i}", f"ENTRA-{i}", f"u{i}", f"Person {i}", (change,)) for i in range(count)
        ),
        stats=PlanStats(atlassian_accounts=1_000, directory_users=5_000, owned_employees=owned),
    )


def test_a_reorganisation_under_both_update_limits_applies() -> None:
    assert hold_reasons(updates(50, 100), STEADY, STEADY, POLICY) == ()  # 50, not > 50
    assert hold_reasons(updates(200, 1_000), STEADY, STEADY, POLICY) == ()  # 20 %, not > 20 %


def test_more_updates_than_both_limits_is_held() -> None:
    (reason,) = hold_reasons(updates(201, 1_000), STEADY, STEADY, POLICY)
    assert reason.startswith("201 updates, 20.1% of the 1,000 Employees the sync owns")
    assert "ENTRA_SYNC_GUARD_MAX_UPDATES" in reason
    assert "ENTRA_SYNC_GUARD_MAX_UPDATE_PERCENT" in reason


def test_emptying_a_field_for_many_is_held_naming_the_field() -> None:
    """37 titles cleared out of 191: the signature of a downgraded Graph permission."""
    reasons = hold_reasons(updates(37, 191, clear=Attr.JOB_TITLE), STEADY, STEADY, POLICY)
    assert reasons == (
        "Job Title would be emptied for 37 Employees, 19.4% of 191: more than 10 "
        "(ENTRA_SYNC_GUARD_MAX_CLEARS) and more than 5% (ENTRA_SYNC_GUARD_MAX_CLEAR_PERCENT). "
        "A directory answer missing a property for everyone looks exactly like this.",
    )


def test_a_few_clears_apply() -> None:
    """One person's title removed in Entra is cleared in Assets without a hold."""
    assert hold_reasons(updates(10, 191, clear=Attr.JOB_TITLE), STEADY, STEADY, POLICY) == ()
    assert hold_reasons(updates(11, 1_000, clear=Attr.DEPARTMENT), STEADY, STEADY, POLICY) == ()


def test_a_full_read_short_of_the_tenant_count_is_flagged() -> None:
    assert incomplete_read_reason(1_750, 2_000, POLICY) == (
        "Entra's pages held 1,750 users but Graph counts 2,000 in the tenant (87.5%, under "
        "90%, ENTRA_SYNC_GUARD_MIN_SOURCE_PERCENT): the read looks cut short. Check the "
        "connection before approving."
    )
    assert incomplete_read_reason(180, 191, POLICY) is None  # 94 %: count lag is normal
    assert incomplete_read_reason(0, 0, POLICY) is None


def test_a_full_read_at_exactly_the_share_is_not_flagged() -> None:
    assert incomplete_read_reason(90, 100, POLICY) is None
    assert incomplete_read_reason(89, 100, POLICY) is not None
    assert incomplete_read_reason(0, 1, POLICY) is not None
    strict = GuardPolicy(min_source_percent=99.0)
    assert incomplete_read_reason(98, 100, strict) is not None


def test_the_messages_in_full() -> None:
    """People act on these sentences, so every word is pinned down."""
    current = SourceCounts(atlassian_accounts=1_000, directory_users=4_000)
    shrunk, inactivations = hold_reasons(plan(1_200, 10_000), current, STEADY, POLICY)
    assert shrunk == (
        "Entra returned 4,000 users, 80% of the 5,000 read last time: under 90% "
        "(ENTRA_SYNC_GUARD_MIN_SOURCE_PERCENT). Check the connection and permissions "
        "before approving."
    )
    assert inactivations == (
        "1,200 inactivations, 12% of the 10,000 Employees the sync owns: more than 25 "
        "(ENTRA_SYNC_GUARD_MAX_INACTIVATIONS) and more than 10% "
        "(ENTRA_SYNC_GUARD_MAX_INACTIVATION_PERCENT)."
    )
    (empty,) = hold_reasons(plan(0, 1_500), SourceCounts(0, 5_000), None, POLICY)
    assert empty == (
        "Atlassian returned 0 active accounts while the sync owns 1,500 Employees: "
        "an empty read is never applied unattended."
    )


def test_an_empty_read_with_a_single_owned_employee_is_held() -> None:
    (reason,) = hold_reasons(plan(0, 1), SourceCounts(1_000, 0), None, POLICY)
    assert reason.startswith("Entra returned 0 users while the sync owns 1 Employees")


def test_inactivations_without_owned_employees_count_as_all_of_them() -> None:
    """A plan cannot inactivate Employees nobody owns, but the share must not divide by 0."""
    (reason,) = hold_reasons(plan(26, 0), STEADY, STEADY, POLICY)
    assert reason.startswith("26 inactivations, 100% of the 0 Employees the sync owns")


def test_source_counts_round_trip_through_a_runs_counts() -> None:
    counts = {"creates": 3, **SourceCounts(atlassian_accounts=7, directory_users=9).as_counts()}
    assert counts == {"creates": 3, "atlassian_accounts": 7, "directory_users": 9}
    assert SourceCounts.from_counts(counts) == SourceCounts(7, 9)


def test_a_run_that_stored_only_one_source_has_no_source_counts() -> None:
    """Runs from older versions stored neither; a baseline needs both."""
    assert SourceCounts.from_counts({"atlassian_accounts": 7}) is None
    assert SourceCounts.from_counts({"directory_users": 9}) is None
    assert SourceCounts.from_counts({}) is None


def test_clears_are_reported_per_attribute_most_first_counting_inactivations() -> None:
    """Two fields emptied for many: two reasons, the larger first; inactivations count."""
    title = FieldChange(Attr.JOB_TITLE, "Lead", None)
    department = FieldChange(Attr.DEPARTMENT, "Sales", None)
    plan = Plan(
        updates=tuple(
            Update(f"o{i}", f"ENTRA-{i}", f"u{i}", f"P{i}", (title, department)) for i in range(12)
        ),
        inactivations=tuple(
            Inactivation(
                f"x{i}",
                f"ENTRA-x{i}",
                f"v{i}",
                f"Q{i}",
                InactivationReason.DIRECTORY_GONE,
                (title,),
            )
            for i in range(3)
        ),
        stats=PlanStats(atlassian_accounts=1_000, directory_users=5_000, owned_employees=100),
    )
    reasons = hold_reasons(plan, STEADY, STEADY, POLICY)
    assert [r.split(" would")[0] for r in reasons] == ["Job Title", "Department"]
    assert reasons[0].startswith("Job Title would be emptied for 15 Employees, 15% of 100")
    assert reasons[1].startswith("Department would be emptied for 12 Employees, 12% of 100")
    set_again = FieldChange(Attr.JOB_TITLE, None, "New")  # filling a field is no clear
    filled = Plan(
        updates=tuple(
            Update(f"o{i}", f"ENTRA-{i}", f"u{i}", f"P{i}", (set_again,)) for i in range(20)
        ),
        stats=PlanStats(atlassian_accounts=1_000, directory_users=5_000, owned_employees=100),
    )
    assert hold_reasons(filled, STEADY, STEADY, POLICY) == ()
