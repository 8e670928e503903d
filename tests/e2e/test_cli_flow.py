"""The CLI end to end on the sandbox: configure, schema, preview, sync, status."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import httpx

from core.sandbox import Fault, Sandbox
from core.sync import Attr

from .conftest import Runner


def writes(sandbox: Sandbox) -> list[tuple[str, str, str]]:
    return [
        (service, method, path)
        for service, method, path in sandbox.request_log
        if service == "assets" and method in {"POST", "PUT", "DELETE"} and "/aql" not in path
    ]


def test_configure_refuses_bad_input_naming_every_field(cli: Runner) -> None:
    """Bad tenant, client, cadence and an empty secret: exit 2, all named, nothing stored."""
    result = cli(
        "configure",
        "--tenant-id",
        "nope",
        "--client-id",
        "1234",
        "--cadence-days",
        "101",
        stdin="\n",
    )
    assert result.code == 2
    for name in ("tenant_id", "client_id", "client_secret", "cadence_days"):
        assert name in result.err
    assert "Connection: not configured" in cli("status").out


def test_configure_never_prints_the_secret(cli: Runner) -> None:
    """The secret comes from stdin and appears in no output."""
    result = cli(
        "configure",
        "--tenant-id",
        "0f1c2d3e-4a5b-4c6d-8e9f-a0b1c2d3e4f5",
        "--client-id",
        "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d",
        "--cadence-days",
        "3",
        stdin="s3cr3t-value\n",
    )
    assert result.code == 0
    assert "s3cr3t-value" not in result.out + result.err
    assert "every 3 days" in cli("status").out


def test_schema_is_created_once_then_idempotent(configured: Runner, sandbox: Sandbox) -> None:
    """The second schema run adds nothing and writes nothing."""
    first = configured("schema")
    assert first.code == 0
    assert "attribute Entra User ID" in first.out
    sandbox.request_log.clear()
    second = configured("schema")
    assert second.code == 0
    assert "nothing to add" in second.out
    assert writes(sandbox) == []


def test_schema_key_conflict_is_refused_without_writing(
    configured: Runner, sandbox: Sandbox
) -> None:
    """Another schema holding key ENTRA: exit 2 with the seed's advice, nothing written."""
    sandbox.create_foreign_schema(name="Legacy HR", key="ENTRA")
    sandbox.request_log.clear()
    result = configured("schema")
    assert result.code == 2
    assert "Rename or remove that schema" in result.err
    assert writes(sandbox) == []


def test_preview_before_schema_says_what_to_do(configured: Runner) -> None:
    """Previewing without the schema is a configuration problem with the fix named."""
    result = configured("preview")
    assert result.code == 2
    assert "schema" in result.err


def test_preview_counts_for_the_seeded_organisation(with_schema: Runner) -> None:
    """The seeded organisation previews to exactly these counts."""
    body = with_schema("preview", "--json").json()
    assert body["counts"] == EXPECTED_FIRST_COUNTS
    assert len(body["fingerprint"]) == 64
    assert set(body["requests"]) >= {"graph", "jira", "assets"}


def test_preview_writes_nothing(with_schema: Runner, sandbox: Sandbox) -> None:
    """A preview never writes to Assets."""
    sandbox.request_log.clear()
    assert with_schema("preview").code == 0
    assert writes(sandbox) == []


def test_sync_converges_and_rerun_is_a_no_op(with_schema: Runner, sandbox: Sandbox) -> None:
    """After one sync every matched account has one Employee; a second sync writes nothing."""
    first = with_schema("sync", "--yes")
    assert first.code == 0, first.out + first.err
    employees = sandbox.employees()
    assert len(employees) == EXPECTED_FIRST_COUNTS["creates"]
    ids = [e["attributes"][Attr.ENTRA_USER_ID.value] for e in employees]
    assert len(ids) == len(set(ids))
    sandbox.request_log.clear()
    again = with_schema("preview", "--json").json()
    assert again["counts"]["creates"] == 0
    assert again["counts"]["updates"] == 0
    assert again["counts"]["inactivations"] == 0
    assert with_schema("sync", "--yes").code == 0
    assert writes(sandbox) == []


def test_managers_are_linked_by_object_key(with_schema: Runner, sandbox: Sandbox) -> None:
    """Manager holds the manager Employee's key, and its account id sits beside it."""
    assert with_schema("sync", "--yes").code == 0
    by_key = {e["objectKey"]: e["attributes"] for e in sandbox.employees()}
    linked = [a for a in by_key.values() if a.get(Attr.MANAGER.value)]
    assert linked
    for attrs in linked:
        manager = by_key[attrs[Attr.MANAGER.value]]
        assert attrs[Attr.MANAGER_ACCOUNT_ID.value] == manager[Attr.ATLASSIAN_ACCOUNT_ID.value]


def test_failing_read_writes_nothing(with_schema: Runner, sandbox: Sandbox) -> None:
    """A Graph outage during the read ends the run with exit 1 before any write."""
    sandbox.add_fault(Fault(service="graph", status=500, times=50))
    sandbox.request_log.clear()
    result = with_schema("sync", "--yes")
    assert result.code == 1
    assert "graph" in result.err
    assert writes(sandbox) == []
    assert "failed" in with_schema("history").out


def test_kill_mid_apply_then_rerun_leaves_no_duplicates(
    with_schema: Runner, sandbox: Sandbox
) -> None:
    """A run killed after some creates converges on the rerun with one object per person."""
    created = 0

    def killing(request: httpx.Request) -> httpx.Response:
        nonlocal created
        if request.method == "POST" and request.url.path.endswith("/object/create"):
            created += 1
            if created > 10:
                raise KeyboardInterrupt
        return sandbox.handle(request)

    killed = with_schema("sync", "--yes", transport=httpx.MockTransport(killing))
    assert killed.code == 130
    assert 0 < len(sandbox.employees()) < EXPECTED_FIRST_COUNTS["creates"]
    assert "interrupted" in with_schema("history").out
    assert with_schema("sync", "--yes").code == 0
    ids = [e["attributes"][Attr.ENTRA_USER_ID.value] for e in sandbox.employees()]
    assert len(ids) == EXPECTED_FIRST_COUNTS["creates"] == len(set(ids))
    assert with_schema("preview", "--json").json()["counts"]["updates"] == 0


def test_directory_changes_are_previewed_and_applied(with_schema: Runner, sandbox: Sandbox) -> None:
    """A leaver is inactivated, a promotion updates the title, a hire is created."""
    assert with_schema("sync", "--yes").code == 0
    people = [
        e["attributes"] for e in sandbox.employees() if e["attributes"][Attr.ACTIVE.value] == "true"
    ]
    leaver, promoted = people[0], people[1]
    sandbox.disable_user(leaver[Attr.ENTRA_USER_ID.value])
    sandbox.set_job_title(promoted[Attr.ENTRA_USER_ID.value], "Head of Platform")
    sandbox.hire(
        "Grace Hopper", "Engineering", "Staff Engineer", promoted[Attr.ENTRA_USER_ID.value]
    )
    plan = with_schema("preview", "--json").json()
    assert plan["counts"]["creates"] == 1
    assert plan["counts"]["inactivations"] == 1
    assert plan["plan"]["inactivations"][0]["reason"] == "directory account disabled"
    titles = [c for u in plan["plan"]["updates"] for c in u["changes"]]
    assert {
        "attr": "Job Title",
        "before": promoted[Attr.JOB_TITLE.value],
        "after": "Head of Platform",
    } in titles
    assert with_schema("sync", "--yes").code == 0
    hired = [
        e["attributes"]
        for e in sandbox.employees()
        if e["attributes"][Attr.FULL_NAME.value] == "Grace Hopper"
    ]
    assert (
        hired
        and hired[0][Attr.MANAGER_ACCOUNT_ID.value] == promoted[Attr.ATLASSIAN_ACCOUNT_ID.value]
    )


def test_status_shows_last_manual_sync(with_schema: Runner) -> None:
    """Status names the last manual sync and recent history after a sync."""
    assert with_schema("sync", "--yes").code == 0
    out = with_schema("status").out
    assert "Last manual sync:    #" in out
    assert "Last scheduled sync: never" in out


def test_sync_without_yes_and_without_terminal_applies_nothing(
    with_schema: Runner, sandbox: Sandbox
) -> None:
    """Scripts must say --yes: without it and without a terminal nothing is read or applied."""
    sandbox.request_log.clear()
    result = with_schema("sync")
    assert result.code == 2
    assert "refusing to apply without --yes" in result.err
    assert sandbox.request_log == []


# Seed 7, 60 people, 45 Atlassian accounts: 43 active accounts, of which 5 are unmatched
# (one hidden unmanaged email, one ambiguous email, one with no directory user, and the
# two case-variant duplicates), so 38 Employees are created; disabled users included.
EXPECTED_FIRST_COUNTS = {
    "creates": 38,
    "updates": 0,
    "inactivations": 0,
    "unmatched": 5,
    "missing_managers": 17,
    "warnings": 3,
}


def test_one_failed_write_does_not_stop_the_run(with_schema: Runner, sandbox: Sandbox) -> None:
    """A rejected create is reported with its reason; the rest apply; a rerun finishes it.

    Managers are created first, so the rejected create is a manager's: the references
    its reports could not be given are reported with it.
    """
    sandbox.add_fault(
        Fault(service="assets", method="POST", path_contains="object/create", status=400, times=1)
    )
    result = with_schema("sync", "--yes")
    assert result.code == 1
    failures = [line.strip() for line in result.out.split("changes failed:")[1].splitlines()]
    (rejected,) = [line for line in failures if line.startswith("create ")]
    assert "HTTP 400" in rejected
    references = [line for line in failures if line and line is not rejected]
    assert references
    assert all(line.endswith(": the manager's Employee does not exist") for line in references)
    assert f"failed {1 + len(references)}" in result.out
    assert f"{1 + len(references)} changes failed" in result.out
    assert len(sandbox.employees()) == EXPECTED_FIRST_COUNTS["creates"] - 1
    assert "partial" in with_schema("history").out
    assert with_schema("sync", "--yes").code == 0
    assert len(sandbox.employees()) == EXPECTED_FIRST_COUNTS["creates"]


def test_preview_csv_has_every_row(with_schema: Runner, workdir: Path) -> None:
    """--csv writes one row per field of every create, and every finding."""
    assert with_schema("preview", "--csv", "plan.csv").code == 0
    with (workdir / "plan.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    sections = Counter(row["section"] for row in rows)
    creates = {row["id"] for row in rows if row["section"] == "create"}
    assert len(creates) == EXPECTED_FIRST_COUNTS["creates"]
    assert sections["unmatched"] == EXPECTED_FIRST_COUNTS["unmatched"]
    assert sections["missing_manager"] == EXPECTED_FIRST_COUNTS["missing_managers"]
    assert sections["warning"] == EXPECTED_FIRST_COUNTS["warnings"]
