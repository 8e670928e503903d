"""``entra-sync check-connection``: one line a step, exit 0 when every credential works."""

from __future__ import annotations

import pytest

from core.sandbox import SANDBOX_ATLASSIAN_SCOPED_TOKEN, Fault, Sandbox

from .conftest import Runner

STEPS = (
    "Microsoft sign-in",
    "Microsoft Graph",
    "Jira users",
    "Assets workspace",
    "Assets schemas",
    "Atlassian organization",
)


def lines(out: str) -> dict[str, str]:
    """Each step's line, by step name (the word before it says how the step went)."""
    found = {}
    for line in out.splitlines():
        status, _, rest = line.partition(" ")
        name = next(step for step in STEPS if rest.lstrip().startswith(step))
        found[name] = f"{status} {rest.lstrip()}"
    assert list(found) == list(STEPS)
    return found


def test_every_step_passes_exit_0(configured: Runner) -> None:
    result = configured("check-connection")
    assert result.code == 0, result.out + result.err
    assert all(line.startswith("ok ") for line in lines(result.out).values())
    assert result.err == ""


def test_a_failed_step_exits_1_and_names_the_fix(configured: Runner, sandbox: Sandbox) -> None:
    sandbox.revoke_browse_users()
    result = configured("check-connection")
    assert result.code == 1
    found = lines(result.out)
    assert found["Jira users"].startswith("FAILED Jira users: ")
    assert "Browse users and groups" in found["Jira users"]
    assert found["Assets schemas"].startswith("ok ")


def test_a_scoped_token_on_the_site_skips_the_assets_steps(
    configured: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENTRA_SYNC_ATLASSIAN_API_TOKEN", SANDBOX_ATLASSIAN_SCOPED_TOKEN)
    result = configured("check-connection")
    assert result.code == 1
    found = lines(result.out)
    assert "ENTRA_SYNC_ATLASSIAN_TOKEN_KIND=scoped" in found["Jira users"]
    assert found["Assets workspace"] == "skipped Assets workspace (an earlier step failed)"
    assert SANDBOX_ATLASSIAN_SCOPED_TOKEN not in result.out


def test_with_a_scoped_token_every_step_passes(
    configured: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENTRA_SYNC_ATLASSIAN_API_TOKEN", SANDBOX_ATLASSIAN_SCOPED_TOKEN)
    monkeypatch.setenv("ENTRA_SYNC_ATLASSIAN_TOKEN_KIND", "scoped")
    result = configured("check-connection")
    assert result.code == 0, result.out
    assert "through the gateway" in lines(result.out)["Jira users"]


def test_graph_refused_exits_1_naming_the_permission(configured: Runner, sandbox: Sandbox) -> None:
    sandbox.add_fault(Fault(service="graph", status=403))
    result = configured("check-connection")
    assert result.code == 1
    assert "User.Read.All" in lines(result.out)["Microsoft Graph"]


def test_a_refused_org_key_exits_1_naming_the_key(
    configured: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENTRA_SYNC_ATLASSIAN_ORG_API_KEY", "not-the-key")
    result = configured("check-connection")
    assert result.code == 1
    org = lines(result.out)["Atlassian organization"]
    assert org.startswith("FAILED ")
    assert "ENTRA_SYNC_ATLASSIAN_ORG_API_KEY" in org
    assert "not-the-key" not in result.out


def test_before_configure_the_sign_in_says_so_and_atlassian_is_still_tried(cli: Runner) -> None:
    result = cli("check-connection")
    assert result.code == 1
    found = lines(result.out)
    assert found["Microsoft sign-in"].startswith("FAILED ")
    assert found["Microsoft Graph"].startswith("skipped ")
    assert found["Jira users"].startswith("ok ")
