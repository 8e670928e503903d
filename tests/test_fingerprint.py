"""What an approval binds to: the writes of a plan, and nothing shown only for information."""

from __future__ import annotations

from tests.test_planner_support import account, employee, plan_for, user


def test_findings_do_not_change_the_fingerprint() -> None:
    """A new hidden-email account or an unrelated directory user leaves the writes' hash alone."""
    base = plan_for([account("ada")], [user("ada")])
    more = plan_for([account("ada"), account("ghost", None)], [user("ada"), user("nobody-in-jira")])
    assert len(more.unmatched) == 1
    assert more.stats != base.stats
    assert more.fingerprint == base.fingerprint


def test_a_changed_write_changes_the_fingerprint() -> None:
    """Any difference in what would be written gives another fingerprint."""
    base = plan_for([account("ada")], [user("ada")])
    retitled = plan_for([account("ada")], [user("ada", job_title="CTO")])
    assert retitled.fingerprint != base.fingerprint


def test_entra_ids_typed_in_capitals_still_match() -> None:
    """An Entra User ID stored upper-case with spaces is the same user, not a deleted one."""
    stored = employee("ENTRA-1", "ada", ENTRA_USER_ID="  U-ADA ")
    plan = plan_for([account("ada")], [user("ada")], [stored])
    assert plan.inactivations == ()
    assert [c.attr.value for u in plan.updates for c in u.changes] == ["Entra User ID"]
