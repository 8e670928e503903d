"""``entra-sync explain`` on the sandbox: every awkward case its organisation plants."""

from __future__ import annotations

from typing import Any

import pytest

from core.cli.demo import sandbox_environ
from core.config import load_settings
from core.runs import SyncService
from core.sandbox import Sandbox
from core.sync import Attr

from .conftest import Runner


@pytest.fixture
def synced(with_schema: Runner) -> Runner:
    result = with_schema("sync", "--yes", "--allow-mass-change")
    assert result.code == 0, result.err
    return with_schema


def email_of(sandbox: Sandbox, account_id: str) -> str:
    email = sandbox.atlassian_accounts[account_id].email
    assert email is not None
    return email


def explain(cli: Runner, query: str) -> dict[str, Any]:
    result = cli("explain", query, "--json")
    assert result.code == 0, result.err + result.out
    answer: dict[str, Any] = result.json()["answer"]
    return answer


def rules(answer: dict[str, Any]) -> str:
    return "\n".join(answer["rules"])


def test_hidden_email_filled_from_the_org_admin_api(synced: Runner, sandbox: Sandbox) -> None:
    account_id = sandbox.org.notes["hidden_managed"][0]
    answer = explain(synced, account_id)
    (account,) = answer["accounts"]
    assert account["email_source"] == "filled from the org admin API"
    (user,) = answer["users"]
    assert user["id"] == sandbox.org.notes["hidden_managed_users"][0]
    assert any("linked to " + account_id in how for how in user["how"])
    assert answer["nothing"] is True


def test_hidden_email_never_revealed(synced: Runner, sandbox: Sandbox) -> None:
    account_id = sandbox.org.notes["hidden_unmanaged"][0]
    answer = explain(synced, account_id)
    assert answer["accounts"][0]["email_source"] == "hidden"
    assert "email hidden by profile visibility" in rules(answer)
    assert answer["users"] == [] and answer["employees"] == []


def test_ambiguous_email_names_both_users(synced: Runner, sandbox: Sandbox) -> None:
    account_id = sandbox.org.notes["ambiguous_account"][0]
    answer = explain(synced, email_of(sandbox, account_id))
    owner, other = sandbox.org.notes["ambiguous_users"]
    assert {u["id"] for u in answer["users"]} == {owner, other}
    text = rules(answer)
    assert "several directory users answer to this email" in text
    for user_id in (owner, other):
        assert f"{sandbox.directory_users[user_id].display_name} ({user_id})" in text
    assert answer["changes"] == [] and answer["employees"] == []


def test_alias_only_match_in_other_letter_case(synced: Runner, sandbox: Sandbox) -> None:
    account_id = sandbox.org.notes["alias_only_accounts"][0]
    answer = explain(synced, email_of(sandbox, account_id))
    (user,) = answer["users"]
    key = answer["employees"][0]["object_key"]
    assert user["how"] == [
        f"linked to {account_id} through Employee {key}, which holds both; "
        "the account's email is their smtp alias, in other letter case"
    ]
    assert [e["owned"] for e in answer["employees"]] == [True]


def test_alias_only_match_before_the_first_sync(with_schema: Runner, sandbox: Sandbox) -> None:
    """Not linked yet: matched by email now, and the next sync creates the Employee."""
    account_id = sandbox.org.notes["alias_only_accounts"][0]
    answer = explain(with_schema, account_id)
    (user,) = answer["users"]
    assert user["how"] == [
        f"linked to {account_id} by email: the account's email is their smtp alias, "
        "in other letter case"
    ]
    (change,) = answer["changes"]
    assert change["kind"] == "create"
    assert "no Employee yet: one is created" in rules(answer)


def test_case_variant_accounts_are_both_shown_and_neither_linked(
    synced: Runner, sandbox: Sandbox
) -> None:
    lower, upper = sandbox.org.notes["case_duplicate_accounts"]
    answer = explain(synced, email_of(sandbox, upper))
    assert {a["account_id"] for a in answer["accounts"]} == {lower, upper}
    text = rules(answer)
    assert "email shared by several Atlassian accounts" in text
    assert "2 active Atlassian accounts use it" in text
    assert answer["employees"] == []


def test_guest_is_synced_with_its_rule(synced: Runner, sandbox: Sandbox) -> None:
    account_id = sandbox.org.notes["guest_accounts"][0]
    answer = explain(synced, account_id)
    assert answer["users"][0]["guest"] is True
    assert "guest user" in rules(answer) and "synced" in rules(answer)


def test_disabled_user_is_kept_inactive(synced: Runner, sandbox: Sandbox) -> None:
    user_id = sandbox.org.notes["disabled_users"][0]
    answer = explain(synced, user_id)
    assert answer["users"][0]["enabled"] is False
    assert "directory account is disabled: Active is false" in rules(answer)
    (employee,) = answer["employees"]
    assert dict(employee["values"])["Active"] == "false"


def test_disabled_after_the_sync_shows_the_inactivation(synced: Runner, sandbox: Sandbox) -> None:
    """A change the next sync would make is listed with its before and after."""
    account_id = sandbox.org.notes["alias_only_accounts"][1]
    answer = explain(synced, account_id)
    user_id = answer["users"][0]["id"]
    sandbox.disable_user(user_id)
    answer = explain(synced, account_id)
    (change,) = answer["changes"]
    assert change["kind"] == "inactivate"
    assert change["reason"] == "directory account disabled"
    assert {"attr": "Active", "before": "true", "after": "false"} in change["changes"]
    assert answer["nothing"] is False


def test_manager_without_an_atlassian_account(synced: Runner, sandbox: Sandbox) -> None:
    head = sandbox.org.notes["manager_without_account"][0]
    answer = explain(synced, head)
    assert answer["accounts"] == [] and answer["employees"] == []
    text = rules(answer)
    assert "No Atlassian account" in text
    assert "people's Manager stays empty because of this: manager has no Atlassian account" in text


def test_report_of_a_manager_without_an_account(synced: Runner, sandbox: Sandbox) -> None:
    head = sandbox.org.notes["manager_without_account"][0]
    report = next(
        u for u in sandbox.directory_users.values()
        if u.manager_id == head and u.mail and any(
            a.email == u.mail for a in sandbox.atlassian_accounts.values()
        )
    )  # fmt: skip
    assert report.mail is not None
    answer = explain(synced, report.mail)
    (manager,) = answer["managers"]
    assert manager["id"] == head and manager["account_id"] is None
    assert "has no Atlassian account" in manager["link"]
    assert "Manager left empty" in rules(answer)


def test_employee_not_owned_by_the_sync(synced: Runner, sandbox: Sandbox, workdir: object) -> None:
    """An Employee whose Entra User ID was cleared by hand is shown, and never changed."""
    account_id = sandbox.org.notes["alias_only_accounts"][0]
    key = explain(synced, account_id)["employees"][0]["object_key"]
    settings = load_settings(sandbox_environ("sqlite:///sync.db"), env_file=None)
    service = SyncService.open(settings, transport=sandbox.transport())
    try:
        assets = service.clients.assets()
        from core.clients import load_employee_type  # noqa: PLC0415

        kind = load_employee_type(assets)
        record = next(e for e in assets.employees(kind) if e.object_key == key)
        assets.update_employee(kind, record.object_id, {Attr.ENTRA_USER_ID: None})
    finally:
        service.close()
    answer = explain(synced, account_id)
    text = rules(answer)
    assert f"Employee {key} is not owned by the sync" in text
    assert "which the sync does not own, already holds it" in text
    assert [e["owned"] for e in answer["employees"]] == [False]
    assert answer["changes"] == []


def test_unknown_everywhere_says_so_and_asks_entra(synced: Runner, sandbox: Sandbox) -> None:
    sandbox.reset_counts()
    result = synced("explain", "nobody.at.all@nowhere.example")
    assert result.code == 1
    assert "Nobody matches 'nobody.at.all@nowhere.example'" in result.out
    assert sandbox.requests["graph"] >= 1


def test_a_name_matching_several_people_lists_them(synced: Runner, sandbox: Sandbox) -> None:
    """A first name two people share: both are listed, each with what to ask for next."""
    firsts = [a.display_name.split()[0] for a in sandbox.atlassian_accounts.values()]
    given = next(name for name in sorted(firsts) if firsts.count(name) > 1)
    result = synced("explain", given, "--json")
    assert result.code == 1
    choices = result.json()["answer"]["choices"]
    assert len(choices) >= 2
    assert all(given in c["label"] for c in choices)
    first = synced("explain", choices[0]["ask"], "--json")
    assert first.code == 0, first.out
    assert first.json()["answer"]["accounts"]


def test_text_output_and_history(synced: Runner, sandbox: Sandbox) -> None:
    account_id = sandbox.org.notes["alias_only_accounts"][0]
    result = synced("explain", account_id)
    assert result.code == 0
    out = result.out
    for heading in ("Atlassian accounts:", "Directory users:", "Employee objects:", "Next sync:"):
        assert heading in out
    assert "create ENTRA-" in out and "Active: (empty) -> true" in out
    history = synced("history", "--person", account_id)
    assert history.code == 0
    assert "manual by cli:" in history.out and "create ENTRA-" in history.out
    name = sandbox.atlassian_accounts[account_id].display_name
    assert synced("history", "--person", name).out == history.out
    assert "No stored writes" in synced("history", "--person", "nobody@nowhere.example").out


def test_bad_query_names_the_field(synced: Runner) -> None:
    result = synced("explain", "  ")
    assert result.code == 2
    assert "person" in result.err and "is empty" in result.err
