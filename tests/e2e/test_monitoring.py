"""Monitoring without Slack: --version, status and history as JSON, and status --check."""

from __future__ import annotations

import json
from typing import Any

import pytest

from core.cli import main
from core.cli.main import open_service
from core.config import TeamSettings
from core.sandbox import SANDBOX_ATLASSIAN_API_TOKEN
from core.version import version

from .conftest import Runner


def test_version_prints_the_release(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"entra-assets-sync {version()}\n"


def test_status_names_the_version(cli: Runner) -> None:
    assert f"Version: entra-assets-sync {version()}" in cli("status").out


def test_status_json_holds_the_runs_and_never_the_secret(with_schema: Runner) -> None:
    assert with_schema("sync", "--yes").code == 0
    result = with_schema("status", "--json")
    assert result.code == 0, result.err
    body = json.loads(result.out)
    assert body["version"] == version()
    assert body["ok"] is True
    assert body["problems"] == []
    assert body["connection"]["has_secret"] is True
    assert "secret" not in {key for key in body["connection"] if key != "has_secret"}
    manual = body["last_manual"]
    assert manual["kind"] == "manual"
    assert manual["status"] == "succeeded"
    assert manual["counts"]["creates"] > 0
    assert manual["seconds"] >= 0
    assert body["last_scheduled"] is None
    assert body["schedule"]["due"] is True
    assert body["schedule"]["next_check"]
    assert body["running"] == []


def test_history_json_lists_runs_newest_first(with_schema: Runner) -> None:
    assert with_schema("preview").code == 0
    assert with_schema("sync", "--yes").code == 0
    runs = json.loads(with_schema("history", "--json", "--limit", "5").out)["runs"]
    assert [run["kind"] for run in runs] == ["manual", "preview"]
    assert runs[0]["id"] > runs[1]["id"]
    assert runs[0]["requests"]["assets"] > 0
    assert runs[0]["started_at"].endswith("+00:00")


def check_status(cli: Runner) -> tuple[int, dict[str, Any], str]:
    result = cli("status", "--check", "--json")
    return result.code, json.loads(result.out), result.err


def test_check_exits_1_on_a_failed_scheduled_run_and_on_quarantine(
    with_schema: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = with_schema
    assert cli("sync", "--yes").code == 0  # a person applied the first sync
    service = open_service(None)
    service.save_team_settings(TeamSettings("C0REPORTS", ("U0APPROVER",)), "test")
    service.close()
    assert cli("status", "--check").code == 0  # no scheduled run yet: nothing to report

    monkeypatch.setenv("ENTRA_SYNC_ATLASSIAN_API_TOKEN", "a-revoked-token")
    assert cli("check").code == 1
    code, body, err = check_status(cli)
    assert code == 1
    assert body["ok"] is False
    (problem,) = body["problems"]
    run_id = body["last_scheduled"]["id"]
    assert f"run #{run_id}, failed (authentication)" in problem
    assert err == f"problem: {problem}\n"
    assert cli("status").code == 0  # without --check, status only reports

    assert cli("check").code == 1
    assert cli("check").code == 1  # the third failure in a row: quarantined
    code, body, err = check_status(cli)
    assert code == 1
    assert len(body["problems"]) == 2
    assert body["schedule"]["quarantined"] == "authentication"
    assert "quarantined" in err

    monkeypatch.setenv("ENTRA_SYNC_ATLASSIAN_API_TOKEN", SANDBOX_ATLASSIAN_API_TOKEN)
    assert cli("check").code == 0
    code, body, err = check_status(cli)
    assert (code, body["problems"], err) == (0, [], "")


def test_a_held_scheduled_run_is_not_a_failure(with_schema: Runner) -> None:
    """The first scheduled sync waits for a person: status --check stays 0."""
    assert with_schema("check").code == 3
    code, body, _ = check_status(with_schema)
    assert code == 0
    assert body["last_scheduled"]["status"] == "held"
