"""The generated organisation: reproducible, planted cases present, fast at scale."""

from __future__ import annotations

import time

import pytest

from core.sandbox import Sandbox, generate_org
from core.sandbox.org import SandboxOrg


@pytest.fixture(scope="module")
def org() -> SandboxOrg:
    return generate_org(7, 60, 45)


def _keys(user_mail: str | None, upn: str, proxies: tuple[str, ...]) -> set[str]:
    keys = {upn.lower()} | ({user_mail.lower()} if user_mail else set())
    return keys | {p.split(":", 1)[1].lower() for p in proxies if p.lower().startswith("smtp:")}


def test_same_seed_same_org_other_seed_other_org(org: SandboxOrg) -> None:
    assert generate_org(7, 60, 45) == org
    assert generate_org(8, 60, 45).users != org.users


def test_counts(org: SandboxOrg) -> None:
    assert len(org.users) == 60
    people = [a for a in org.accounts if a.account_type == "atlassian"]
    assert len(people) == 45
    assert {a.account_type for a in org.accounts} == {"atlassian", "app", "customer"}


def test_planted_cases(org: SandboxOrg) -> None:
    users = {u.id: u for u in org.users}
    accounts = {a.account_id: a for a in org.accounts}
    notes = org.notes
    assert all(not users[u].account_enabled for u in notes["disabled_users"])
    assert all(accounts[a].active for a in notes["disabled_user_accounts"])
    for user_id in notes["guests"]:
        assert users[user_id].user_type == "Guest"
        assert "#EXT#@contoso.example" in users[user_id].user_principal_name
    hidden = [accounts[a] for a in notes["hidden_managed"] + notes["hidden_unmanaged"]]
    assert [(a.visible, a.managed) for a in hidden] == [(False, True)] * 2 + [(False, False)]
    pairs = zip(notes["alias_only_users"], notes["alias_only_accounts"], strict=True)
    for user_id, account_id in pairs:
        user, email = users[user_id], accounts[account_id].email
        assert email is not None and email != email.lower()
        assert email.lower() not in {(user.mail or "").lower(), user.user_principal_name.lower()}
        assert email.lower() in _keys(user.mail, user.user_principal_name, user.proxy_addresses)
    lower, upper = (accounts[a] for a in notes["case_duplicate_accounts"])
    assert lower.email != upper.email and (lower.email or "").lower() == (upper.email or "").lower()
    owner, other = (users[u] for u in notes["ambiguous_users"])
    ambiguous = accounts[notes["ambiguous_account"][0]].email
    assert ambiguous == owner.mail
    assert f"smtp:{ambiguous}" in other.proxy_addresses
    assert all(not accounts[a].active for a in notes["inactive_accounts"])
    contact_id = notes["org_contacts"][0]
    assert users[notes["contact_manager_users"][0]].manager_id == contact_id


def test_missing_links(org: SandboxOrg) -> None:
    emails = {(a.email or "").lower() for a in org.accounts}
    manager = next(u for u in org.users if u.id == org.notes["manager_without_account"][0])
    assert any(u.manager_id == manager.id for u in org.users)
    assert not _keys(manager.mail, manager.user_principal_name, manager.proxy_addresses) & emails
    unowned = next(a for a in org.accounts if a.account_id == org.notes["no_directory_user"][0])
    all_keys: set[str] = set()
    for u in org.users:
        all_keys |= _keys(u.mail, u.user_principal_name, u.proxy_addresses)
    assert (unowned.email or "").lower() not in all_keys


def test_scales() -> None:
    started = time.perf_counter()
    big = generate_org(1, 20000, 5000)
    assert time.perf_counter() - started < 5
    assert len(big.users) == 20000
    assert len({u.mail for u in big.users}) == 20000


def test_too_small_is_refused() -> None:
    with pytest.raises(ValueError, match="people"):
        generate_org(1, 10, 15)


def test_hire_and_account_mutations() -> None:
    sandbox = Sandbox()
    manager = sandbox.org.notes["department_heads"][0]
    user_id = sandbox.hire("New Person", "IT", "Analyst", manager)
    user = sandbox.directory_users[user_id]
    assert user.manager_id == manager and user.account_enabled
    account = next(a for a in sandbox.atlassian_accounts.values() if a.email == user.mail)
    assert account.active and account.visible
    sandbox.deactivate_account(account.account_id)
    assert not sandbox.atlassian_accounts[account.account_id].active
    sandbox.set_job_title(user_id, "Lead Analyst")
    assert sandbox.directory_users[user_id].job_title == "Lead Analyst"
    assert Sandbox().hire("New Person", "IT", "Analyst", manager) == user_id  # reproducible
