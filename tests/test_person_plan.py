"""One person's share of a plan, and the explanation read off the planner (pure)."""

from __future__ import annotations

from core.sync import (
    AtlassianAccount,
    Attr,
    ChangeKind,
    ChangeOutcome,
    Explanation,
    NotFound,
    OutcomeStatus,
    Person,
    explain_person,
    match_how,
    outcome_changes,
    person_plan,
    plan_changes,
)
from tests.test_planner_support import account, employee, plan_for, user


def test_a_person_keeps_their_own_write_and_the_links_pointing_at_them() -> None:
    """Bob reports to Alice; Carol's title changed. Alice's share: her create and Bob's
    Manager fields, not Bob's title nor anything of Carol's."""
    accounts = [account("alice"), account("bob"), account("carol")]
    directory = [
        user("alice"),
        user("bob", manager="alice", job_title="Lead"),
        user("carol", job_title="Boss"),
    ]
    employees = [employee("E-1", "bob"), employee("E-2", "carol")]
    plan = plan_for(accounts, directory, employees)
    alice = Person(frozenset({"u-alice"}), frozenset(), frozenset({"acc-alice"}))
    mine = person_plan(plan, alice)
    assert [c.entra_user_id for c in mine.creates] == ["u-alice"]
    (link,) = mine.updates
    assert link.object_key == "E-1"
    assert {fc.attr for fc in link.changes} == {Attr.MANAGER, Attr.MANAGER_ACCOUNT_ID}
    assert plan.write_count == 3 and mine.write_count == 2
    assert mine.fingerprint != plan.fingerprint


def test_a_report_being_inactivated_gives_only_its_manager_link() -> None:
    """Bob's account is gone: that is Bob's to sync; Alice's share is only his Manager."""
    accounts = [account("alice")]
    directory = [user("alice"), user("bob", manager="alice")]
    employees = [employee("E-1", "alice"), employee("E-2", "bob")]
    plan = plan_for(accounts, directory, employees)
    assert len(plan.inactivations) == 1
    alice = Person(frozenset({"u-alice"}), frozenset({"E-1"}), frozenset({"acc-alice"}))
    mine = person_plan(plan, alice)
    assert mine.inactivations == ()
    (link,) = mine.updates
    assert {fc.attr for fc in link.changes} <= {Attr.MANAGER, Attr.MANAGER_ACCOUNT_ID}


def test_outcomes_get_the_before_and_after_of_their_write() -> None:
    plan = plan_for(
        [account("alice")], [user("alice", job_title="Boss")], [employee("E-1", "alice")]
    )
    changes = plan_changes(plan)
    done = ChangeOutcome(ChangeKind.UPDATE, "u-alice", "Alice", OutcomeStatus.OK, "E-1")
    (change,) = outcome_changes(changes, done)
    assert (change.attr, change.before, change.after) == (Attr.JOB_TITLE, "Engineer", "Boss")
    link = ChangeOutcome(ChangeKind.MANAGER, "u-alice", "Alice", OutcomeStatus.OK, "E-1")
    assert outcome_changes(changes, link) == ()


def test_how_an_address_reaches_a_user() -> None:
    someone = user("dana", proxies=("SMTP:dana@example.com", "smtp:d.x@example.com"))
    assert match_how("dana@example.com", someone) == "mail"
    assert match_how("DANA@example.com", someone) == "mail, in other letter case"
    assert match_how("dana@corp.example.com", someone) == "user principal name"
    assert match_how("D.X@example.com", someone) == "smtp alias, in other letter case"
    assert match_how("nobody@example.com", someone) is None


def test_a_name_two_people_share_lists_both() -> None:
    accounts = [
        AtlassianAccount("acc-1", "Ann Lee", "ann.lee@example.com", True),
        AtlassianAccount("acc-2", "Ann Kim", "ann.kim@example.com", True),
    ]
    answer = explain_person("ann", accounts, [], [])
    assert isinstance(answer, NotFound)
    assert {c.ask for c in answer.choices} == {"ann.lee@example.com", "ann.kim@example.com"}
    assert isinstance(explain_person("ann kim", accounts, [], []), Explanation)


def test_an_unowned_employee_is_named_and_never_changed() -> None:
    unowned = employee("E-7", "alice", ENTRA_USER_ID=None)
    answer = explain_person("acc-alice", [account("alice")], [user("alice")], [unowned])
    assert isinstance(answer, Explanation)
    assert answer.nothing
    assert any("E-7 is not owned by the sync" in rule for rule in answer.rules)
    assert any("which the sync does not own, already holds it" in r for r in answer.rules)
