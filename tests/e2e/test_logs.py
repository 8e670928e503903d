"""What the command line logs when asked: one line a run, as JSON, and never a secret.

``ENTRA_SYNC_LOG_LEVEL=debug`` is the most a person can ask for; even then no client
secret, API token, org key, Fernet key, access token or person's email reaches the log
(httpx logs Graph URLs with emails, SQLAlchemy its SQL parameters: both are held back).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from core.sandbox import (
    SANDBOX_ATLASSIAN_API_TOKEN,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_ORG_API_KEY,
    Sandbox,
)

from .conftest import Runner, configure_connection

KEY = Fernet.generate_key().decode()


def json_lines(stderr: str) -> list[dict[str, Any]]:
    """The log records; progress lines ("... Reading") are the command's own output."""
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


@pytest.fixture
def logged(configured: Runner, monkeypatch: pytest.MonkeyPatch) -> Runner:
    monkeypatch.setenv("ENTRA_SYNC_LOG_LEVEL", "debug")
    monkeypatch.setenv("ENTRA_SYNC_LOG_FORMAT", "json")
    return configured


def test_each_run_is_one_json_line_with_id_kind_actor_counts_and_time(logged: Runner) -> None:
    assert logged("schema").code == 0
    result = logged("sync", "--yes")
    assert result.code == 0, result.err
    records = json_lines(result.err)
    finished = [r for r in records if r.get("status") == "succeeded"]
    assert len(finished) == 1
    (run,) = finished
    assert run["run_kind"] == "manual"
    assert run["actor"].startswith("cli:")
    assert isinstance(run["run_id"], int)
    assert run["counts"]["creates"] > 0
    assert run["requests"]["assets"] > 0
    assert run["seconds"] >= 0
    assert run["level"] == "info"
    assert f"run #{run['run_id']} manual" in run["message"]
    started = [r for r in records if r["message"].endswith("started")]
    assert [r["run_id"] for r in started] == [run["run_id"]]


def test_a_failed_run_is_logged_as_a_warning_with_its_cause(
    logged: Runner, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert logged("schema").code == 0
    monkeypatch.setenv("ENTRA_SYNC_ATLASSIAN_API_TOKEN", "a-revoked-token")
    result = logged("preview")
    assert result.code != 0
    (failed,) = [r for r in json_lines(result.err) if r.get("status") == "failed"]
    assert failed["level"] == "warning"
    assert failed["cause"]
    assert failed["error"]
    assert "a-revoked-token" not in result.err


def test_no_secret_and_no_email_reaches_the_log_even_at_debug(
    cli: Runner, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, workdir: Path
) -> None:
    monkeypatch.setenv("ENTRA_SYNC_SECRET_KEY", KEY)
    monkeypatch.setenv("ENTRA_SYNC_LOG_LEVEL", "debug")
    monkeypatch.setenv("ENTRA_SYNC_LOG_FORMAT", "text")
    outputs = [
        cli(
            "configure",
            "--tenant-id",
            "0f1c2d3e-4a5b-4c6d-8e9f-a0b1c2d3e4f5",
            "--client-id",
            "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d",
            "--cadence-days",
            "7",
            stdin="a-wrong-secret-do-not-log\n",
        )
    ]
    outputs.append(cli("preview"))  # the sign-in fails with that secret
    outputs.append(configure_connection(cli))
    outputs += [cli("schema"), cli("sync", "--yes"), cli("preview", "--json"), cli("status")]
    assert [o.code for o in outputs] == [0, 2, 0, 0, 0, 0, 0], [o.err for o in outputs]
    log = "\n".join(o.err for o in outputs)
    with sqlite3.connect(workdir / "sync.db") as database:
        (stored,) = database.execute(
            "SELECT client_secret_encrypted FROM entra_connection"
        ).fetchone()
    assert " INFO core.runs.active: run #" in log  # the capture sees the log at all
    secrets = {
        SANDBOX_CLIENT_SECRET,
        "a-wrong-secret-do-not-log",
        SANDBOX_ATLASSIAN_API_TOKEN,
        SANDBOX_ORG_API_KEY,
        KEY,
        stored,  # SQLAlchemy would log it among the parameters of its SQL
    }
    for secret in secrets:
        assert secret not in log
    for user in sandbox.org.users:
        assert user.mail is None or user.mail not in log
    for account in sandbox.org.accounts:
        assert account.email is None or account.email not in log
    assert "Bearer" not in log and "Basic " not in log
