"""``entra-sync sync --person`` on the sandbox: one person's writes, read in few requests."""

from __future__ import annotations

import pytest

from core.sandbox import Answer, Fault, Sandbox

from .conftest import Runner

MAX_REQUESTS = 10


@pytest.fixture
def synced(with_schema: Runner) -> Runner:
    result = with_schema("sync", "--yes", "--allow-mass-change")
    assert result.code == 0, result.err
    return with_schema


def requests_of(sandbox: Sandbox) -> int:
    return sum(sandbox.requests.values())


def employee(sandbox: Sandbox, entra_user_id: str) -> dict[str, str]:
    found = [
        e for e in sandbox.employees() if e["attributes"].get("Entra User ID") == entra_user_id
    ]
    assert len(found) == 1
    attributes: dict[str, str] = found[0]["attributes"]
    return attributes


def test_one_person_is_synced_in_at_most_ten_requests(synced: Runner, sandbox: Sandbox) -> None:
    """A changed job title: only that Employee is written, and the read is small."""
    user_id = sandbox.org.notes["alias_only_users"][1]
    other = sandbox.org.notes["alias_only_users"][0]
    sandbox.set_job_title(user_id, "Chief Tester")
    sandbox.set_job_title(other, "Not Synced Yet")
    email = sandbox.directory_users[user_id].mail
    assert email is not None
    sandbox.reset_counts()
    result = synced("sync", "--person", email, "--yes")
    assert result.code == 0, result.err
    writes = [r for r in sandbox.request_log if r[0] == "assets" and r[1] in {"POST", "PUT"}]
    writes = [r for r in writes if "aql" not in r[2]]
    reads = requests_of(sandbox) - len(writes)
    assert reads <= MAX_REQUESTS, sandbox.request_log
    assert len(writes) == 1
    assert employee(sandbox, user_id)["Job Title"] == "Chief Tester"
    assert employee(sandbox, other)["Job Title"] != "Not Synced Yet"
    assert "Sync of one person succeeded" in result.out


@pytest.mark.parametrize(
    "case",
    [
        "alias_only_accounts",
        "hidden_managed",
        "ambiguous_account",
        "case_duplicate_accounts",
        "guest_accounts",
        "disabled_user_accounts",
        "inactive_accounts",
        "no_directory_user",
    ],
)
def test_every_planted_case_reads_at_most_ten_requests_by_email(
    synced: Runner, sandbox: Sandbox, case: str
) -> None:
    """By email, on every planted case: nothing to write after a full sync, and few reads."""
    account = sandbox.atlassian_accounts[sandbox.org.notes[case][0]]
    query = account.email or account.account_id
    sandbox.reset_counts()
    result = synced("sync", "--person", query, "--yes")
    assert result.code == 0, result.err
    assert requests_of(sandbox) <= MAX_REQUESTS, sandbox.request_log
    assert "Nothing to write" in result.out


def test_a_newcomer_and_the_manager_link_pointing_at_them(synced: Runner, sandbox: Sandbox) -> None:
    """Rob's manager Nora is new too. Rob's own sync creates Rob with no Manager (Nora has no
    Employee yet); Nora's sync creates Nora and links Rob's Manager to her, nothing else."""
    head = sandbox.org.notes["manager_without_account"][0]
    nora = sandbox.hire("Nora Newhire", "Sales", "Rep", head)
    rob = sandbox.hire("Rob Report", "Sales", "Rep", nora)
    assert synced("sync", "--person", sandbox.directory_users[rob].mail or "", "--yes").code == 0
    assert employee(sandbox, rob).get("Manager", "") == ""
    sandbox.set_job_title(rob, "Senior Rep")  # Rob's own change: not Nora's to sync
    sandbox.reset_counts()
    result = synced("sync", "--person", sandbox.directory_users[nora].mail or "", "--yes")
    assert result.code == 0, result.err
    writes = [r for r in sandbox.request_log if r[0] == "assets" and r[1] in {"POST", "PUT"}]
    writes = [r for r in writes if "aql" not in r[2]]
    assert requests_of(sandbox) - len(writes) <= MAX_REQUESTS, sandbox.request_log
    created = employee(sandbox, nora)
    assert created["Active"] == "true" and created.get("Manager", "") == ""
    linked = employee(sandbox, rob)
    assert linked["Manager"] == next(
        e["objectKey"] for e in sandbox.employees() if e["attributes"].get("Entra User ID") == nora
    )
    assert linked["Job Title"] == "Rep"


def test_the_plan_matches_the_whole_plan_for_that_person(synced: Runner, sandbox: Sandbox) -> None:
    """The one-person plan is the whole plan cut down: the same changes, the same words."""
    user_id = sandbox.org.notes["alias_only_users"][1]
    sandbox.set_job_title(user_id, "Chief Tester")
    whole = synced("preview").out
    email = sandbox.directory_users[user_id].mail or ""
    mine = synced("sync", "--person", email, "--yes").out
    change = next(line for line in whole.splitlines() if "Chief Tester" in line)
    assert change in mine


def test_without_yes_and_no_terminal_nothing_is_read(synced: Runner, sandbox: Sandbox) -> None:
    sandbox.reset_counts()
    result = synced("sync", "--person", "someone@contoso.example")
    assert result.code == 2
    assert requests_of(sandbox) == 0


def test_at_a_terminal_it_asks_first(synced: Runner, sandbox: Sandbox) -> None:
    user_id = sandbox.org.notes["alias_only_users"][1]
    sandbox.set_job_title(user_id, "Chief Tester")
    email = sandbox.directory_users[user_id].mail or ""
    result = synced("sync", "--person", email, stdin="n\n", tty=True)
    assert result.code == 1 and "Not applied." in result.out
    assert employee(sandbox, user_id)["Job Title"] != "Chief Tester"
    result = synced("sync", "--person", email, stdin="y\n", tty=True)
    assert result.code == 0, result.err
    assert employee(sandbox, user_id)["Job Title"] == "Chief Tester"


def test_a_name_is_refused_naming_the_field(synced: Runner, sandbox: Sandbox) -> None:
    sandbox.reset_counts()
    result = synced("sync", "--person", "Nora Newhire", "--yes")
    assert result.code == 2
    assert "person" in result.err and "email or an Atlassian account id" in result.err
    user_id = sandbox.org.notes["alias_only_users"][0]
    assert synced("sync", "--person", user_id, "--yes").code == 2  # a directory id
    assert requests_of(sandbox) == 0


def test_history_shows_the_one_person_sync(synced: Runner, sandbox: Sandbox) -> None:
    user_id = sandbox.org.notes["alias_only_users"][1]
    sandbox.set_job_title(user_id, "Chief Tester")
    email = sandbox.directory_users[user_id].mail or ""
    assert synced("sync", "--person", email, "--yes").code == 0
    history = synced("history", "--person", user_id).out
    assert "Job Title:" in history and "-> Chief Tester" in history


def test_by_account_id_of_a_linked_person(synced: Runner, sandbox: Sandbox) -> None:
    """Asked for by account id: the Employee holding it is read first, so no address search."""
    account_id = sandbox.org.notes["hidden_managed"][0]
    sandbox.reset_counts()
    result = synced("sync", "--person", account_id, "--yes")
    assert result.code == 0, result.err
    assert requests_of(sandbox) <= MAX_REQUESTS, sandbox.request_log
    assert sandbox.requests["admin"] == 0  # the hidden email is not needed to sync them


@pytest.mark.parametrize(
    "fault",
    [
        Fault(service="jira", path_contains="/rest/api/3/user", status=500, times=9),
        Fault(service="graph", path_contains="$batch", status=500, times=9),
        Fault(service="graph", path_contains="directReports", status=500, batch_item=True, times=9),
        Fault(
            service="graph", path_contains="directReports", answer=Answer.MALFORMED, batch_item=True
        ),
        Fault(service="assets", path_contains="object/aql", status=500, times=9),
        Fault(service="assets", path_contains="object/aql", answer=Answer.MALFORMED),
    ],
    ids=["jira", "graph", "reports-item", "reports-unreadable", "aql", "aql-unreadable"],
)
def test_any_read_error_stops_before_a_write(
    synced: Runner, sandbox: Sandbox, fault: Fault
) -> None:
    """Every read a one-person sync makes can fail; none lets a write through."""
    user_id = sandbox.org.notes["alias_only_users"][1]
    sandbox.set_job_title(user_id, "Chief Tester")
    email = sandbox.directory_users[user_id].mail or ""
    sandbox.add_fault(fault)
    sandbox.reset_counts()
    result = synced("sync", "--person", email, "--yes")
    assert result.code == 1, result.out
    writes = [r for r in sandbox.request_log if r[0] == "assets" and r[1] in {"POST", "PUT"}]
    assert [r for r in writes if "aql" not in r[2]] == []
    assert employee(sandbox, user_id)["Job Title"] != "Chief Tester"


@pytest.mark.parametrize("linked", [True, False], ids=["linked", "newcomer"])
def test_by_account_id_at_most_ten_requests(synced: Runner, sandbox: Sandbox, linked: bool) -> None:
    """By Atlassian account id, linked or new: the kept Assets ids spare the schema read."""
    if linked:
        account = sandbox.atlassian_accounts[sandbox.org.notes["alias_only_accounts"][0]]
    else:
        hired = sandbox.hire("Nina Newcomer", "Sales", "Rep", None)
        mail = sandbox.directory_users[hired].mail
        account = next(a for a in sandbox.atlassian_accounts.values() if a.email == mail)
    sandbox.reset_counts()
    result = synced("sync", "--person", account.account_id, "--yes")
    assert result.code == 0, result.err
    writes = [r for r in sandbox.request_log if r[0] == "assets" and r[1] in {"POST", "PUT"}]
    writes = [r for r in writes if "aql" not in r[2]]
    assert requests_of(sandbox) - len(writes) <= MAX_REQUESTS, sandbox.request_log
    assert len(writes) == (0 if linked else 1)
